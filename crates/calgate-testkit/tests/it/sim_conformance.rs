//! calgate-sim driven by unmodified third-party clients (exchangelib from the test venv) and by
//! raw SOAP over real HTTPS, compared with the simulator's control-API ground truth. Every EWS
//! response body seen in these runs is validated against Microsoft's schema.

use std::process::Stdio;

use calgate_sim::SimConfig;
use calgate_testkit::{
    EwsDocument, python, sim_http_client, spawn_sim, validate_ews, workspace_root,
};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Deserialize;
use serde_json::{Value, json};

const SERVICE_UPN: &str = "attendant@contoso.com";
const SERVICE_PASSWORD: &str = "Attendant-Passw0rd";
const PEOPLE_PASSWORD: &str = "People-Passw0rd";

struct Sim {
    running: calgate_sim::Running,
    http: reqwest::Client,
}

#[derive(Debug, Clone, Deserialize)]
struct PersonJson {
    email: String,
    name: String,
    is_room: bool,
    free_busy_access: String,
}

#[derive(Debug, Clone, Deserialize)]
struct EventJson {
    start: Timestamp,
    end: Timestamp,
    busy_type: String,
    subject: Option<String>,
    location: Option<String>,
    #[serde(default)]
    private: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct Recorded {
    operation: String,
    status: u16,
    body: String,
}

impl Sim {
    async fn start(people: usize, seed: u64, policy: Value) -> Sim {
        let running = spawn_sim(SimConfig {
            people,
            seed,
            ..SimConfig::default()
        })
        .await;
        let http = sim_http_client(&running);
        let sim = Sim { running, http };
        let mut patch = json!({"record_responses": 200});
        if let (Some(p), Some(extra)) = (patch.as_object_mut(), policy.as_object()) {
            p.extend(extra.clone());
        }
        sim.put("/policy", patch).await;
        sim
    }

    fn control(&self, path: &str) -> String {
        format!("{}{path}", self.running.urls.control_url)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let resp = self
            .http
            .get(self.control(path))
            .send()
            .await
            .expect("control GET");
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("control JSON")
    }

    async fn put(&self, path: &str, body: Value) {
        let resp = self
            .http
            .put(self.control(path))
            .json(&body)
            .send()
            .await
            .expect("control PUT");
        assert!(resp.status().is_success(), "PUT {path}: {}", resp.status());
    }

    async fn people(&self) -> Vec<PersonJson> {
        self.get("/people").await
    }

    async fn events(&self, email: &str) -> Vec<EventJson> {
        self.get(&format!("/mailboxes/{email}/events")).await
    }

    async fn stats(&self) -> Value {
        self.get("/stats").await
    }

    /// Validates every recorded response body against the EWS schema; returns the operations seen.
    async fn validate_recorded(&self) -> Vec<(String, u16)> {
        let recorded: Vec<Recorded> = self.get("/responses").await;
        assert!(!recorded.is_empty(), "no response was recorded");
        for r in &recorded {
            if let Err(e) = validate_ews(EwsDocument::Envelope, &r.body) {
                panic!(
                    "{} ({}) does not validate: {e}\n{}",
                    r.operation, r.status, r.body
                );
            }
        }
        recorded
            .iter()
            .map(|r| (r.operation.clone(), r.status))
            .collect()
    }

    /// Runs the exchangelib driver; returns its JSON output.
    async fn exchangelib(&self, password: &str, policy: &str, args: &[&str]) -> Value {
        exchangelib_driver(&self.running, password, policy, args).await
    }

    /// POSTs a raw SOAP body as the service account: status, fault code, body.
    async fn call(&self, body: String) -> (u16, Option<String>, String) {
        let r = self.soap(SERVICE_UPN, SERVICE_PASSWORD, body).await;
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, fault_code(&text), text)
    }

    /// Whether a complete answer arrives (false when the connection breaks before or during the
    /// body, whichever HTTP version the client negotiated).
    async fn body_arrives(&self, body: &str) -> bool {
        let sent = self
            .http
            .post(&self.running.urls.ews_url)
            .basic_auth(SERVICE_UPN, Some(SERVICE_PASSWORD))
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Err(_) => false,
            Ok(r) => r.bytes().await.is_ok(),
        }
    }

    /// POSTs a raw SOAP body with Basic credentials.
    async fn soap(&self, user: &str, password: &str, body: String) -> reqwest::Response {
        self.http
            .post(&self.running.urls.ews_url)
            .basic_auth(user, Some(password))
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .expect("EWS request")
    }
}

