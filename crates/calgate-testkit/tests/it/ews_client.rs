//! calgate-ews and the EWS transport against Microsoft's schema, a scripted HTTP server for
//! faults nothing real produces on demand, and the simulator.
//! The validator itself must say no to a wrong document, or every "validates" check is hollow.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use calgate_ews::{
    Action, AuthChallenge, AvailabilityRequest, EwsError, ExchangeVersion, Impersonation,
    MailTipsRequest, MailboxBatch, RequestedView, ResolveNamesRequest, RetryAfter, SoapHeader,
};
use calgate_sources::ews_transport::{
    BasicCredentials, CredentialProvider, EwsTransport, TransportConfig,
};
use calgate_testkit::{EwsDocument, shared_dir, sim_people, validate_ews};
use jiff::Timestamp;
use reqwest::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[test]
fn schema_validator_accepts_a_known_good_response_and_rejects_a_broken_one() {
    let good = std::fs::read_to_string(shared_dir().join("ews-validate/msdocs-gua-response.xml"))
        .expect("fixture");
    validate_ews(EwsDocument::Envelope, &good).expect("msdocs response is schema-valid");
    let broken = good.replace("FreeBusyViewType", "FreeBusyViewTypo");
    assert!(validate_ews(EwsDocument::Envelope, &broken).is_err());
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("literal timestamp")
}

fn batch(n: usize) -> MailboxBatch {
    MailboxBatch::try_from_addresses((0..n).map(|i| format!("user{i}@contoso.com"))).expect("batch")
}

fn gua(view: RequestedView) -> AvailabilityRequest {
    AvailabilityRequest::new(
        batch(3),
        ts("2026-11-27T06:00:00Z"),
        ts("2026-11-28T06:00:00Z"),
        view,
    )
}

/// Every request kind, for every Exchange version calgate can be set to, is valid against the
/// EWS schema (envelope, headers and body checked strictly).
#[test]
fn every_request_kind_validates_for_every_version() {
    let views = [
        RequestedView::MergedOnly,
        RequestedView::FreeBusy,
        RequestedView::FreeBusyMerged,
        RequestedView::Detailed,
        RequestedView::DetailedMerged,
    ];
    let impersonation = Impersonation::smtp_address("svc-attendant@contoso.com").expect("valid");
    let mail_tips = MailTipsRequest::chunked(
        "attendant@contoso.com",
        ["a@contoso.com", "b&c@contoso.com"],
        50,
    )
    .expect("chunk");
    let resolve = ResolveNamesRequest::new("Smith <John>").expect("name");
    for version in ExchangeVersion::ALL {
        for header in [
            SoapHeader::new(version),
            SoapHeader::new(version).impersonating(impersonation.clone()),
        ] {
            let mut docs = Vec::new();
            // All views once per version; the other knobs on one of them.
            for view in views {
                docs.push(("GetUserAvailability", gua(view).to_request(&header)));
            }
            let mut knobs = gua(RequestedView::FreeBusyMerged);
            knobs.exclude_conflicts = Some(true);
            knobs.merged_interval_minutes = 1440;
            knobs.attendee_type = calgate_ews::AttendeeType::Room;
            knobs.batch = batch(100);
            docs.push(("GetUserAvailability", knobs.to_request(&header)));
            docs.push(("ResolveNames", Ok(resolve.to_request(&header))));
            if version.supports_mail_tips() {
                docs.push(("GetMailTips", mail_tips[0].to_request(&header)));
            } else {
                assert!(matches!(
                    mail_tips[0].to_request(&header),
                    Err(EwsError::UnsupportedByVersion { .. })
                ));
            }
            for (op, doc) in docs {
                let doc = doc.unwrap_or_else(|e| panic!("{op} for {version}: {e}"));
                assert_eq!(
                    doc.anchor_mailbox.as_deref(),
                    header.anchor_mailbox(),
                    "X-AnchorMailbox goes with impersonation"
                );
                if let Err(why) = validate_ews(EwsDocument::Envelope, &doc.body) {
                    panic!("{op} for {version} is schema-invalid: {why}\n{}", doc.body);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A scripted HTTP/1.1 server: real sockets, canned answers, for faults on demand.

#[derive(Default)]
struct Script {
    /// Raw answers, one per request, in order (the last one repeats).
    answers: Vec<Vec<u8>>,
    /// Hold every answer back this long.
    delay: Duration,
}

#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

/// An HTTP answer with a correct Content-Length.
fn answer(status: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

async fn scripted_server(script: Script) -> (reqwest::Url, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Seen::default());
    let script = Arc::new(script);
    let served = Arc::new(AtomicUsize::new(0));
    let seen_task = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            seen_task.connections.fetch_add(1, Ordering::SeqCst);
            let (seen, script, served) = (seen_task.clone(), script.clone(), served.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // Read one request: headers, then Content-Length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 4096];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
                    buf.drain(..head_end + len);
                    seen.requests
                        .lock()
                        .expect("lock")
                        .push(format!("{head}{body}"));
                    let n = served.fetch_add(1, Ordering::SeqCst);
                    let reply = script
                        .answers
                        .get(n)
                        .or(script.answers.last())
                        .cloned()
                        .unwrap_or_default();
                    tokio::time::sleep(script.delay).await;
                    if sock.write_all(&reply).await.is_err() {
                        return;
                    }
                    // An answer that says so, or does not say how long it is, ends the connection.
                    let text = String::from_utf8_lossy(&reply);
                    if text.contains("Connection: close") || !text.contains("Content-Length") {
                        return;
                    }
                }
            });
        }
    });
    let url = format!("http://{addr}/EWS/Exchange.asmx")
        .parse()
        .expect("url");
    (url, seen)
}

