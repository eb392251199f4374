//! calgate-sim's Graph side, driven over HTTPS by unmodified O365 for Python and by
//! calgate-graph's own request writers and response readers; every answer is compared with the
//! simulator's ground truth (the tenant's mailboxes).

use std::process::Command;
use std::time::Duration;

use calgate_core::{Availability, BusyType, CalendarEvent, OutOfOffice};
use calgate_graph::schedule::status_name;
use calgate_graph::{ErrorAction, GetMailTips, GetSchedule, ScheduleLimit, ServiceError, UserPage};
use calgate_sim::{Running, SimConfig};
use calgate_testkit::sim_people;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const SECRET: &str = "graph-test-client-secret";

async fn start_sim(people: usize) -> Running {
    let config = SimConfig {
        people,
        seed: 9,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    };
    calgate_sim::spawn(config).await.expect("simulator starts")
}

pub(crate) fn https_client(running: &Running) -> reqwest::Client {
    let ca = running
        .urls
        .ca_cert_pem_path
        .as_ref()
        .expect("simulator runs with TLS");
    let pem = std::fs::read(ca).expect("CA readable");
    let certs = reqwest::Certificate::from_pem_bundle(&pem).expect("CA is PEM");
    reqwest::Client::builder()
        .tls_certs_merge(certs)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// An app-only Graph token from the simulator's Entra endpoint (client credentials).
pub(crate) async fn app_token(client: &reqwest::Client, running: &Running) -> String {
    let config = SimConfig::default();
    let response = client
        .post(format!("{}/oauth2/v2.0/token", running.urls.authority))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status();
    let body: Value = response.json().await.expect("token answer is JSON");
    assert!(status.is_success(), "token request failed: {status} {body}");
    body["access_token"]
        .as_str()
        .expect("access_token present")
        .to_owned()
}

/// A delegated Graph token for the service account (password grant) with the given scopes.
pub(crate) async fn user_token(client: &reqwest::Client, running: &Running, scope: &str) -> String {
    let config = SimConfig::default();
    let (upn, password) = config.service_account.clone().expect("service account");
    let response = client
        .post(format!("{}/oauth2/v2.0/token", running.urls.authority))
        .form(&[
            ("grant_type", "password"),
            ("client_id", config.client_id.as_str()),
            ("username", upn.as_str()),
            ("password", password.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status();
    let body: Value = response.json().await.expect("token answer is JSON");
    assert!(status.is_success(), "token request failed: {status} {body}");
    body["access_token"]
        .as_str()
        .expect("access_token present")
        .to_owned()
}

/// A window on whole hours around now, where the generated tenant has its events.
fn window() -> (Timestamp, Timestamp) {
    let now = Timestamp::now().as_second();
    let start = Timestamp::from_second(now - now.rem_euclid(3600) - 2 * 3600).expect("ts");
    (start, start + SignedDuration::from_hours(10))
}

fn event(start: Timestamp, from_h: f64, to_h: f64, busy: BusyType) -> CalendarEvent {
    let at = |h: f64| start + SignedDuration::from_secs_f64(h * 3600.0);
    CalendarEvent::new(at(from_h), at(to_h), busy)
}

/// Scripts four mailboxes through the control API (whatever the generator made for them is
/// replaced) so that every status, privacy, the detail levels and the window's edges are
/// exercised: detailed, detailed, times only, no access.
async fn script(client: &reqwest::Client, running: &Running, start: Timestamp) -> Vec<String> {
    let emails: Vec<String> = running
        .state
        .tenant()
        .people
        .iter()
        .take(4)
        .map(|p| p.email.clone())
        .collect();
    let mut standup = event(start, 1.0, 1.5, BusyType::Busy);
    standup.subject = Some("Standup".into());
    standup.location = Some("Room 1".into());
    standup.is_meeting = true;
    standup.is_recurring = true;
    let mut doctor = event(start, 5.0, 6.0, BusyType::Busy);
    doctor.subject = Some("Doctor".into());
    doctor.location = Some("Clinic".into());
    doctor.is_private = true;
    let mut home = event(start, 2.0, 3.0, BusyType::WorkingElsewhere);
    home.subject = Some("Home office".into());
    let scripted = [
        (
            "detailed",
            vec![
                standup,
                event(start, 3.0, 4.0, BusyType::Tentative),
                doctor,
                event(start, 20.0, 21.0, BusyType::Busy),
            ],
        ),
        ("detailed", vec![event(start, -3.0, -1.0, BusyType::Busy)]),
        (
            "free_busy",
            vec![event(start, -24.0, 48.0, BusyType::Oof), home],
        ),
        ("none", vec![event(start, 1.0, 2.0, BusyType::Busy)]),
    ];
    for (email, (access, events)) in emails.iter().zip(scripted) {
        let body: Vec<Value> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "start": e.start, "end": e.end, "busy_type": e.busy_type,
                    "subject": e.subject, "location": e.location, "private": e.is_private,
                    "recurring": e.is_recurring, "meeting": e.is_meeting,
                })
            })
            .collect();
        let r = client
            .put(format!(
                "{}/mailboxes/{email}/events",
                running.urls.control_url
            ))
            .json(&body)
            .send()
            .await
            .expect("control API answers");
        assert!(r.status().is_success(), "scripting {email}: {}", r.status());
        let r = client
            .put(format!(
                "{}/mailboxes/{email}/access",
                running.urls.control_url
            ))
            .json(&serde_json::json!({ "free_busy_access": access }))
            .send()
            .await
            .expect("control API answers");
        assert!(r.status().is_success(), "access of {email}: {}", r.status());
    }
    emails
}