fn ews_busy_name(control: &str) -> &'static str {
    match control {
        "free" => "Free",
        "tentative" => "Tentative",
        "busy" => "Busy",
        "oof" => "OOF",
        "working_elsewhere" => "WorkingElsewhere",
        _ => "NoData",
    }
}

/// The documented MergedFreeBusy rule: per interval, the strongest overlapping busy type
/// (OOF > Busy > WorkingElsewhere > Tentative > Free), as the digit 0–4.
fn expected_merged(
    events: &[&EventJson],
    start: Timestamp,
    end: Timestamp,
    minutes: i64,
) -> String {
    let rank = |b: &str| match b {
        "oof" => (4, '3'),
        "busy" => (3, '2'),
        "working_elsewhere" => (2, '4'),
        "tentative" => (1, '1'),
        _ => (0, '0'),
    };
    let step = SignedDuration::from_mins(minutes);
    let mut out = String::new();
    let mut slot = start;
    while slot < end {
        let slot_end = slot.checked_add(step).expect("time");
        let best = events
            .iter()
            .filter(|e| e.start < slot_end && e.end > slot)
            .map(|e| rank(&e.busy_type))
            .max()
            .unwrap_or((0, '0'));
        out.push(best.1);
        slot = slot_end;
    }
    out
}

fn today_utc_midnight() -> Timestamp {
    let date = Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    date.to_datetime(jiff::civil::Time::midnight())
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("midnight")
        .timestamp()
}