/// Counts the verdicts the transport reports.
#[derive(Debug, Default)]
struct Verdicts {
    accepted: AtomicUsize,
    refused: AtomicUsize,
}

#[derive(Debug, Default, Clone)]
struct CountingCredentials(Arc<Verdicts>);

impl CredentialProvider for CountingCredentials {
    type Grant = ();

    fn authorize(
        &self,
    ) -> impl std::future::Future<Output = Result<(HeaderValue, ()), EwsError>> + Send {
        let mut v = HeaderValue::from_static("Bearer test-token");
        v.set_sensitive(true);
        std::future::ready(Ok((v, ())))
    }

    fn accepted(&self, _grant: ()) {
        self.0.accepted.fetch_add(1, Ordering::SeqCst);
    }

    fn refused(&self, _grant: (), _challenge: &AuthChallenge) {
        self.0.refused.fetch_add(1, Ordering::SeqCst);
    }
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(shared_dir().join("captures/exchangelib").join(name)).expect("capture")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(shared_dir().join("ews-fixtures").join(name)).expect("fixture")
}

#[tokio::test]
async fn transport_reuses_its_connection_and_sends_credentials_and_anchor() {
    let body = capture("003-GetUserAvailability.response.xml");
    let (url, seen) = scripted_server(Script {
        answers: vec![answer(
            "200 OK",
            &["Content-Type: text/xml; charset=utf-8"],
            &body,
        )],
        ..Script::default()
    })
    .await;
    let mut config = TransportConfig::new(url, ExchangeVersion::Exchange2013Sp1);
    config.impersonation = Some(Impersonation::smtp_address("svc@contoso.com").expect("valid"));
    let transport = EwsTransport::new(
        config,
        BasicCredentials::new("alice@example.com", "Passw0rd!").expect("creds"),
    )
    .expect("transport");
    let request = gua(RequestedView::DetailedMerged);
    for _ in 0..3 {
        let got = transport
            .get_user_availability(&request, ts("2026-11-27T12:00:00Z"))
            .await
            .expect("answer");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].mailbox, "user0@contoso.com");
        assert_eq!(got[1].events[0].subject.as_deref(), Some("Vacation"));
    }
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
    let requests = seen.requests.lock().expect("lock");
    assert_eq!(requests.len(), 3);
    let first = requests[0].to_ascii_lowercase();
    assert!(first.starts_with("post /ews/exchange.asmx http/1.1"));
    assert!(first.contains("authorization: basic ywxpy2vazxhhbxbszs5jb206ugfzc3cwcmqh"));
    assert!(first.contains("x-anchormailbox: svc@contoso.com"));
    assert!(first.contains("content-type: text/xml; charset=utf-8"));
    assert!(requests[0].contains("<t:SmtpAddress>svc@contoso.com</t:SmtpAddress>"));
    assert!(format!("{transport:?}").find("Passw0rd").is_none());
}