/// What Graph must answer for a mailbox, from the control API's ground truth.
#[derive(Debug, PartialEq)]
enum Truth {
    /// The events inside the window as the caller may see them: private ones and those of
    /// times-only calendars without subject and location, none with the all-day flag Graph
    /// does not carry.
    Events(Vec<CalendarEvent>),
    /// The calendar shares nothing (`ErrorNoFreeBusyAccess`).
    NoAccess,
}

async fn ground_truth(
    client: &reqwest::Client,
    running: &Running,
    start: Timestamp,
    end: Timestamp,
) -> std::collections::HashMap<String, Truth> {
    let control = &running.urls.control_url;
    let get = |url: String| async move {
        client
            .get(url)
            .send()
            .await
            .expect("control API answers")
            .json::<Value>()
            .await
            .expect("control API speaks JSON")
    };
    let people = get(format!("{control}/people")).await;
    let mut truth = std::collections::HashMap::new();
    for person in people.as_array().expect("people array") {
        let email = person["email"].as_str().expect("email").to_owned();
        let access = person["free_busy_access"].as_str().expect("access");
        if access == "none" {
            truth.insert(email, Truth::NoAccess);
            continue;
        }
        let events = get(format!("{control}/mailboxes/{email}/events")).await;
        let seen: Vec<CalendarEvent> = events
            .as_array()
            .expect("events array")
            .iter()
            .map(|e| {
                let instant = |k: &str| -> Timestamp {
                    e[k].as_str().and_then(|s| s.parse().ok()).expect("instant")
                };
                let flag = |k: &str| e[k].as_bool().unwrap_or(false);
                let text = |k: &str| e[k].as_str().map(str::to_owned);
                let details = access == "detailed" && !flag("private");
                CalendarEvent {
                    start: instant("start"),
                    end: instant("end"),
                    busy_type: serde_json::from_value(e["busy_type"].clone()).expect("busy type"),
                    subject: text("subject").filter(|_| details).map(Into::into),
                    location: text("location").filter(|_| details).map(Into::into),
                    is_private: flag("private"),
                    is_all_day: false,
                    is_recurring: flag("recurring"),
                    is_meeting: flag("meeting"),
                }
            })
            .filter(|e| e.start < end && e.end > start)
            .collect();
        truth.insert(email, Truth::Events(seen));
    }
    truth
}

/// The strongest status in a slot, written independently of the simulator's view builder.
/// A slot's `availabilityView` status as Graph writes it today: working elsewhere is folded into
/// free.
fn slot_status(events: &[CalendarEvent], from: Timestamp, to: Timestamp) -> BusyType {
    let order = [
        BusyType::Oof,
        BusyType::NoData,
        BusyType::Busy,
        BusyType::Tentative,
    ];
    order
        .into_iter()
        .find(|b| {
            events
                .iter()
                .any(|e| e.busy_type == *b && e.start < to && e.end > from)
        })
        .unwrap_or(BusyType::Free)
}

fn o365_view_name(b: BusyType) -> &'static str {
    match b {
        BusyType::Free => "free",
        BusyType::Tentative => "tentative",
        BusyType::Busy => "busy",
        BusyType::Oof => "out of office",
        BusyType::WorkingElsewhere => "working elsewhere",
        // O365's own spelling for digits it does not know.
        BusyType::NoData => "unkknown",
    }
}