fn envelope(version: &str, header_extra: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="{version}"/>{header_extra}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

const UTC_TZ: &str = "<t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone>";

fn gua(tz: &str, emails: &[String], start: &str, end: &str, interval: i64, view: &str) -> String {
    let mut mailboxes = String::new();
    for e in emails {
        mailboxes.push_str(&format!(
            "<t:MailboxData><t:Email><t:Address>{e}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData>"
        ));
    }
    format!(
        "<m:GetUserAvailabilityRequest>{tz}<m:MailboxDataArray>{mailboxes}</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>{start}</t:StartTime><t:EndTime>{end}</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>{interval}</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>{view}</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"
    )
}

fn fault_code(body: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(body).ok()?;
    doc.descendants()
        .find(|n| {
            n.tag_name().name() == "ResponseCode"
                && n.tag_name().namespace() == Some(calgate_ews::ns::ERRORS)
        })
        .and_then(|n| n.text())
        .map(|s| s.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_free_busy_for_150_mailboxes_matches_ground_truth() {
    let sim = Sim::start(400, 11, json!({})).await;
    let people = sim.people().await;
    // Make sure both reduced permission levels appear among the 150.
    sim.put(
        &format!("/mailboxes/{}/access", people[3].email),
        json!({"free_busy_access": "free_busy"}),
    )
    .await;
    let people = sim.people().await;
    // exchangelib raises the whole call for an ErrorNoFreeBusyAccess slot (checked with raw SOAP
    // in the limits test), so mailboxes without access stay out of its list.
    let mut emails: Vec<String> = people
        .iter()
        .filter(|p| p.free_busy_access != "none")
        .take(147)
        .map(|p| p.email.clone())
        .collect();
    for (i, slot) in [10usize, 75, 149].into_iter().enumerate() {
        emails.insert(slot, format!("ghost{i}@contoso.com"));
    }
    assert_eq!(emails.len(), 150);
    let start = today_utc_midnight();
    let end = start.checked_add(48.hours()).expect("end");
    let mut args = vec![
        "freebusy".to_owned(),
        "--start".to_owned(),
        start.to_string(),
        "--end".to_owned(),
        end.to_string(),
        "--tz".to_owned(),
        "Europe/Copenhagen".to_owned(),
        "--view".to_owned(),
        "DetailedMerged".to_owned(),
        "--interval".to_owned(),
        "30".to_owned(),
    ];
    args.extend(emails.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sim.exchangelib(SERVICE_PASSWORD, "failfast", &args).await;
    let views = out["views"]
        .as_array()
        .unwrap_or_else(|| panic!("no views: {out}"));
    assert_eq!(views.len(), 150, "one view per mailbox, in order");

    let mut detailed = 0;
    for (email, view) in emails.iter().zip(views) {
        let Some(person) = people.iter().find(|p| &p.email == email) else {
            assert_eq!(
                view["exception"], "ErrorMailRecipientNotFound",
                "{email}: {view}"
            );
            continue;
        };
        let truth = sim.events(email).await;
        let truth: Vec<&EventJson> = truth
            .iter()
            .filter(|e| e.end > start && e.start < end)
            .collect();
        let want_view = if person.free_busy_access == "detailed" {
            detailed += 1;
            "DetailedMerged"
        } else {
            "FreeBusyMerged"
        };
        assert_eq!(view["view_type"], want_view, "{email}");
        assert_eq!(
            view["merged"].as_str().unwrap_or_default(),
            expected_merged(&truth, start, end, 30),
            "{email} merged string"
        );
        let got = view["events"].as_array().expect("events");
        assert_eq!(got.len(), truth.len(), "{email}: {view}");
        for (g, t) in got.iter().zip(&truth) {
            let gs: Timestamp = g["start"]
                .as_str()
                .expect("start")
                .parse()
                .expect("start instant");
            let ge: Timestamp = g["end"]
                .as_str()
                .expect("end")
                .parse()
                .expect("end instant");
            assert_eq!((gs, ge), (t.start, t.end), "{email}");
            assert_eq!(g["busy_type"], ews_busy_name(&t.busy_type), "{email}");
            let details = &g["details"];
            if want_view == "FreeBusyMerged" {
                assert!(details.is_null(), "{email}: no details without read access");
            } else if t.private {
                assert_eq!(details["is_private"], true);
                assert!(
                    details["subject"].is_null(),
                    "{email}: a private subject leaked"
                );
            } else {
                assert_eq!(details["subject"].as_str(), t.subject.as_deref(), "{email}");
                assert_eq!(
                    details["location"].as_str(),
                    t.location.as_deref(),
                    "{email}"
                );
            }
        }
        assert!(
            !view["working_hours"]
                .as_array()
                .expect("working hours")
                .is_empty()
                || person.is_room
        );
    }
    assert!(detailed > 100);

    let stats = sim.stats().await;
    assert_eq!(
        stats["requests"]["GetUserAvailability"], 2,
        "exchangelib sends 100 + 50: {stats}"
    );
    let ops = sim.validate_recorded().await;
    assert!(
        ops.iter()
            .any(|(op, s)| op == "GetUserAvailability" && *s == 200)
    );
    assert!(ops.iter().any(|(op, _)| op == "GetServerTimeZones"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_mail_tips_with_the_workaround_report_out_of_office() {
    let sim = Sim::start(60, 12, json!({})).await;
    let people = sim.people().await;
    let (away, here, later) = (&people[0].email, &people[1].email, &people[2].email);
    let now = Timestamp::now();
    let message = "<div>Back on Monday &amp; reachable by phone.</div>";
    let (from, until) = (now - 2.hours(), now.checked_add(72.hours()).expect("t"));
    sim.put(
        &format!("/mailboxes/{away}/oof"),
        json!({"message": message, "start": from, "end": until}),
    )
    .await;
    let resp = sim
        .http
        .delete(sim.control(&format!("/mailboxes/{here}/oof")))
        .send()
        .await
        .expect("DELETE");
    assert!(resp.status().is_success());
    sim.put(
        &format!("/mailboxes/{later}/oof"),
        json!({"message": "<p>Next week</p>", "start": now.checked_add(48.hours()).expect("t"), "end": now.checked_add(96.hours()).expect("t")}),
    )
    .await;
    let out = sim
        .exchangelib(
            SERVICE_PASSWORD,
            "failfast",
            &[
                "mailtips",
                "--sender",
                SERVICE_UPN,
                away,
                here,
                later,
                "nobody@contoso.com",
            ],
        )
        .await;
    let tips = out["tips"]
        .as_array()
        .unwrap_or_else(|| panic!("no tips: {out}"));
    assert_eq!(tips.len(), 4);
    assert_eq!(tips[0]["email"], away.as_str());
    assert_eq!(tips[0]["name"], people[0].name.as_str());
    assert_eq!(tips[0]["oof_reply"], message);
    let start: Timestamp = tips[0]["oof_start"]
        .as_str()
        .expect("start")
        .parse()
        .expect("ts");
    assert_eq!(start.as_second(), from.as_second());
    for tip in &tips[1..] {
        assert!(
            tip["oof_reply"].as_str().unwrap_or_default().is_empty(),
            "no reply expected: {tip}"
        );
    }
    // The same reply through GetUserOofSettings.
    let settings = sim
        .exchangelib(SERVICE_PASSWORD, "failfast", &["oof", away])
        .await;
    assert_eq!(settings["state"], "Scheduled", "{settings}");
    assert_eq!(settings["internal_reply"], message, "{settings}");
    let settings = sim
        .exchangelib(SERVICE_PASSWORD, "failfast", &["oof", here])
        .await;
    assert_eq!(settings["state"], "Disabled", "{settings}");
    // Stock exchangelib writes the requested tips as stray text; Exchange refuses that.
    let stock = sim
        .exchangelib(SERVICE_PASSWORD, "failfast", &["mailtips-stock"])
        .await;
    assert_eq!(stock["exception"], "ErrorSchemaValidation", "{stock}");
    let ops = sim.validate_recorded().await;
    assert!(ops.iter().any(|(op, s)| op == "GetMailTips" && *s == 200));
    assert!(ops.iter().any(|(op, s)| op == "GetMailTips" && *s == 500));
    assert!(
        ops.iter()
            .any(|(op, s)| op == "GetUserOofSettings" && *s == 200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_resolves_names_one_at_a_time() {
    let sim = Sim::start(80, 13, json!({})).await;
    let people = sim.people().await;
    let p = people.iter().find(|p| !p.is_room).expect("a person");
    let out = sim
        .exchangelib(
            SERVICE_PASSWORD,
            "failfast",
            &["resolve", &p.email, "nobody@contoso.com"],
        )
        .await;
    let r = out["resolutions"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(r[0]["found"][0]["email"], p.email.as_str());
    assert_eq!(r[0]["found"][0]["name"], p.name.as_str());
    assert_eq!(
        r[1]["found"][0]["exception"], "ErrorNameResolutionNoResults",
        "{out}"
    );
    let full = sim
        .exchangelib(
            SERVICE_PASSWORD,
            "failfast",
            &["resolve", "--full", &p.email],
        )
        .await;
    assert_eq!(
        full["resolutions"][0]["found"][0]["display_name"],
        p.name.as_str(),
        "{full}"
    );
    // exchangelib batches names into one request; the schema allows one entry.
    let together = sim
        .exchangelib(
            SERVICE_PASSWORD,
            "failfast",
            &["resolve-together", &people[0].email, &people[1].email],
        )
        .await;
    assert_eq!(together["exception"], "ErrorSchemaValidation", "{together}");
    let ops = sim.validate_recorded().await;
    assert!(ops.iter().any(|(op, s)| op == "ResolveNames" && *s == 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_sees_401_and_server_busy_as_against_exchange() {
    let sim = Sim::start(30, 14, json!({})).await;
    let people = sim.people().await;

    // A wrong password: FailFast raises UnauthorizedError (not "busy": no Connection: close).
    let out = sim
        .exchangelib("wrong-password", "failfast", &["version"])
        .await;
    assert_eq!(out["exception"], "UnauthorizedError", "{out}");
    let account: Value = sim.get(&format!("/accounts/{SERVICE_UPN}")).await;
    assert_eq!(account["failed_attempts"], 1, "{account}");
    let raw = sim
        .soap(
            SERVICE_UPN,
            "wrong-password",
            envelope("Exchange2016", "", "<m:GetServerTimeZones/>"),
        )
        .await;
    assert_eq!(raw.status(), 401);
    assert_eq!(
        raw.headers()["www-authenticate"],
        "Basic realm=\"127.0.0.1\""
    );
    assert!(
        raw.headers().get("connection").is_none(),
        "no Connection header on a 401"
    );

    // ErrorServerBusy on every second request of the credential, 1.5 s back-off.
    sim.put(
        "/policy",
        json!({"busy_every_n_requests": 2, "busy_backoff_ms": 1500}),
    )
    .await;
    let start = today_utc_midnight();
    let end = start.checked_add(24.hours()).expect("end");
    let (s, e) = (start.to_string(), end.to_string());
    let args = [
        "freebusy",
        "--start",
        &s,
        "--end",
        &e,
        "--view",
        "FreeBusy",
        &people[0].email,
    ];
    let fail_fast = sim.exchangelib(SERVICE_PASSWORD, "failfast", &args).await;
    assert_eq!(fail_fast["exception"], "ErrorServerBusy", "{fail_fast}");
    assert_eq!(fail_fast["back_off"], 1.5, "{fail_fast}");
    // A new policy starts the budgets afresh; FaultTolerance sleeps the back-off and retries.
    sim.put("/policy", json!({"busy_every_n_requests": 2}))
        .await;
    let tolerant = sim
        .exchangelib(SERVICE_PASSWORD, "tolerant:30", &args)
        .await;
    let views = tolerant["views"]
        .as_array()
        .unwrap_or_else(|| panic!("{tolerant}"));
    assert_eq!(views.len(), 1);
    assert!(
        tolerant["elapsed_s"].as_f64().unwrap_or_default() >= 1.5,
        "{tolerant}"
    );
    let stats = sim.stats().await;
    assert_eq!(
        stats["backoff_violations"], 0,
        "exchangelib honours BackOffMilliseconds: {stats}"
    );
    let mine = &stats["credentials"][SERVICE_UPN];
    assert!(
        mine["throttled"].as_u64().unwrap_or_default() >= 2,
        "{stats}"
    );
    assert!(
        mine["auth_failures"].as_u64().unwrap_or_default() >= 2,
        "{stats}"
    );
    assert!(
        stats["throttled"].as_u64().unwrap_or_default() >= 2,
        "{stats}"
    );
    assert!(
        stats["auth_failures"].as_u64().unwrap_or_default() >= 2,
        "{stats}"
    );

    // A request inside the advertised back-off is counted as a violation.
    sim.put(
        "/policy",
        json!({"busy_every_n_requests": 1, "busy_backoff_ms": 60000}),
    )
    .await;
    let body = envelope("Exchange2016", "", "<m:GetServerTimeZones/>");
    for _ in 0..2 {
        // After the answer was read (requests already on their way within 25 ms are forgiven).
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = sim.soap(SERVICE_UPN, SERVICE_PASSWORD, body.clone()).await;
        assert_eq!(r.status(), 500);
        let text = r.text().await.expect("body");
        assert_eq!(fault_code(&text).as_deref(), Some("ErrorServerBusy"));
        assert!(
            text.contains(r#"<t:Value Name="BackOffMilliseconds">60000</t:Value>"#),
            "{text}"
        );
    }
    let stats = sim.stats().await;
    assert_eq!(stats["backoff_violations"], 1, "{stats}");
    let ops = sim.validate_recorded().await;
    assert!(ops.iter().any(|(_, s)| *s == 500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_model_locks_after_n_failures_and_refuses_the_right_password() {
    let sim = Sim::start(
        20,
        15,
        json!({"lockout_threshold": 3, "lockout_window_s": 60, "lockout_duration_s": 2}),
    )
    .await;
    let people = sim.people().await;
    let user = &people[0].email;
    let body = envelope("Exchange2016", "", "<m:GetServerTimeZones/>");
    for i in 1..=3 {
        let r = sim.soap(user, "not-the-password", body.clone()).await;
        assert_eq!(r.status(), 401);
        let account: Value = sim.get(&format!("/accounts/{user}")).await;
        assert_eq!(account["locked"], i == 3, "after {i} failures: {account}");
    }
    // Locked: the right password fails too, as Active Directory does.
    let r = sim.soap(user, PEOPLE_PASSWORD, body.clone()).await;
    assert_eq!(r.status(), 401);
    assert_eq!(sim.stats().await["lockouts"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let r = sim.soap(user, PEOPLE_PASSWORD, body.clone()).await;
    assert_eq!(r.status(), 200, "the lock ends after its duration");

    // Entra smart lockout ignores a client repeating the same stale password.
    sim.put("/policy", json!({"ews_lockout_mode": "entra_smart"}))
        .await;
    let other = &people[1].email;
    for _ in 0..6 {
        assert_eq!(sim.soap(other, "stale", body.clone()).await.status(), 401);
    }
    let account: Value = sim.get(&format!("/accounts/{other}")).await;
    assert_eq!(account["locked"], false, "{account}");
    assert_eq!(account["failed_attempts"], 1, "{account}");
    assert_eq!(sim.soap(other, PEOPLE_PASSWORD, body).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_request_styles_and_faults_answer_with_exchanges_codes() {
    let sim = Sim::start(150, 16, json!({})).await;
    let people = sim.people().await;
    let emails: Vec<String> = people.iter().map(|p| p.email.clone()).collect();
    let (u, p) = (SERVICE_UPN, SERVICE_PASSWORD);
    let start = today_utc_midnight();
    let s = start.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let e2 = start
        .checked_add(48.hours())
        .expect("t")
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();

    // More than 100 mailboxes.
    let (status, c, _) = sim
        .call(envelope(
            "Exchange2016",
            "",
            &gua(UTC_TZ, &emails[..101], &s, &e2, 30, "FreeBusy"),
        ))
        .await;
    assert_eq!(
        (status, c.as_deref()),
        (500, Some("ErrorMailboxDataArrayTooBig"))
    );
    // Per-mailbox errors sit in the mailbox's slot; the other slots succeed.
    sim.put(
        &format!("/mailboxes/{}/access", emails[1]),
        json!({"free_busy_access": "none"}),
    )
    .await;
    let slots = [
        emails[0].clone(),
        emails[1].clone(),
        "x@nowhere.example".to_owned(),
        "not-an-address".to_owned(),
    ];
    let (status, _, text) = sim
        .call(envelope(
            "Exchange2016",
            "",
            &gua(UTC_TZ, &slots, &s, &e2, 30, "Detailed"),
        ))
        .await;
    assert_eq!(status, 200, "{text}");
    let doc = roxmltree::Document::parse(&text).expect("xml");
    let codes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "ResponseCode")
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(
        codes,
        [
            "NoError",
            "ErrorNoFreeBusyAccess",
            "ErrorMailRecipientNotFound",
            "ErrorInvalidSmtpAddress"
        ]
    );
    let checked = validate_ews(EwsDocument::Envelope, &text);
    assert!(checked.is_ok(), "{checked:?}");
    // A window longer than 62 days, a bad interval, an inverted window.
    let far = start
        .checked_add(SignedDuration::from_hours(24 * 63))
        .expect("t")
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let (_, c, _) = sim
        .call(envelope(
            "Exchange2016",
            "",
            &gua(UTC_TZ, &emails[..1], &s, &far, 30, "FreeBusy"),
        ))
        .await;
    assert_eq!(c.as_deref(), Some("ErrorTimeIntervalTooBig"));
    let (_, c, _) = sim
        .call(envelope(
            "Exchange2016",
            "",
            &gua(UTC_TZ, &emails[..1], &s, &e2, 3, "FreeBusy"),
        ))
        .await;
    assert_eq!(c.as_deref(), Some("ErrorInvalidMergedFreeBusyInterval"));
    let (_, c, _) = sim
        .call(envelope(
            "Exchange2016",
            "",
            &gua(UTC_TZ, &emails[..1], &e2, &s, 30, "FreeBusy"),
        ))
        .await;
    assert_eq!(c.as_deref(), Some("ErrorInvalidTimeInterval"));

    // The dates-only style: no body TimeZone, StartTime == EndTime, zone in TimeZoneContext.
    let target = &people[0];
    let context = r#"<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>"#;
    let day = start.strftime("%Y-%m-%dT00:00:00").to_string();
    let (status, _, text) = sim
        .call(envelope(
            "Exchange2010_SP1",
            context,
            &gua(
                "",
                std::slice::from_ref(&target.email),
                &day,
                &day,
                60,
                "FreeBusyMerged",
            ),
        ))
        .await;
    assert_eq!(status, 200, "{text}");
    let merged = roxmltree::Document::parse(&text)
        .expect("xml")
        .descendants()
        .find(|n| n.tag_name().name() == "MergedFreeBusy")
        .and_then(|n| n.text().map(str::to_owned))
        .expect("MergedFreeBusy");
    assert_eq!(
        merged.len(),
        24,
        "one local day in 60-minute digits: {merged}"
    );
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").expect("zone");
    let day_start = start
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_zoned_datetime(berlin)
        .expect("day")
        .timestamp();
    let day_end = day_start.checked_add(24.hours()).expect("t");
    let truth = sim.events(&target.email).await;
    let truth: Vec<&EventJson> = truth
        .iter()
        .filter(|e| e.end > day_start && e.start < day_end)
        .collect();
    assert_eq!(merged, expected_merged(&truth, day_start, day_end, 60));
    let view_ok = validate_ews(EwsDocument::Envelope, &text);
    assert!(view_ok.is_ok(), "{view_ok:?}");

    // An Exchange 2013 refuses 2016 requests; exchangelib walks down and learns the version.
    sim.put("/policy", json!({"server_version": "exchange2013_sp1"}))
        .await;
    let (_, c, _) = sim
        .call(envelope("Exchange2016", "", "<m:GetServerTimeZones/>"))
        .await;
    assert_eq!(c.as_deref(), Some("ErrorInvalidServerVersion"));
    let guessed = sim.exchangelib(p, "failfast", &["version"]).await;
    assert_eq!(guessed["api_version"], "Exchange2013_SP1", "{guessed}");
    sim.put("/policy", json!({"server_version": "exchange2019"}))
        .await;

    // Concurrency limit: slow answers, five at once, two allowed.
    sim.put("/policy", json!({"latency_ms": 400, "max_concurrency": 2}))
        .await;
    let body = envelope("Exchange2016", "", "<m:GetServerTimeZones/>");
    let calls = (0..5).map(|_| {
        let body = body.clone();
        let sim = &sim;
        async move {
            let r = sim.soap(u, p, body).await;
            fault_code(&r.text().await.expect("body"))
        }
    });
    let codes = futures::future::join_all(calls).await;
    assert!(
        codes
            .iter()
            .any(|c| c.as_deref() == Some("ErrorExceededConnectionCount")),
        "{codes:?}"
    );
    assert!(codes.iter().any(Option::is_none), "{codes:?}");
    assert!(
        sim.stats().await["max_in_flight"]
            .as_u64()
            .unwrap_or_default()
            >= 3
    );

    // 429 with Retry-After, EWS switched off (403), truncated bodies, connection resets.
    sim.put(
        "/policy",
        json!({"latency_ms": 0, "max_concurrency": 27, "retry_after_s": 3}),
    )
    .await;
    let r = sim.soap(u, p, body.clone()).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    sim.put("/policy", json!({"retry_after_s": 0, "ews_disabled": true}))
        .await;
    assert_eq!(sim.soap(u, p, body.clone()).await.status(), 403);
    sim.put(
        "/policy",
        json!({"ews_disabled": false, "truncate_rate": 1.0}),
    )
    .await;
    assert!(
        !sim.body_arrives(&body).await,
        "a truncated body must not read as complete"
    );
    sim.put("/policy", json!({"truncate_rate": 0.0, "reset_rate": 1.0}))
        .await;
    assert!(
        !sim.body_arrives(&body).await,
        "a reset connection must not give a body"
    );
    sim.put("/policy", json!({"reset_rate": 0.0, "error_rate": 1.0}))
        .await;
    let (status, c, _) = sim.call(body.clone()).await;
    assert_eq!(
        (status, c.as_deref()),
        (500, Some("ErrorInternalServerError"))
    );
    sim.put("/policy", json!({"error_rate": 0.0})).await;
    assert_eq!(sim.soap(u, p, body).await.status(), 200);
    sim.validate_recorded().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_from_the_simulated_entra_open_ews_with_exchanges_401_shapes() {
    let running = spawn_sim(SimConfig {
        people: 20,
        seed: 17,
        client_secret: Some("client-secret-for-tests".to_owned()),
        ..SimConfig::default()
    })
    .await;
    let sim = Sim {
        http: sim_http_client(&running),
        running,
    };
    let token_url = format!("{}/oauth2/v2.0/token", sim.running.urls.authority);
    let token = |form: Vec<(&'static str, String)>| {
        let (http, url) = (sim.http.clone(), token_url.clone());
        async move {
            let v: Value = http
                .post(url)
                .form(&form)
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token JSON");
            v["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("no token: {v}"))
                .to_owned()
        }
    };
    let client_id = SimConfig::default().client_id;
    let delegated = |scope: &'static str| {
        vec![
            ("grant_type", "password".to_owned()),
            ("client_id", client_id.clone()),
            ("username", SERVICE_UPN.to_owned()),
            ("password", SERVICE_PASSWORD.to_owned()),
            ("scope", scope.to_owned()),
        ]
    };
    let ews_token = token(delegated(
        "https://outlook.office365.com/EWS.AccessAsUser.All",
    ))
    .await;
    let graph_token = token(delegated("https://graph.microsoft.com/Calendars.Read")).await;
    let app_token = token(vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", client_id.clone()),
        ("client_secret", "client-secret-for-tests".to_owned()),
        ("scope", "https://outlook.office365.com/.default".to_owned()),
    ])
    .await;

    let post = |token: String, header: &'static str| {
        let (http, url) = (sim.http.clone(), sim.running.urls.ews_url.clone());
        async move {
            http.post(url)
                .bearer_auth(token)
                .header("Content-Type", "text/xml; charset=utf-8")
                .body(envelope("Exchange2016", header, "<m:GetServerTimeZones/>"))
                .send()
                .await
                .expect("EWS request")
        }
    };
    let impersonation = "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>attendant@contoso.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>";

    assert_eq!(post(ews_token.clone(), "").await.status(), 200);
    for (token, diagnostic) in [
        (graph_token, "2000008"),
        ("not.a.token".to_owned(), "2000001"),
    ] {
        let r = post(token, "").await;
        assert_eq!(r.status(), 401);
        let challenge = r.headers()["www-authenticate"].to_str().expect("ASCII");
        assert!(challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""));
        let diag = r.headers()["x-ms-diagnostics"].to_str().expect("ASCII");
        assert!(diag.starts_with(diagnostic), "{diag}");
        assert!(r.headers().get("connection").is_none());
    }
    // App-only tokens must impersonate; delegated ones must not.
    let r = post(app_token.clone(), "").await;
    assert_eq!(r.status(), 500);
    let text = r.text().await.expect("body");
    assert_eq!(
        fault_code(&text).as_deref(),
        Some("ErrorInvalidExchangeImpersonationHeaderData")
    );
    assert_eq!(post(app_token, impersonation).await.status(), 200);
    assert_eq!(post(ews_token, impersonation).await.status(), 500);
    let stats = sim.stats().await;
    assert_eq!(stats["auth_failures"], 2, "{stats}");
}

/// Runs `freebusy` through exchangelib for `emails` and checks every view against the ground
/// truth: event instants and busy types (when the view has events), and the merged string.
async fn check_free_busy(sim: &Sim, emails: &[String], tz: &str, view: &str, hours: i64) {
    let start = today_utc_midnight();
    let end = start.checked_add(hours.hours()).expect("end");
    let (s, e) = (start.to_string(), end.to_string());
    let mut args = vec![
        "freebusy",
        "--start",
        &s,
        "--end",
        &e,
        "--tz",
        tz,
        "--view",
        view,
        "--interval",
        "60",
    ];
    args.extend(emails.iter().map(String::as_str));
    let out = sim.exchangelib(SERVICE_PASSWORD, "failfast", &args).await;
    let views = out["views"]
        .as_array()
        .unwrap_or_else(|| panic!("{tz} {view}: {out}"));
    assert_eq!(views.len(), emails.len());
    let people = sim.people().await;
    for (email, got) in emails.iter().zip(views) {
        let person = people.iter().find(|p| &p.email == email).expect("known");
        let truth = sim.events(email).await;
        let truth: Vec<&EventJson> = truth
            .iter()
            .filter(|e| e.end > start && e.start < end)
            .collect();
        let detailed = person.free_busy_access == "detailed";
        let served = match (view, detailed) {
            ("Detailed", false) => "FreeBusy",
            (v, _) => v,
        };
        assert_eq!(got["view_type"], served, "{email} {tz}");
        if view == "MergedOnly" {
            assert_eq!(
                got["merged"].as_str().unwrap_or_default(),
                expected_merged(&truth, start, end, 60),
                "{email} {tz}"
            );
            assert!(got["events"].as_array().is_none_or(Vec::is_empty));
            continue;
        }
        let events = got["events"].as_array().expect("events");
        assert_eq!(events.len(), truth.len(), "{email} {tz}: {got}");
        for (g, t) in events.iter().zip(&truth) {
            let gs: Timestamp = g["start"].as_str().expect("start").parse().expect("ts");
            let ge: Timestamp = g["end"].as_str().expect("end").parse().expect("ts");
            assert_eq!((gs, ge), (t.start, t.end), "{email} {tz}");
            assert_eq!(g["busy_type"], ews_busy_name(&t.busy_type));
            assert_eq!(
                g["details"].is_null(),
                !served.starts_with("Detailed"),
                "{email} {tz}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchangelib_views_hold_in_other_time_zones() {
    let sim = Sim::start(120, 18, json!({})).await;
    let people = sim.people().await;
    let emails: Vec<String> = people
        .iter()
        .filter(|p| p.free_busy_access != "none")
        .take(12)
        .map(|p| p.email.clone())
        .collect();
    check_free_busy(&sim, &emails, "America/New_York", "FreeBusy", 48).await;
    check_free_busy(&sim, &emails, "Australia/Sydney", "Detailed", 72).await;
    check_free_busy(&sim, &emails, "Asia/Kolkata", "MergedOnly", 24).await;
    check_free_busy(&sim, &emails, "Europe/London", "FreeBusyMerged", 24).await;
    let ops = sim.validate_recorded().await;
    assert!(
        ops.iter()
            .filter(|(op, _)| op == "GetServerTimeZones")
            .count()
            >= 4
    );
}

/// Runs the exchangelib driver against `sim` as the service account (`args` may begin with the
/// driver's `--auth ntlm --login NAME`); returns its JSON output.
pub(crate) async fn exchangelib_driver(
    sim: &calgate_sim::Running,
    password: &str,
    policy: &str,
    args: &[&str],
) -> Value {
    let script = workspace_root().join("crates/calgate-testkit/python/exchangelib_driver.py");
    let mut cmd = tokio::process::Command::new(python());
    cmd.arg(script)
        .arg("--endpoint")
        .arg(&sim.urls.ews_url)
        .arg("--user")
        .arg(SERVICE_UPN)
        .arg("--policy")
        .arg(policy)
        .args(args)
        .env("CALGATE_EWS_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ca) = &sim.urls.ca_cert_pem_path {
        cmd.env("REQUESTS_CA_BUNDLE", ca);
    }
    let out = cmd.output().await.expect("exchangelib driver runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "driver output is not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