#[tokio::test]
async fn http_faults_become_typed_errors_with_the_right_action() {
    let busy_fault =
        fixture("ecederstrand_exchangelib__tests_test_services.py__test_error_server_busy.xml");
    let doctype = r#"<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&lol;</s:Body></s:Envelope>"#;
    let big = format!("<x>{}</x>", "a".repeat(4096));
    let cases: Vec<(&str, Vec<u8>, &str, Action)> = vec![
        (
            "expired bearer token",
            answer(
                "401 Unauthorized",
                &[
                    r#"WWW-Authenticate: Bearer client_id="00000002-0000-0ff1-ce00-000000000000", error="invalid_token",Basic Realm="""#,
                    r#"x-ms-diagnostics: 2000001;reason="The token has expired.";error_category="invalid_token""#,
                ],
                "",
            ),
            "EWS_HTTP_401",
            Action::RefreshCredential,
        ),
        (
            "wrong password",
            answer(
                "401 Unauthorized",
                &["WWW-Authenticate: Negotiate", "WWW-Authenticate: NTLM", r#"WWW-Authenticate: Basic realm="ex""#],
                "",
            ),
            "EWS_HTTP_401",
            Action::StopCredential,
        ),
        ("EWS blocked", answer("403 Forbidden", &[], ""), "EWS_HTTP_403", Action::StopCredential),
        (
            "429 with fractional Retry-After",
            answer("429 Too Many Requests", &["Retry-After: 1.5"], ""),
            "EWS_HTTP_429",
            Action::RetryAfter(RetryAfter::Delay(Duration::from_millis(1500))),
        ),
        (
            "503 with Retry-After",
            answer("503 Service Unavailable", &["Retry-After: 3"], "<html><body>Service Unavailable</body></html>"),
            "EWS_HTTP_503",
            Action::RetryAfter(RetryAfter::Delay(Duration::from_secs(3))),
        ),
        (
            "503 without Retry-After",
            answer("503 Service Unavailable", &[], ""),
            "EWS_HTTP_503",
            Action::BackOff,
        ),
        (
            "SOAP fault ErrorServerBusy",
            answer("500 Internal Server Error", &["Content-Type: text/xml"], &busy_fault),
            "EWS_SERVER_BUSY",
            Action::RetryAfter(RetryAfter::Delay(Duration::from_millis(297_749))),
        ),
        (
            "500 HTML page",
            answer("500 Internal Server Error", &[], "<html><body>Server Error in '/EWS' Application.</body></html>"),
            "EWS_HTTP_5XX",
            Action::BackOff,
        ),
        ("redirect is not followed", answer("302 Found", &["Location: https://evil.example/"], ""), "EWS_HTTP_UNEXPECTED", Action::BackOff),
        ("non-XML 200", answer("200 OK", &[], "Service Unavailable"), "EWS_MALFORMED_RESPONSE", Action::BackOff),
        (
            "truncated body",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1500\r\nConnection: close\r\n\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>".to_vec(),
            "EWS_MALFORMED_RESPONSE",
            Action::BackOff,
        ),
        ("DOCTYPE", answer("200 OK", &[], doctype), "EWS_DOCTYPE_REJECTED", Action::BackOff),
        ("oversized body", answer("200 OK", &[], &big), "EWS_BODY_TOO_LARGE", Action::BackOff),
    ];
    for (what, reply, code, action) in cases {
        let (url, _) = scripted_server(Script {
            answers: vec![reply],
            ..Script::default()
        })
        .await;
        let mut config = TransportConfig::new(url, ExchangeVersion::Exchange2010Sp1);
        config.max_body_bytes = 2048;
        let creds = CountingCredentials::default();
        let transport = EwsTransport::new(config, creds.clone()).expect("transport");
        let err = transport
            .get_user_availability(&gua(RequestedView::FreeBusy), ts("2026-11-27T12:00:00Z"))
            .await
            .expect_err(what);
        assert_eq!(err.code().to_string(), code, "{what}: {err:?}");
        assert_eq!(err.action(), action, "{what}: {err:?}");
        let refused = creds.0.refused.load(Ordering::SeqCst);
        assert_eq!(
            refused,
            usize::from(code == "EWS_HTTP_401"),
            "{what}: refusal reported"
        );
        assert_eq!(
            creds.0.accepted.load(Ordering::SeqCst) + refused,
            1,
            "{what}: one verdict"
        );
        assert!(
            !err.to_string().contains("test-token"),
            "{what}: no secret in the message"
        );
    }
}

#[tokio::test]
async fn a_slow_server_is_a_timeout() {
    let (url, _) = scripted_server(Script {
        answers: vec![answer("200 OK", &[], "<x/>")],
        delay: Duration::from_secs(5),
    })
    .await;
    let mut config = TransportConfig::new(url, ExchangeVersion::Exchange2013Sp1);
    config.timeout = Duration::from_millis(300);
    let transport = EwsTransport::new(config, CountingCredentials::default()).expect("transport");
    let started = std::time::Instant::now();
    let err = transport
        .resolve_name(&ResolveNamesRequest::new("alice").expect("name"))
        .await
        .expect_err("times out");
    assert_eq!(err, EwsError::Timeout);
    assert_eq!(err.action(), Action::BackOff);
    assert!(started.elapsed() < Duration::from_secs(4));
}

/// HTTPS against the simulator's generated CA: trusted with the extra CA bundle, refused
/// without it.
#[tokio::test]
async fn https_needs_the_extra_ca_and_works_with_it() {
    let sim = calgate_sim::spawn(calgate_sim::SimConfig {
        people: 5,
        ..calgate_sim::SimConfig::default()
    })
    .await
    .expect("simulator");
    let url: reqwest::Url = sim.urls.ews_url.parse().expect("url");
    let ca = std::fs::read(
        sim.urls
            .ca_cert_pem_path
            .as_ref()
            .expect("tls sim has a CA"),
    )
    .expect("ca");
    let creds =
        || BasicCredentials::new("attendant@contoso.com", "Attendant-Passw0rd").expect("creds");
    let request = gua(RequestedView::FreeBusy);

    let untrusted = EwsTransport::new(
        TransportConfig::new(url.clone(), ExchangeVersion::Exchange2013Sp1),
        creds(),
    )
    .expect("transport");
    let err = untrusted
        .get_user_availability(&request, Timestamp::now())
        .await
        .expect_err("unknown CA");
    assert_eq!(err.code().to_string(), "EWS_CONNECT", "{err:?}");

    let mut config = TransportConfig::new(url, ExchangeVersion::Exchange2013Sp1);
    config.extra_ca_pem = Some(ca);
    let trusted = EwsTransport::new(config, creds()).expect("transport");
    // Whatever the simulator answers, it answered over TLS: no connection error.
    if let Err(e) = trusted
        .get_user_availability(&request, Timestamp::now())
        .await
    {
        assert!(
            !matches!(e, EwsError::Connect { .. } | EwsError::Timeout),
            "TLS with the extra CA failed: {e:?}"
        );
    }
    let mut bad = TransportConfig::new(
        "https://127.0.0.1:1/EWS/Exchange.asmx"
            .parse()
            .expect("url"),
        ExchangeVersion::Exchange2013Sp1,
    );
    bad.extra_ca_pem = Some(b"not a certificate".to_vec());
    assert!(EwsTransport::new(bad, creds()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Against the simulator.

async fn tls_sim(people: usize) -> (calgate_sim::Running, TransportConfig) {
    let sim = calgate_sim::spawn(calgate_sim::SimConfig {
        people,
        ..calgate_sim::SimConfig::default()
    })
    .await
    .expect("simulator");
    let mut config = TransportConfig::new(
        sim.urls.ews_url.parse().expect("url"),
        ExchangeVersion::Exchange2013Sp1,
    );
    config.extra_ca_pem = Some(
        std::fs::read(
            sim.urls
                .ca_cert_pem_path
                .as_ref()
                .expect("tls sim has a CA"),
        )
        .expect("ca"),
    );
    (sim, config)
}

fn attendant() -> BasicCredentials {
    BasicCredentials::new("attendant@contoso.com", "Attendant-Passw0rd").expect("creds")
}

/// 1 000 mailboxes in 10 GetUserAvailability requests (through the engine's source) match the
/// simulator's own calendars event for event, with details only where the access allows and
/// the per-mailbox refusals in their own slots.
#[tokio::test]
async fn a_thousand_mailboxes_in_ten_requests_match_the_ground_truth() {
    use calgate_engine::{CalendarSource, Window};
    use calgate_sim::tenant::FreeBusyAccess;
    use calgate_sources::ews_transport::EwsSource;

    let (sim, config) = tls_sim(1000).await;
    let emails: Vec<String> = sim_people(&sim);
    assert_eq!(emails.len(), 1000);
    // A working day whatever day the test runs (the tenant meets on working days only, so a
    // weekend window would compare few events): from noon of the next Monday to Thursday, 36
    // hours, inside the simulator's calendars (up to eight days ahead). Whole seconds: the wire
    // carries no fractions.
    let today = Timestamp::now().in_tz("UTC").expect("UTC").date();
    let day = (1..=7)
        .filter_map(|n| today.checked_add(jiff::Span::new().days(n)).ok())
        .find(|d| {
            matches!(
                d.weekday(),
                jiff::civil::Weekday::Monday
                    | jiff::civil::Weekday::Tuesday
                    | jiff::civil::Weekday::Wednesday
                    | jiff::civil::Weekday::Thursday
            )
        })
        .expect("a working day within a week");
    let start = day.at(12, 0, 0, 0).in_tz("UTC").expect("noon").timestamp();
    let window = Window {
        start,
        end: start + jiff::SignedDuration::from_hours(36),
    };
    let source = EwsSource::new(
        EwsTransport::new(config, attendant()).expect("transport"),
        RequestedView::Detailed,
    );
    let got = source.fetch(&emails, window).await.expect("fetch");
    let requests = sim.state.stats.snapshot(0).requests;
    assert_eq!(
        requests.get("GetUserAvailability"),
        Some(&10),
        "requests seen: {requests:?}"
    );
    assert_eq!(got.len(), emails.len());

    let tenant = sim.state.tenant();
    let (mut events_compared, mut detailed, mut refused) = (0, 0, 0);
    for (availability, email) in got.iter().zip(&emails) {
        assert_eq!(&availability.mailbox, email, "answers in request order");
        let person = tenant.person(email).expect("person");
        let mailbox = tenant.mailbox(email).expect("mailbox");
        if person.free_busy_access == FreeBusyAccess::None {
            let err = availability.error.as_ref().expect("refused slot");
            assert_eq!(err.code, "EWS_NO_FREE_BUSY_ACCESS", "{email}");
            assert!(availability.events.is_empty());
            refused += 1;
            continue;
        }
        assert!(
            availability.error.is_none(),
            "{email}: {:?}",
            availability.error
        );
        let want: Vec<_> = mailbox
            .overlapping(window.start, window.end)
            .map(|(_, e)| e)
            .collect();
        assert_eq!(
            availability.events.len(),
            want.len(),
            "{email}: event count"
        );
        let details = person.free_busy_access == FreeBusyAccess::Detailed;
        for (got, want) in availability.events.iter().zip(want) {
            assert_eq!(
                (got.start, got.end, got.busy_type),
                (want.start, want.end, want.busy_type),
                "{email}"
            );
            if details && !want.is_private {
                assert_eq!(got.subject, want.subject, "{email}");
                assert_eq!(got.location, want.location, "{email}");
                assert_eq!(got.is_meeting, want.is_meeting, "{email}");
                assert_eq!(got.is_recurring, want.is_recurring, "{email}");
                detailed += 1;
            } else {
                assert_eq!(
                    got.subject, None,
                    "{email}: no subject without detail rights"
                );
                assert_eq!(got.location, None, "{email}");
            }
            assert_eq!(got.is_private, details && want.is_private, "{email}");
            events_compared += 1;
        }
        let wh = availability.working_hours.as_ref().expect("working hours");
        assert_eq!(
            wh.time_zone,
            calgate_core::WorkTimeZone::Rules(person.zone_rules.clone()),
            "{email}"
        );
        assert_eq!(wh.periods, person.working_hours.periods, "{email}");
    }
    eprintln!(
        "compared {events_compared} events ({detailed} with details); {refused} mailboxes refused"
    );
    // The comparison is only as good as what it covered.
    assert!(
        events_compared > 1000,
        "only {events_compared} events compared"
    );
    assert!(detailed > 100, "only {detailed} detailed events compared");
    assert!(refused > 0, "no refused mailbox in the tenant");
}

/// The simulator's throttling and sign-in refusals arrive as the typed errors the engine acts on.
#[tokio::test]
async fn simulator_throttling_and_refusals_are_typed() {
    let (sim, config) = tls_sim(20).await;
    let email = sim.state.tenant().people[0].email.clone();
    let request = AvailabilityRequest::new(
        MailboxBatch::try_from_addresses([email]).expect("batch"),
        Timestamp::now(),
        Timestamp::now() + jiff::SignedDuration::from_hours(8),
        RequestedView::FreeBusy,
    );
    let transport = EwsTransport::new(config.clone(), attendant()).expect("transport");
    transport
        .get_user_availability(&request, Timestamp::now())
        .await
        .expect("quiet simulator answers");

    let policy = |f: &dyn Fn(&mut calgate_sim::Policy)| {
        let mut p = sim.state.policy();
        f(&mut p);
        sim.state.set_policy(p).expect("policy");
    };
    policy(&|p| {
        p.busy_every_n_requests = 1;
        p.busy_backoff_ms = 4321;
    });
    let busy = transport
        .get_user_availability(&request, Timestamp::now())
        .await
        .expect_err("busy");
    assert_eq!(busy.code().to_string(), "EWS_SERVER_BUSY", "{busy:?}");
    assert_eq!(
        busy.action(),
        Action::RetryAfter(RetryAfter::Delay(Duration::from_millis(4321)))
    );

    policy(&|p| {
        p.busy_every_n_requests = 0;
        p.retry_after_s = 7;
        p.retry_after_status = 429;
    });
    let throttled = transport
        .get_user_availability(&request, Timestamp::now())
        .await
        .expect_err("429");
    assert_eq!(
        throttled.code().to_string(),
        "EWS_HTTP_429",
        "{throttled:?}"
    );
    assert_eq!(
        throttled.action(),
        Action::RetryAfter(RetryAfter::Delay(Duration::from_secs(7)))
    );

    policy(&|p| p.retry_after_s = 0);
    let wrong = EwsTransport::new(
        config,
        BasicCredentials::new("attendant@contoso.com", "wrong").expect("creds"),
    )
    .expect("transport");
    let denied = wrong
        .get_user_availability(&request, Timestamp::now())
        .await
        .expect_err("401");
    assert_eq!(denied.code().to_string(), "EWS_HTTP_401", "{denied:?}");
    assert_eq!(denied.action(), Action::StopCredential);
    match &denied {
        EwsError::Unauthorized { challenge } => assert!(challenge.basic, "{challenge:?}"),
        other => panic!("{other:?}"),
    }
}

/// Automatic replies through GetMailTips (in chunks) and names through ResolveNames match the
/// simulator's directory.
#[tokio::test]
async fn mail_tips_and_resolve_names_match_the_simulator() {
    let (sim, config) = tls_sim(200).await;
    let now = Timestamp::now();
    let (with_oof, without): (Vec<_>, Vec<_>) = {
        let tenant = sim.state.tenant();
        tenant
            .people
            .iter()
            .zip(&tenant.mailboxes)
            .map(|(p, m)| (p.email.clone(), m.oof_at(now).cloned()))
            .partition(|(_, oof)| oof.is_some())
    };
    assert!(!with_oof.is_empty(), "the tenant has nobody out of office");
    let chosen: Vec<_> = with_oof
        .into_iter()
        .take(15)
        .chain(without.into_iter().take(10))
        .collect();
    let transport = EwsTransport::new(config, attendant()).expect("transport");
    let requests = MailTipsRequest::chunked(
        "attendant@contoso.com",
        chosen.iter().map(|(e, _)| e.clone()),
        10,
    )
    .expect("chunks");
    assert_eq!(requests.len(), chosen.len().div_ceil(10));
    let mut answers = Vec::new();
    for request in &requests {
        let response = transport.get_mail_tips(request).await.expect("mail tips");
        answers.extend(
            response
                .for_request(request)
                .expect("one tip per recipient"),
        );
    }
    assert_eq!(answers.len(), chosen.len());
    for ((email, want), (asked, tip)) in chosen.iter().zip(&answers) {
        assert_eq!(email, asked);
        assert!(tip.error.is_none(), "{email}: {:?}", tip.error);
        let got = tip.out_of_office.as_ref().expect("OutOfOffice requested");
        let want_message = want
            .as_ref()
            .and_then(|o| o.message.as_deref())
            .map(str::trim)
            .filter(|m| !m.is_empty());
        assert_eq!(got.message.as_deref(), want_message, "{email}");
        if let Some(w) = want
            && let (Some(s), Some(e)) = (w.start, w.end)
        {
            assert_eq!((got.start, got.end), (Some(s), Some(e)), "{email}");
        }
    }

    let (email, name) = {
        let tenant = sim.state.tenant();
        let p = &tenant.people[3];
        (p.email.clone(), p.name.clone())
    };
    let found = transport
        .resolve_name(&ResolveNamesRequest::new(email.clone()).expect("entry"))
        .await
        .expect("resolve");
    assert_eq!(found.candidates.len(), 1, "{found:?}");
    assert_eq!(
        found.candidates[0].email_address.as_deref(),
        Some(email.as_str())
    );
    assert_eq!(found.candidates[0].name.as_deref(), Some(name.as_str()));
    let none = transport
        .resolve_name(&ResolveNamesRequest::new("zz-nobody-by-this-name").expect("entry"))
        .await
        .expect("no results is an answer");
    assert!(none.candidates.is_empty() && !none.ambiguous);
}