fn parse_instant(v: &Value) -> Timestamp {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an ISO instant with offset: {v}"))
}

/// Runs the O365 driver (getSchedule on the first person's mailbox for all of `people`) and
/// returns what it printed. O365 sends the window in its protocol zone, Europe/Copenhagen, which
/// it names "Romance Standard Time".
async fn run_o365(
    running: &Running,
    token: &str,
    people: &[String],
    start: Timestamp,
    end: Timestamp,
) -> Value {
    let python = calgate_testkit::python();
    let copenhagen = TimeZone::get("Europe/Copenhagen").expect("tzdb has Copenhagen");
    let local = |t: Timestamp| copenhagen.to_datetime(t).to_string();
    let base = running.urls.graph_url.trim_end_matches("/v1.0").to_owned();
    let script_path =
        calgate_testkit::workspace_root().join("crates/calgate-testkit/python/o365_schedule.py");
    let ca = running.urls.ca_cert_pem_path.clone().expect("TLS");
    let mut args: Vec<String> = vec![
        script_path.display().to_string(),
        "--base".into(),
        base,
        "--resource".into(),
        people[0].clone(),
        "--start".into(),
        local(start),
        "--end".into(),
        local(end),
        "--tz".into(),
        "Europe/Copenhagen".into(),
        "--interval".into(),
        "30".into(),
    ];
    args.extend(people.iter().cloned());
    let token = token.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(&args)
            .env("CALGATE_GRAPH_TOKEN", token)
            .env("REQUESTS_CA_BUNDLE", ca)
            .output()
    })
    .await
    .expect("join")
    .expect("python runs");
    assert!(
        output.status.success(),
        "O365 driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("driver prints JSON")
}

async fn sim_stats(client: &reqwest::Client, running: &Running) -> Value {
    client
        .get(format!("{}/stats", running.urls.control_url))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o365_get_schedule_matches_ground_truth() {
    let running = start_sim(200).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    let scripted = script(&client, &running, start).await;
    let mut people: Vec<String> = running
        .state
        .tenant()
        .people
        .iter()
        .take(19)
        .map(|p| p.email.clone())
        .collect();
    let unknown = format!("nobody@{}", SimConfig::default().domain);
    people.push(unknown.clone());
    assert!(scripted.iter().all(|s| people.contains(s)));

    let result = run_o365(&running, &token, &people, start, end).await;
    let schedules = result["schedules"].as_array().expect("schedules array");
    assert_eq!(schedules.len(), people.len(), "one answer per schedule");

    let truth = ground_truth(&client, &running, start, end).await;
    let people_json: Value = client
        .get(format!("{}/people", running.urls.control_url))
        .send()
        .await
        .expect("control API answers")
        .json()
        .await
        .expect("people JSON");
    let zones: std::collections::HashMap<String, String> = people_json
        .as_array()
        .expect("people array")
        .iter()
        .filter_map(|p| {
            Some((
                p["email"].as_str()?.to_owned(),
                p["time_zone"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let slots = (end.as_second() - start.as_second()) / 1800;
    let mut items_seen = 0;
    let mut no_access = 0;
    for (email, s) in people.iter().zip(schedules) {
        assert_eq!(s["scheduleId"].as_str(), Some(email.as_str()));
        if *email == unknown {
            assert_eq!(s["error"]["responseCode"], "ErrorMailRecipientNotFound");
            assert!(s.get("scheduleItems").is_none());
            continue;
        }
        let truth = match truth.get(email) {
            Some(Truth::Events(events)) => events,
            Some(Truth::NoAccess) => {
                assert_eq!(
                    s["error"]["responseCode"], "ErrorNoFreeBusyAccess",
                    "{email}"
                );
                no_access += 1;
                continue;
            }
            None => panic!("{email} is not in the control API's directory"),
        };
        let items = s["scheduleItems"].as_array().expect("items");
        assert_eq!(items.len(), truth.len(), "{email}: item count");
        items_seen += items.len();
        for (item, want) in items.iter().zip(truth) {
            assert_eq!(parse_instant(&item["start"]), want.start, "{email}");
            assert_eq!(parse_instant(&item["end"]), want.end, "{email}");
            assert_eq!(
                item["status"].as_str(),
                Some(status_name(want.busy_type)),
                "{email}"
            );
            assert_eq!(item["subject"].as_str(), want.subject.as_deref(), "{email}");
            assert_eq!(
                item["location"].as_str(),
                want.location.as_deref(),
                "{email}"
            );
            assert_eq!(
                item["isPrivate"].as_bool(),
                Some(want.is_private),
                "{email}"
            );
        }
        let view: Vec<&str> = s["availabilityView"]
            .as_array()
            .expect("O365 turns the view into a list of names")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let want: Vec<&str> = (0..slots)
            .map(|i| {
                let from = start + SignedDuration::from_mins(30 * i);
                o365_view_name(slot_status(
                    truth,
                    from,
                    from + SignedDuration::from_mins(30),
                ))
            })
            .collect();
        assert_eq!(view, want, "{email}: availabilityView");
        let hours = &s["workingHours"];
        assert_eq!(
            hours["timeZone"]["name"].as_str(),
            zones.get(email).map(String::as_str),
            "{email}: working-hours zone"
        );
        assert!(hours["startTime"].as_str().is_some_and(|t| t.len() >= 5));
    }
    // The scripted mailboxes alone carry 5 items; the private one came without its details,
    // the times-only calendar without any.
    assert!(items_seen >= 5, "only {items_seen} items seen");
    assert!(no_access >= 1);
    let first = &schedules[0]["scheduleItems"];
    assert_eq!(first[0]["subject"], "Standup");
    assert_eq!(first[2]["isPrivate"], true);
    assert!(first[2].get("subject").is_none());
    let times_only = &schedules[2]["scheduleItems"];
    assert_eq!(times_only[1]["status"], "workingElsewhere");
    assert!(times_only[1].get("subject").is_none());
    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["requests"]["graph.getSchedule"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calgate_graph_round_trips_200_mailboxes() {
    let running = start_sim(200).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    script(&client, &running, start).await;

    // The directory, through `$top` paging.
    let mut addresses = Vec::new();
    let mut ids = Vec::new();
    let mut next = Some(format!("{}/users?$top=64", running.urls.graph_url));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let body = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("users answers")
            .bytes()
            .await
            .expect("body");
        let page = UserPage::read(&body).expect("page reads");
        for user in page.value.unwrap_or_default() {
            // Accounts the directory lists without a mail address are not asked for.
            if let (Some(mail), Some(id)) = (user.mail, user.id) {
                addresses.push(mail);
                ids.push(id);
            }
        }
        next = page.next_link;
        pages += 1;
    }
    assert_eq!(pages, 4, "200 people in pages of 64");
    let directory: Vec<String> = running
        .state
        .tenant()
        .people
        .iter()
        .filter(|p| p.directory.mail_listed)
        .map(|p| p.email.clone())
        .collect();
    assert_eq!(addresses, directory);

    let fetched_at = Timestamp::now();
    let mut results: Vec<Availability> = Vec::new();
    assert_eq!(ids.len(), directory.len());
    // The mailbox the call is made on is named by its directory id, as Graph allows.
    for (batch, on) in addresses.chunks(20).zip(ids.iter().step_by(20)) {
        let request = GetSchedule::new(batch.to_vec(), start, end, 15, ScheduleLimit::default())
            .expect("valid request");
        let response = client
            .post(format!(
                "{}/users/{on}/calendar/getSchedule",
                running.urls.graph_url
            ))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(request.to_json())
            .send()
            .await
            .expect("getSchedule answers");
        assert_eq!(response.status(), 200);
        let body = response.bytes().await.expect("body");
        results.extend(
            request
                .read_response(&body, fetched_at)
                .expect("answer reads"),
        );
    }
    assert_eq!(results.len(), directory.len());
    let truth = ground_truth(&client, &running, start, end).await;
    let mut events = 0;
    let mut no_access = 0;
    for (a, email) in results.iter().zip(&addresses) {
        assert_eq!(&a.mailbox, email);
        match truth.get(email) {
            Some(Truth::Events(want)) => {
                assert_eq!(a.error, None, "{email}");
                assert_eq!(&a.events, want, "{email}");
            }
            Some(Truth::NoAccess) => {
                let code = a.error.as_ref().map(|e| e.code.as_str());
                assert_eq!(code, Some("GRAPH_ERROR_NO_FREE_BUSY_ACCESS"), "{email}");
                assert!(a.events.is_empty());
                no_access += 1;
                continue;
            }
            None => panic!("{email} is not in the control API's directory"),
        }
        let person_hours = running
            .state
            .tenant()
            .person(email)
            .map(|p| p.working_hours.clone());
        assert_eq!(a.working_hours.as_deref(), person_hours.as_ref(), "{email}");
        events += a.events.len();
    }
    assert!(events >= 4, "only {events} events");
    assert!(no_access >= 1);
    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["requests"]["graph.getSchedule"], 10);
    assert_eq!(stats["requests"]["graph.users"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_refusals_limits_and_time_zones() {
    let running = start_sim(120).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    script(&client, &running, start).await;
    let truth = ground_truth(&client, &running, start, end).await;
    let people: Vec<String> = sim_people(&running);
    let url = format!(
        "{}/users/{}/calendar/getSchedule",
        running.urls.graph_url, people[0]
    );
    let body_for = |n: usize, limit: usize| {
        GetSchedule::new(
            people[..n].to_vec(),
            start,
            end,
            30,
            ScheduleLimit::new(limit).expect("limit"),
        )
        .expect("valid")
    };

    // No token, a malformed token: 401 with Graph's body; the engine refreshes once.
    for auth in [None, Some("Bearer not-a-jwt")] {
        let mut req = client.post(&url).body(body_for(1, 20).to_json());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.expect("answers");
        assert_eq!(r.status(), 401);
        assert!(r.headers().contains_key("www-authenticate"));
        let e = ServiceError::read(401, None, &r.bytes().await.expect("body"));
        assert_eq!(e.graph_code.as_deref(), Some("InvalidAuthenticationToken"));
        assert!(e.request_id.is_some());
        assert_eq!(e.action(false), ErrorAction::RefreshToken);
    }

    // A delegated token without a calendar permission: 403, and retrying cannot help.
    let weak = user_token(&client, &running, "https://graph.microsoft.com/User.Read").await;
    let r = client
        .post(&url)
        .bearer_auth(&weak)
        .body(body_for(1, 20).to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 403);
    let e = ServiceError::read(403, None, &r.bytes().await.expect("body"));
    assert_eq!(e.graph_code.as_deref(), Some("ErrorAccessDenied"));
    assert_eq!(e.action(false), ErrorAction::PermissionMissing);
    // With Calendars.ReadBasic the same user may ask on its own mailbox (/me).
    let delegated = user_token(
        &client,
        &running,
        "https://graph.microsoft.com/Calendars.ReadBasic",
    )
    .await;
    let request = body_for(5, 20);
    let r = client
        .post(format!(
            "{}/me/calendar/getSchedule",
            running.urls.graph_url
        ))
        .bearer_auth(&delegated)
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let avs = request
        .read_response(&r.bytes().await.expect("body"), Timestamp::now())
        .expect("reads");
    assert_eq!(avs.len(), 5);

    // 21 schedules exceed Graph's 20; 100 pass once the simulator allows them.
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .body(body_for(21, 100).to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 400);
    let put = |body: Value| {
        client
            .put(format!("{}/graph", running.urls.control_url))
            .json(&body)
            .send()
    };
    let r = put(serde_json::json!({"schedule_limit": 101}))
        .await
        .expect("answers");
    assert_eq!(r.status(), 422);
    let r = put(serde_json::json!({"schedule_limit": 100}))
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let now: Value = r.json().await.expect("settings JSON");
    assert_eq!(now["schedule_limit"], 100);
    assert_eq!(
        now["max_concurrency_per_mailbox"], 4,
        "other fields keep their values"
    );
    let request = body_for(100, 100);
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let avs = request
        .read_response(&r.bytes().await.expect("body"), Timestamp::now())
        .expect("reads");
    assert_eq!(avs.len(), 100);
    for a in &avs {
        let refused = matches!(truth.get(&a.mailbox), Some(Truth::NoAccess));
        assert_eq!(a.error.is_some(), refused, "{}", a.mailbox);
    }

    // Window and interval limits.
    let mut wire = body_for(1, 20).body();
    wire.end_time =
        calgate_graph::DateTimeTimeZone::request_utc(start + SignedDuration::from_hours(24 * 62));
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .json(&wire)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 400, "a 62-day window is refused");
    // Graph's limit is its own: EWS's 42 days in the shared policy do not shorten it.
    let mut policy = running.state.policy();
    policy.max_window_days = 42;
    running.state.set_policy(policy).expect("policy applies");
    let mut wire = body_for(1, 20).body();
    wire.end_time =
        calgate_graph::DateTimeTimeZone::request_utc(start + SignedDuration::from_hours(24 * 61));
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .json(&wire)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200, "a 61-day window is served");
    let mut wire = body_for(1, 20).body();
    wire.availability_view_interval = Some(4);
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .json(&wire)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 400, "a 4-minute interval is refused");

    // Prefer: outlook.timezone answers in that zone; the instants are the same.
    let request = body_for(3, 20);
    let r = client
        .post(&url)
        .bearer_auth(&token)
        .header("prefer", "outlook.timezone=\"Tokyo Standard Time\"")
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.expect("body");
    let raw: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        raw["value"][0]["scheduleItems"][0]["start"]["timeZone"],
        "Tokyo Standard Time"
    );
    let avs = request
        .read_response(&body, Timestamp::now())
        .expect("reads");
    assert_eq!(
        truth.get(&people[0]),
        Some(&Truth::Events(avs[0].events.clone()))
    );

    // An IANA name is accepted too; a zone nobody knows is refused.
    for (zone, status) in [("Asia/Tokyo", 200), ("Atlantis Standard Time", 400)] {
        let r = client
            .post(&url)
            .bearer_auth(&token)
            .header("prefer", format!("outlook.timezone=\"{zone}\""))
            .body(request.to_json())
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), status, "{zone}");
    }

    // Automatic replies: set for one person, absent for another, an unknown address errs.
    let oof = OutOfOffice {
        message: Some("<p>Away until Monday</p>".into()),
        start: Some(start - SignedDuration::from_hours(24)),
        end: Some(start + SignedDuration::from_hours(72)),
    };
    if let Some(m) = running.state.tenant_mut().mailbox_mut(&people[1]) {
        m.oof = Some(oof.clone());
    }
    if let Some(m) = running.state.tenant_mut().mailbox_mut(&people[2]) {
        m.oof = None;
    }
    let tips = GetMailTips::automatic_replies(vec![
        people[1].clone(),
        people[2].clone(),
        "ghost@nowhere.example".into(),
    ])
    .expect("valid");
    let r = client
        .post(format!(
            "{}/users/{}/getMailTips",
            running.urls.graph_url, people[0]
        ))
        .bearer_auth(&token)
        .body(tips.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let results = tips
        .read_response(&r.bytes().await.expect("body"))
        .expect("reads");
    assert_eq!(results[0].automatic_replies, Ok(Some(oof)));
    assert_eq!(results[1].automatic_replies, Ok(None));
    assert_eq!(
        results[2]
            .automatic_replies
            .as_ref()
            .map_err(|e| e.code.as_str()),
        Err("GRAPH_ERROR_MAIL_RECIPIENT_NOT_FOUND")
    );

    // An unknown mailbox in the path is a 404; /me needs a delegated token.
    let r = client
        .post(format!(
            "{}/users/ghost@nowhere.example/calendar/getSchedule",
            running.urls.graph_url
        ))
        .bearer_auth(&token)
        .body(body_for(1, 20).to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 404);
    let r = client
        .post(format!(
            "{}/me/calendar/getSchedule",
            running.urls.graph_url
        ))
        .bearer_auth(&token)
        .body(body_for(1, 20).to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_sends_fractional_retry_after_and_counts_violations() {
    let running = start_sim(20).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    let people: Vec<String> = sim_people(&running);
    let request = GetSchedule::new(
        people[..5].to_vec(),
        start,
        end,
        30,
        ScheduleLimit::default(),
    )
    .expect("valid");
    let url = format!(
        "{}/users/{}/calendar/getSchedule",
        running.urls.graph_url, people[0]
    );
    let mut policy = running.state.policy();
    policy.busy_every_n_requests = 2;
    policy.busy_backoff_ms = 2500;
    running.state.set_policy(policy).expect("policy applies");
    // Count from here: the token request must not shift the every-second-request pattern.
    running.state.reset_budgets();

    let first = client
        .post(&url)
        .bearer_auth(&token)
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(first.status(), 200);
    let second = client
        .post(&url)
        .bearer_auth(&token)
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(second.status(), 429);
    let retry_after = second
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(retry_after.as_deref(), Some("2.5"));
    let e = ServiceError::read(
        429,
        retry_after.as_deref(),
        &second.bytes().await.expect("body"),
    );
    assert_eq!(e.graph_code.as_deref(), Some("TooManyRequests"));
    assert_eq!(
        e.action(false),
        ErrorAction::RetryAfter(Duration::from_millis(2500))
    );

    // A request inside the advertised 2.5 s is a violation the simulator counts (sent after the
    // answer was read: the simulator forgives requests already on their way, 25 ms).
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let early = client
        .post(&url)
        .bearer_auth(&token)
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(early.status(), 200);
    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["backoff_violations"], 1);
    assert_eq!(stats["outcomes"]["graph.getSchedule"]["throttled"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o365_meets_a_429_once_and_does_not_retry() {
    let running = start_sim(10).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    let people: Vec<String> = running
        .state
        .tenant()
        .people
        .iter()
        .take(3)
        .map(|p| p.email.clone())
        .collect();
    let mut policy = running.state.policy();
    policy.retry_after_s = 2;
    running.state.set_policy(policy).expect("policy applies");
    running.state.reset_budgets();
    let result = run_o365(&running, &token, &people, start, end).await;
    assert_eq!(result["http_error"], 429, "{result}");
    assert_eq!(result["retry_after"], "2");
    // O365 does not retry a POST: one request, no back-off violation (clients.md 4.3).
    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["requests"]["graph.getSchedule"], 1);
    assert_eq!(stats["backoff_violations"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_faults_from_the_policy() {
    let running = start_sim(10).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    let people: Vec<String> = sim_people(&running);
    let request = GetSchedule::new(
        people[..3].to_vec(),
        start,
        end,
        30,
        ScheduleLimit::default(),
    )
    .expect("valid");
    let url = format!(
        "{}/users/{}/calendar/getSchedule",
        running.urls.graph_url, people[0]
    );
    let send = || {
        client
            .post(&url)
            .bearer_auth(&token)
            .body(request.to_json())
            .send()
    };
    let set = |patch: fn(&mut calgate_sim::Policy)| {
        let mut policy = running.state.policy();
        patch(&mut policy);
        running.state.set_policy(policy).expect("policy applies");
    };

    set(|p| p.error_rate = 1.0);
    let r = send().await.expect("answers");
    assert_eq!(r.status(), 500);
    let e = ServiceError::read(500, None, &r.bytes().await.expect("body"));
    assert_eq!(e.code.to_string(), "GRAPH_ERROR_SERVER");
    assert_eq!(e.action(false), ErrorAction::BackOff);

    set(|p| {
        p.error_rate = 0.0;
        p.truncate_rate = 1.0;
    });
    // Over HTTP/2 the cut may reach the client before the headers do.
    let cut = match send().await {
        Err(_) => true,
        Ok(r) => r.status() == 200 && r.bytes().await.is_err(),
    };
    assert!(cut, "a cut body must fail to read");

    set(|p| {
        p.truncate_rate = 0.0;
        p.reset_rate = 1.0;
    });
    let broken = match send().await {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken, "a reset connection yields no body");

    set(|p| p.reset_rate = 0.0);
    let r = send().await.expect("answers");
    let avs = request
        .read_response(&r.bytes().await.expect("body"), Timestamp::now())
        .expect("reads");
    assert_eq!(avs.len(), 3);
    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["outcomes"]["graph.getSchedule"]["fault"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifth_request_in_flight_on_one_mailbox_is_throttled() {
    let running = start_sim(10).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (start, end) = window();
    let people: Vec<String> = sim_people(&running);
    let request = GetSchedule::new(
        people[..2].to_vec(),
        start,
        end,
        30,
        ScheduleLimit::default(),
    )
    .expect("valid");
    // Every answer takes 1.5 s, so six requests sent together overlap.
    let mut policy = running.state.policy();
    policy.latency_ms = 1500;
    running.state.set_policy(policy).expect("policy applies");
    let url = format!(
        "{}/users/{}/calendar/getSchedule",
        running.urls.graph_url, people[0]
    );
    let sends = (0..6).map(|_| {
        client
            .post(&url)
            .bearer_auth(&token)
            .body(request.to_json())
            .send()
    });
    let mut statuses: Vec<u16> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.expect("answers").status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 200, 200, 200, 429, 429]);
    // Another mailbox has its own four.
    let other = format!(
        "{}/users/{}/calendar/getSchedule",
        running.urls.graph_url, people[1]
    );
    let r = client
        .post(&other)
        .bearer_auth(&token)
        .body(request.to_json())
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["outcomes"]["graph.getSchedule"]["throttled"], 2);
    assert!(stats["max_in_flight"].as_u64().is_some_and(|n| n >= 4));
}

/// What Microsoft's SDKs send: the simulator's getSchedule takes the PascalCase property names
/// beside camelCase, as Graph does, and answers a body it cannot read in Graph's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_schedule_takes_the_sdks_property_names_and_refuses_in_graphs_words() {
    let running = start_sim(10).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let people = sim_people(&running);
    let url = format!(
        "{}/users/{}/calendar/getSchedule",
        running.urls.graph_url, people[0]
    );
    let (start, end) = window();
    let at = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let post = |body: String| {
        client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let pascal = serde_json::json!({
        "Schedules": [people[1], people[2]],
        "StartTime": {"DateTime": at(start), "TimeZone": "UTC"},
        "EndTime": {"DateTime": at(end), "TimeZone": "UTC"},
        "AvailabilityViewInterval": 60,
    });
    let camel = serde_json::json!({
        "schedules": [people[1], people[2]],
        "startTime": {"dateTime": at(start), "timeZone": "UTC"},
        "endTime": {"dateTime": at(end), "timeZone": "UTC"},
        "availabilityViewInterval": 60,
    });
    let mut answers = Vec::new();
    for body in [pascal, camel] {
        let r = post(body.to_string()).await.expect("answers");
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("json");
        answers.push(v["value"].clone());
    }
    assert_eq!(answers[0], answers[1], "both spellings ask the same");
    assert_eq!(answers[0].as_array().map(Vec::len), Some(2));

    for (body, words) in [
        ("{\"schedules\": [", "Unable to read JSON request payload"),
        (
            "{\"Schedules\": [\"a@x.com\"]}",
            "Required property 'startTime'",
        ),
    ] {
        let r = post(body.to_string()).await.expect("answers");
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"]["code"], "BadRequest", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(words)),
            "{v}"
        );
    }
}

/// Teams presence: `getPresencesByUserId` answers by directory id (default `Available`), takes
/// what the control API sets, leaves out ids the tenant does not know, refuses a 651st id with
/// Graph's 400, needs `Presence.Read.All`, and is counted as `graph.presence`.
#[tokio::test]
async fn get_presences_by_user_id_follows_the_control_api() {
    use calgate_graph::presence::{GetPresences, MAX_PRESENCE_IDS};
    let running = start_sim(5).await;
    let client = https_client(&running);
    let token = app_token(&client, &running).await;
    let (ids, emails): (Vec<String>, Vec<String>) = running
        .state
        .tenant()
        .people
        .iter()
        .map(|p| (p.id.clone(), p.email.clone()))
        .unzip();
    let url = format!(
        "{}/communications/getPresencesByUserId",
        running.urls.graph_url
    );
    let put = client
        .put(format!(
            "{}/mailboxes/{}/presence",
            running.urls.control_url, emails[1]
        ))
        .json(&serde_json::json!({"availability": "Busy", "activity": "InACall"}))
        .send()
        .await
        .expect("control API answers");
    assert_eq!(put.status(), 204);
    let mut asked = ids.clone();
    asked.push("00000000-0000-0000-0000-00000000beef".into());
    let request = GetPresences::new(asked).expect("request");
    let response = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(request.to_json())
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("body");
    let read = request.read_response(&body).expect("readable");
    assert_eq!(read.len(), ids.len(), "the unknown id is left out");
    assert_eq!(
        (
            read[&ids[1]].availability.as_str(),
            read[&ids[1]].activity.as_str()
        ),
        ("Busy", "InACall")
    );
    assert_eq!(read[&ids[0]].availability, "Available");
    assert_eq!(read[&ids[0]].activity, "Available");

    // 651 ids: Graph's 400, in Graph's error body.
    let too_many: Vec<String> = (0..=MAX_PRESENCE_IDS).map(|i| format!("id-{i}")).collect();
    let response = client
        .post(&url)
        .bearer_auth(&token)
        .json(&serde_json::json!({ "ids": too_many }))
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(response.status(), 400);
    let error = ServiceError::read(400, None, &response.bytes().await.expect("body"));
    assert!(error.message.unwrap_or_default().contains("650"));

    // A delegated token with calendar scopes only is refused.
    let delegated = user_token(
        &client,
        &running,
        "https://graph.microsoft.com/Calendars.Read",
    )
    .await;
    let response = client
        .post(&url)
        .bearer_auth(&delegated)
        .json(&serde_json::json!({ "ids": [ids[0]] }))
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(response.status(), 403);

    let stats = sim_stats(&client, &running).await;
    assert_eq!(stats["requests"]["graph.presence"], 3, "{stats}");
}
