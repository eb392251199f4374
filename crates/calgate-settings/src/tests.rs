//! Table-driven checks of every SPEC §3 rule, the update semantics, the field table, and that no
//! output of the settings types ever carries a secret.

use calgate_core::ExchangeVersion;
use calgate_core::{Privacy, TentativeRule, WorkingElsewhereRule};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::*;

const TENANT: &str = "4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e";
const CLIENT: &str = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d";

/// Distinctive secret values that must never show up in any output.
const PASSWORD: &str = "Pw-7f3a9c-never-print";
const CLIENT_SECRET: &str = "Cs-41bd22-never-print";

fn exchange() -> Value {
    json!({
        "provider": "exchange",
        "username": "svc@contoso.com",
        "password": PASSWORD,
        "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
    })
}

fn office365_modern() -> Value {
    json!({
        "provider": "office365",
        "grant_modern_auth": true,
        "tenant_id": TENANT,
        "client_id": CLIENT,
    })
}

fn microsoft365_secret() -> Value {
    json!({
        "provider": "microsoft365",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": CLIENT_SECRET,
    })
}

/// `base` with the members of `extra` laid over it.
fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn certificate_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["calgate.test".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("cert");
    (cert.pem(), key.serialize_pem())
}

enum Expect {
    /// Saved, with exactly these warning codes (in any order).
    Ok(&'static [WarningCode]),
    /// Refused, with at least these fields in error.
    Err(&'static [&'static str]),
}

fn check(name: &str, update: Value, expect: Expect) {
    let result = validate_json(&update, &CalendarSettings::default());
    match (result, expect) {
        (Ok((_, warnings)), Expect::Ok(codes)) => {
            let mut got: Vec<&str> = warnings.iter().map(|w| w.code.as_str()).collect();
            let mut want: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{name}: warnings");
            for w in &warnings {
                assert!(!w.message.is_empty(), "{name}: empty warning message");
            }
        }
        (Err(errors), Expect::Err(fields)) => {
            for f in fields {
                assert!(
                    errors.get(f).is_some(),
                    "{name}: expected an error on {f}, got {errors:?}"
                );
            }
        }
        (Ok((_, warnings)), Expect::Err(fields)) => {
            panic!("{name}: expected errors on {fields:?}, saved with {warnings:?}")
        }
        (Err(errors), Expect::Ok(_)) => panic!("{name}: expected success, got {errors:?}"),
    }
}

#[test]
fn every_rule_of_spec_section_3() {
    use Expect::{Err, Ok};
    use WarningCode::*;
    let cases: Vec<(&str, Value, Expect)> = vec![
        // Providers.
        ("exchange with basic", exchange(), Ok(&[])),
        (
            "unknown provider",
            with(exchange(), json!({"provider": "gmail"})),
            Err(&["provider"]),
        ),
        (
            "exchange needs an EWS URL",
            with(exchange(), json!({"ews_url": null})),
            Err(&["ews_url"]),
        ),
        (
            "exchange basic needs a password",
            with(exchange(), json!({"password": null})),
            Err(&["password"]),
        ),
        (
            "exchange basic needs a username",
            with(exchange(), json!({"username": ""})),
            Err(&["username"]),
        ),
        // office365: grants.
        (
            "office365 modern",
            office365_modern(),
            Ok(&[EwsOnlineRetirement]),
        ),
        (
            "office365 neither grant",
            json!({"provider": "office365", "tenant_id": TENANT, "client_id": CLIENT}),
            Err(&["grant_modern_auth", "grant_basic_auth"]),
        ),
        (
            "office365 both grants",
            with(
                office365_modern(),
                json!({"grant_basic_auth": true, "username": "svc@contoso.com", "password": PASSWORD}),
            ),
            Ok(&[
                BothAuthEnabled,
                BasicAuthExchangeOnline,
                EwsOnlineRetirement,
            ]),
        ),
        (
            "office365 basic only",
            json!({"provider": "office365", "grant_basic_auth": true, "username": "svc@contoso.com", "password": PASSWORD}),
            Ok(&[BasicAuthExchangeOnline, EwsOnlineRetirement]),
        ),
        // Windows authentication.
        (
            "exchange windows with a UPN",
            with(exchange(), json!({"grant_windows_auth": true})),
            Ok(&[]),
        ),
        (
            "exchange windows with DOMAIN\\user",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "username": "CONTOSO\\svc"}),
            ),
            Ok(&[]),
        ),
        (
            "windows: DOMAIN\\user with an empty domain",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "username": "\\svc"}),
            ),
            Err(&["username"]),
        ),
        (
            "windows: DOMAIN\\ without a user",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "username": "CONTOSO\\"}),
            ),
            Err(&["username"]),
        ),
        (
            "windows: a bare name",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "username": "svc"}),
            ),
            Err(&["username"]),
        ),
        (
            "windows needs a password",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "password": null}),
            ),
            Err(&["password"]),
        ),
        (
            "windows is for exchange only",
            with(office365_modern(), json!({"grant_windows_auth": true})),
            Err(&["grant_windows_auth"]),
        ),
        (
            "windows and basic: the order is shown",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "grant_basic_auth": true}),
            ),
            Ok(&[WindowsAuthOrder]),
        ),
        (
            "modern, windows and basic",
            with(
                exchange(),
                json!({"grant_windows_auth": true, "grant_basic_auth": true, "grant_modern_auth": true, "tenant_id": TENANT, "client_id": CLIENT}),
            ),
            Ok(&[WindowsAuthOrder, BothAuthEnabled]),
        ),
        (
            "exchange both grants",
            with(
                exchange(),
                json!({"grant_basic_auth": true, "grant_modern_auth": true, "tenant_id": TENANT, "client_id": CLIENT}),
            ),
            Ok(&[BothAuthEnabled]),
        ),
        (
            "modern needs a tenant",
            with(office365_modern(), json!({"tenant_id": null})),
            Err(&["tenant_id"]),
        ),
        (
            "modern needs a client",
            with(office365_modern(), json!({"client_id": ""})),
            Err(&["client_id"]),
        ),
        // Identifiers.
        (
            "tenant as domain",
            with(
                office365_modern(),
                json!({"tenant_id": "Contoso.onMicrosoft.com"}),
            ),
            Ok(&[EwsOnlineRetirement]),
        ),
        (
            "tenant as punycode domain",
            with(
                office365_modern(),
                json!({"tenant_id": "xn--mnchen-3ya.xn--p1ai"}),
            ),
            Ok(&[EwsOnlineRetirement]),
        ),
        (
            "tenant single label",
            with(office365_modern(), json!({"tenant_id": "contoso"})),
            Err(&["tenant_id"]),
        ),
        (
            "tenant IP address",
            with(office365_modern(), json!({"tenant_id": "192.168.1.10"})),
            Err(&["tenant_id"]),
        ),
        (
            "tenant with spaces",
            with(office365_modern(), json!({"tenant_id": "contoso corp.com"})),
            Err(&["tenant_id"]),
        ),
        (
            "tenant label dash",
            with(office365_modern(), json!({"tenant_id": "-contoso.com"})),
            Err(&["tenant_id"]),
        ),
        (
            "client not a GUID",
            with(office365_modern(), json!({"client_id": "my-app"})),
            Err(&["client_id"]),
        ),
        (
            "client GUID in braces",
            with(
                office365_modern(),
                json!({"client_id": format!("{{{CLIENT}}}")}),
            ),
            Err(&["client_id"]),
        ),
        (
            "client GUID bad hex",
            with(
                office365_modern(),
                json!({"client_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5g"}),
            ),
            Err(&["client_id"]),
        ),
        (
            "client GUID short group",
            with(
                office365_modern(),
                json!({"client_id": "9a8b7c6d-5e4f-4a3b-2c1-0e9f8a7b6c5d0"}),
            ),
            Err(&["client_id"]),
        ),
        // EWS URL.
        (
            "ews http refused",
            with(
                exchange(),
                json!({"ews_url": "http://mail.contoso.com/EWS/Exchange.asmx"}),
            ),
            Err(&["ews_url"]),
        ),
        (
            "ews http allowed",
            with(
                exchange(),
                json!({"ews_url": "http://mail.contoso.com/EWS/Exchange.asmx", "allow_insecure_http": true}),
            ),
            Ok(&[InsecureHttp]),
        ),
        (
            "ews unusual path",
            with(
                exchange(),
                json!({"ews_url": "https://mail.contoso.com/ews/custom.asmx"}),
            ),
            Ok(&[EwsUrlUnusualPath]),
        ),
        (
            "ews path any case",
            with(
                exchange(),
                json!({"ews_url": "https://mail.contoso.com/ews/exchange.ASMX"}),
            ),
            Ok(&[]),
        ),
        (
            "ews not absolute",
            with(
                exchange(),
                json!({"ews_url": "mail.contoso.com/EWS/Exchange.asmx"}),
            ),
            Err(&["ews_url"]),
        ),
        (
            "ews ftp",
            with(
                exchange(),
                json!({"ews_url": "ftp://mail.contoso.com/EWS/Exchange.asmx"}),
            ),
            Err(&["ews_url"]),
        ),
        (
            "ews with credentials",
            with(
                exchange(),
                json!({"ews_url": "https://svc:pw@mail.contoso.com/EWS/Exchange.asmx"}),
            ),
            Err(&["ews_url"]),
        ),
        (
            "ews with fragment",
            with(
                exchange(),
                json!({"ews_url": "https://mail.contoso.com/EWS/Exchange.asmx#x"}),
            ),
            Err(&["ews_url"]),
        ),
        (
            "ews wrong type",
            with(exchange(), json!({"ews_url": 42})),
            Err(&["ews_url"]),
        ),
        // Refresh interval.
        (
            "refresh 9",
            with(exchange(), json!({"refresh_interval_s": 9})),
            Err(&["refresh_interval_s"]),
        ),
        (
            "refresh 10",
            with(exchange(), json!({"refresh_interval_s": 10})),
            Ok(&[RefreshIntervalLow]),
        ),
        (
            "refresh 59",
            with(exchange(), json!({"refresh_interval_s": 59})),
            Ok(&[RefreshIntervalLow]),
        ),
        (
            "refresh 60",
            with(exchange(), json!({"refresh_interval_s": 60})),
            Ok(&[]),
        ),
        (
            "refresh 86400",
            with(exchange(), json!({"refresh_interval_s": 86_400})),
            Ok(&[]),
        ),
        (
            "refresh 86401",
            with(exchange(), json!({"refresh_interval_s": 86_401})),
            Err(&["refresh_interval_s"]),
        ),
        (
            "refresh negative",
            with(exchange(), json!({"refresh_interval_s": -300})),
            Err(&["refresh_interval_s"]),
        ),
        (
            "refresh huge",
            with(exchange(), json!({"refresh_interval_s": u64::MAX})),
            Err(&["refresh_interval_s"]),
        ),
        (
            "refresh fractional",
            with(exchange(), json!({"refresh_interval_s": 300.5})),
            Err(&["refresh_interval_s"]),
        ),
        (
            "refresh as string",
            with(exchange(), json!({"refresh_interval_s": "300"})),
            Err(&["refresh_interval_s"]),
        ),
        // microsoft365.
        ("m365 client secret", microsoft365_secret(), Ok(&[])),
        (
            "m365 no credential",
            with(microsoft365_secret(), json!({"client_secret": null})),
            Err(&["client_secret"]),
        ),
        (
            "m365 delegated",
            with(
                microsoft365_secret(),
                json!({"client_secret": null, "grant_modern_auth": true}),
            ),
            Ok(&[]),
        ),
        (
            "m365 basic refused",
            with(microsoft365_secret(), json!({"grant_basic_auth": true})),
            Err(&["grant_basic_auth"]),
        ),
        (
            "m365 needs tenant",
            with(microsoft365_secret(), json!({"tenant_id": null})),
            Err(&["tenant_id"]),
        ),
        (
            "m365 needs client",
            with(microsoft365_secret(), json!({"client_id": null})),
            Err(&["client_id"]),
        ),
        (
            "m365 http graph refused",
            with(
                microsoft365_secret(),
                json!({"graph_endpoint": "http://127.0.0.1:8080"}),
            ),
            Err(&["graph_endpoint"]),
        ),
        (
            "m365 http authority allowed",
            with(
                microsoft365_secret(),
                json!({"authority_host": "http://127.0.0.1:8080", "allow_insecure_http": true}),
            ),
            Ok(&[InsecureHttp, LocalTarget]),
        ),
        (
            "exchange basic ignores an unused http authority",
            with(
                exchange(),
                json!({"authority_host": "http://127.0.0.1:8080"}),
            ),
            Ok(&[]),
        ),
        // Other fields.
        (
            "exchange version settings spelling",
            with(exchange(), json!({"exchange_version": "exchange2010_sp2"})),
            Ok(&[]),
        ),
        (
            "exchange version wire spelling",
            with(exchange(), json!({"exchange_version": "Exchange2007_SP1"})),
            Ok(&[]),
        ),
        (
            "exchange version unknown",
            with(exchange(), json!({"exchange_version": "exchange2016"})),
            Err(&["exchange_version"]),
        ),
        (
            "privacy",
            with(exchange(), json!({"privacy": "status_only"})),
            Ok(&[]),
        ),
        (
            "privacy unknown",
            with(exchange(), json!({"privacy": "everything"})),
            Err(&["privacy"]),
        ),
        (
            "status rules partial",
            with(exchange(), json!({"status_rules": {"tentative": "busy"}})),
            Ok(&[]),
        ),
        (
            "status rules bad value",
            with(exchange(), json!({"status_rules": {"tentative": "maybe"}})),
            Err(&["status_rules"]),
        ),
        (
            "status rules unknown member",
            with(exchange(), json!({"status_rules": {"colour": "red"}})),
            Err(&["status_rules"]),
        ),
        (
            "grant wrong type",
            with(exchange(), json!({"grant_basic_auth": "yes"})),
            Err(&["grant_basic_auth"]),
        ),
        (
            "unknown field",
            with(exchange(), json!({"pasword": "x"})),
            Err(&["pasword"]),
        ),
        (
            "read-back flags are ignored",
            with(
                exchange(),
                json!({"password_set": true, "client_secret_set": false}),
            ),
            Ok(&[]),
        ),
        (
            "username control character",
            with(exchange(), json!({"username": "svc\u{0}@contoso.com"})),
            Err(&["username"]),
        ),
        (
            "username on premises",
            with(exchange(), json!({"username": "CONTOSO\\svc-attendant"})),
            Ok(&[]),
        ),
        ("not an object", json!(["provider", "exchange"]), Err(&[""])),
    ];
    for (name, update, expect) in cases {
        check(name, update, expect);
    }
}

#[test]
fn certificates_are_checked_locally() {
    use Expect::{Err, Ok};
    let (cert, key) = certificate_and_key();
    let (other_cert, _) = certificate_and_key();
    let m365 = || with(microsoft365_secret(), json!({"client_secret": null}));
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAMCAQE=\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let legacy_encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMAMCAQE=\n-----END RSA PRIVATE KEY-----\n";
    let cases: Vec<(&str, Value, Expect)> = vec![
        (
            "certificate and key",
            with(
                m365(),
                json!({"client_certificate_pem": format!("{cert}{key}")}),
            ),
            Ok(&[]),
        ),
        (
            "key then certificate",
            with(
                m365(),
                json!({"client_certificate_pem": format!("{key}\n{cert}")}),
            ),
            Ok(&[]),
        ),
        (
            "certificate only",
            with(m365(), json!({"client_certificate_pem": cert.clone()})),
            Err(&["client_certificate_pem"]),
        ),
        (
            "key only",
            with(m365(), json!({"client_certificate_pem": key.clone()})),
            Err(&["client_certificate_pem"]),
        ),
        (
            "encrypted key",
            with(
                m365(),
                json!({"client_certificate_pem": format!("{cert}{encrypted}")}),
            ),
            Err(&["client_certificate_pem"]),
        ),
        (
            "legacy encrypted key",
            with(
                m365(),
                json!({"client_certificate_pem": format!("{cert}{legacy_encrypted}")}),
            ),
            Err(&["client_certificate_pem"]),
        ),
        (
            "not PEM",
            with(m365(), json!({"client_certificate_pem": "hello"})),
            Err(&["client_certificate_pem"]),
        ),
        (
            "bad base64",
            with(
                m365(),
                json!({"client_certificate_pem": format!("-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n{key}")}),
            ),
            Err(&["client_certificate_pem"]),
        ),
        (
            "base64 but not DER",
            with(
                m365(),
                json!({"client_certificate_pem": format!("-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n{key}")}),
            ),
            Err(&["client_certificate_pem"]),
        ),
        (
            "truncated block",
            with(
                m365(),
                json!({"client_certificate_pem": cert.lines().take(3).collect::<Vec<_>>().join("\n")}),
            ),
            Err(&["client_certificate_pem"]),
        ),
        (
            "CA bundle",
            with(
                exchange(),
                json!({"extra_ca_pem": format!("{cert}{other_cert}")}),
            ),
            Ok(&[]),
        ),
        (
            "CA bundle with a key",
            with(exchange(), json!({"extra_ca_pem": format!("{cert}{key}")})),
            Err(&["extra_ca_pem"]),
        ),
        (
            "CA bundle not PEM",
            with(exchange(), json!({"extra_ca_pem": "cert"})),
            Err(&["extra_ca_pem"]),
        ),
    ];
    for (name, update, expect) in cases {
        check(name, update, expect);
    }
    // With a certificate stored, app-only uses it.
    let (s, _) = validate_json(
        &with(
            m365(),
            json!({"client_certificate_pem": format!("{cert}{key}")}),
        ),
        &CalendarSettings::default(),
    )
    .expect("valid");
    assert_eq!(s.graph_sign_in(), Some(GraphSignIn::AppOnlyCertificate));
}

#[test]
fn absent_secrets_are_kept_and_empty_or_null_clears_them() {
    let (current, _) = validate_json(
        &with(office365_modern(), json!({"password": PASSWORD})),
        &CalendarSettings::default(),
    )
    .expect("valid");
    assert!(current.password.is_some());

    // A portal that echoes the read-back view changes nothing.
    let echoed = serde_json::to_value(current.view()).expect("view serializes");
    let (same, _) = validate_json(&echoed, &current).expect("echo is valid");
    assert_eq!(
        same.password.as_ref().map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
    assert!(changed_fields(&current, &same).is_empty());

    let (kept, _) = validate_json(&json!({"refresh_interval_s": 600}), &current).expect("valid");
    assert_eq!(
        kept.password.as_ref().map(|p| p.expose_secret()),
        Some(PASSWORD)
    );
    assert_eq!(kept.refresh_interval_s, 600);
    assert_eq!(changed_fields(&current, &kept), vec!["refresh_interval_s"]);

    for clear in [json!({"password": ""}), json!({"password": null})] {
        let (cleared, _) = validate_json(&clear, &current).expect("valid");
        assert!(cleared.password.is_none(), "{clear}");
        assert_eq!(changed_fields(&current, &cleared), vec!["password"]);
    }

    let (replaced, _) = validate_json(&json!({"password": " new pw "}), &current).expect("valid");
    // Passwords are taken verbatim (spaces are legal in a password).
    assert_eq!(
        replaced.password.as_ref().map(|p| p.expose_secret()),
        Some(" new pw ")
    );
}

#[test]
fn optional_fields_clear_and_defaults_restore() {
    let (current, _) = validate_json(
        &with(
            microsoft365_secret(),
            json!({
                "authority_host": "https://login.microsoftonline.us",
                "graph_endpoint": "https://graph.microsoft.us",
                "tenant_id": "CONTOSO.onmicrosoft.com",
                "client_id": CLIENT.to_uppercase(),
            }),
        ),
        &CalendarSettings::default(),
    )
    .expect("valid");
    assert_eq!(
        current.tenant_id.as_deref(),
        Some("contoso.onmicrosoft.com")
    );
    assert_eq!(current.client_id.as_deref(), Some(CLIENT));
    assert_eq!(
        current.authority_host.as_str(),
        "https://login.microsoftonline.us/"
    );
    // Back to the default clouds: the app's secret is entered again for them.
    let (reset, _) = validate_json(
        &json!({"authority_host": null, "graph_endpoint": "", "client_secret": CLIENT_SECRET}),
        &current,
    )
    .expect("valid");
    assert_eq!(
        reset.authority_host.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(
        reset.graph_endpoint.as_str(),
        "https://graph.microsoft.com/"
    );
    assert_eq!(
        changed_fields(&current, &reset),
        vec!["authority_host", "graph_endpoint"]
    );
}

#[test]
fn turning_insecure_http_off_refuses_a_stored_http_url() {
    let (current, warnings) = validate_json(
        &with(
            exchange(),
            json!({"ews_url": "http://ex.lab/EWS/Exchange.asmx", "allow_insecure_http": true}),
        ),
        &CalendarSettings::default(),
    )
    .expect("valid");
    assert_eq!(warnings.len(), 1);
    let errors =
        validate_json(&json!({"allow_insecure_http": false}), &current).expect_err("refused");
    assert!(errors.get("ews_url").is_some());
}

#[test]
fn values_are_applied() {
    let (s, _) = validate_json(
        &with(
            exchange(),
            json!({
                "exchange_version": "exchange2010",
                "privacy": "subject_and_location",
                "refresh_interval_s": 120,
                "status_rules": {"working_elsewhere": "busy", "ignore_all_day_free": false},
            }),
        ),
        &CalendarSettings::default(),
    )
    .expect("valid");
    assert_eq!(s.provider, Provider::Exchange);
    assert_eq!(s.exchange_version, ExchangeVersion::Exchange2010);
    assert_eq!(s.privacy, Privacy::SubjectAndLocation);
    assert_eq!(s.refresh_interval_s, 120);
    assert_eq!(s.status_rules.tentative, TentativeRule::Tentative);
    assert_eq!(s.status_rules.working_elsewhere, WorkingElsewhereRule::Busy);
    assert!(!s.status_rules.ignore_all_day_free);
    assert_eq!(s.ews_auth(), Some(EwsAuth::BASIC));
    assert_eq!(s.username.as_deref(), Some("svc@contoso.com"));
}

#[test]
fn sign_ins_are_ordered_modern_windows_basic() {
    let (s, _) = validate_json(
        &with(
            exchange(),
            json!({"grant_windows_auth": true, "grant_basic_auth": true}),
        ),
        &CalendarSettings::default(),
    )
    .expect("valid");
    assert_eq!(
        s.ews_auth(),
        Some(EwsAuth {
            modern: false,
            windows: true,
            basic: true
        })
    );
    // A view stored before Windows authentication existed reads as not granted.
    let mut view = serde_json::to_value(s.view()).expect("view");
    view.as_object_mut()
        .expect("object")
        .remove("grant_windows_auth");
    let old: crate::CalendarSettingsView = serde_json::from_value(view).expect("old view reads");
    assert!(!old.grant_windows_auth);
}

#[test]
fn office365_defaults_to_exchange_online_ews() {
    let (s, _) = validate_json(&office365_modern(), &CalendarSettings::default()).expect("valid");
    assert!(s.ews_url.is_none());
    assert_eq!(
        s.effective_ews_url().map(|u| u.to_string()).as_deref(),
        Some(OFFICE365_EWS_URL)
    );
    assert_eq!(s.ews_auth(), Some(EwsAuth::MODERN));
}

#[test]
fn the_retirement_warning_names_the_dates_and_microsoft365() {
    let (_, warnings) =
        validate_json(&office365_modern(), &CalendarSettings::default()).expect("valid");
    let w = warnings
        .iter()
        .find(|w| w.code == WarningCode::EwsOnlineRetirement)
        .expect("warning");
    assert!(w.message.contains("1 October 2026"), "{}", w.message);
    assert!(w.message.contains("1 April 2027"), "{}", w.message);
    assert!(w.message.contains("microsoft365"), "{}", w.message);
    let json = serde_json::to_value(w).expect("serializes");
    assert_eq!(json["code"], "ews_online_retirement");
}

#[test]
fn field_errors_answer_the_api_shape() {
    let errors = validate_json(
        &json!({"provider": "office365", "client_id": "x"}),
        &CalendarSettings::default(),
    )
    .expect_err("refused");
    let body = errors.api_body();
    assert_eq!(body["code"], "invalid_settings");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("client_id"))
    );
    assert!(body["fields"]["client_id"].is_string());
    assert!(body["fields"]["grant_modern_auth"].is_string());
}

#[test]
fn no_output_of_the_settings_types_contains_a_secret() {
    let (cert, key) = certificate_and_key();
    let pem = format!("{cert}{key}");
    let key_body: String = key.lines().nth(1).unwrap_or_default().to_string();
    assert!(key_body.len() > 20);
    let update = json!({
        "provider": "microsoft365",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "username": "svc@contoso.com",
        "password": PASSWORD,
        "client_secret": CLIENT_SECRET,
        "client_certificate_pem": pem,
    });
    let parsed = CalendarSettingsUpdate::from_json(&update).expect("parses");
    let (settings, warnings) = validate(&parsed, &CalendarSettings::default()).expect("valid");
    // A refused update that carries the secrets (bad tenant) must not echo them either.
    let refused = validate_json(
        &with(update.clone(), json!({"tenant_id": "bad tenant"})),
        &CalendarSettings::default(),
    )
    .expect_err("refused");
    let bad_pem = validate_json(
        &with(
            update.clone(),
            json!({"client_certificate_pem": format!("{key}\n{PASSWORD}")}),
        ),
        &CalendarSettings::default(),
    )
    .expect_err("refused");

    let outputs = [
        format!("{settings:?}"),
        format!("{:#?}", settings.secrets()),
        format!("{parsed:?}"),
        format!("{warnings:?}"),
        format!("{:?}", settings.view()),
        serde_json::to_string(&settings.view()).expect("view serializes"),
        format!("{refused:?} {refused}"),
        refused.api_body().to_string(),
        format!("{bad_pem:?} {bad_pem}"),
    ];
    for out in &outputs {
        for secret in [PASSWORD, CLIENT_SECRET, key_body.as_str()] {
            assert!(!out.contains(secret), "secret leaked into: {out}");
        }
    }
    let view = serde_json::to_value(settings.view()).expect("view");
    assert_eq!(view["password_set"], true);
    assert_eq!(view["client_secret_set"], true);
    assert_eq!(view["client_certificate_pem_set"], true);
    assert!(view.get("password").is_none());
    assert!(view.get("client_secret").is_none());
    assert!(view.get("client_certificate_pem").is_none());
    // The secrets are still there for the engine and the store.
    assert_eq!(
        settings
            .secret(SecretField::ClientSecret)
            .map(|s| s.expose_secret()),
        Some(CLIENT_SECRET)
    );
}

#[test]
fn the_view_carries_the_contract_field_names_and_round_trips() {
    let (settings, _) = validate_json(
        &with(office365_modern(), json!({"password": PASSWORD})),
        &CalendarSettings::default(),
    )
    .expect("valid");
    let view = serde_json::to_value(settings.view()).expect("view");
    let keys: Vec<&str> = view
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for spec in fields() {
        let expected = if spec.secret {
            format!("{}_set", spec.name)
        } else {
            spec.name.to_string()
        };
        assert!(keys.contains(&expected.as_str()), "view lacks {expected}");
    }
    assert_eq!(
        keys.len(),
        fields().len(),
        "view has fields outside the table: {keys:?}"
    );
    assert_eq!(view["exchange_version"], "exchange2013_sp1");
    assert_eq!(view["provider"], "office365");

    let back: CalendarSettingsView = serde_json::from_value(view).expect("view deserializes");
    assert_eq!(back, settings.view());
    let rebuilt = CalendarSettings::from_view(back, settings.secrets());
    assert!(changed_fields(&settings, &rebuilt).is_empty());
}

#[test]
fn the_field_table_is_complete_and_consistent() {
    let names: Vec<&str> = fields().iter().map(|f| f.name).collect();
    for contract in [
        "provider",
        "grant_basic_auth",
        "grant_modern_auth",
        "tenant_id",
        "client_id",
        "username",
        "password",
        "client_secret",
        "client_certificate_pem",
        "exchange_version",
        "ews_url",
        "refresh_interval_s",
        "privacy",
        "allow_insecure_http",
        "authority_host",
        "graph_endpoint",
        "extra_ca_pem",
        "status_rules",
    ] {
        assert!(names.contains(&contract), "table lacks {contract}");
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicate names");
    for f in fields() {
        assert_eq!(
            fields::spec(f.id).name,
            f.name,
            "every id maps to its own row"
        );
        assert!(
            !f.label.is_empty() && !f.help.is_empty() && !f.providers.is_empty(),
            "{}",
            f.name
        );
        assert_eq!(
            f.secret,
            matches!(f.kind, FieldKind::Secret | FieldKind::SecretPem),
            "{}",
            f.name
        );
    }
    let versions: Vec<&str> = ExchangeVersion::ALL
        .iter()
        .map(|v| v.setting_name())
        .collect();
    assert_eq!(versions, crate::fields::EXCHANGE_VERSION_CHOICES);
    let providers: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
    assert!(
        matches!(field("provider").map(|f| f.kind), Some(FieldKind::Choice { choices }) if choices == providers)
    );

    let docs = docs_markdown();
    for f in fields() {
        assert!(docs.contains(&format!("`{}`", f.name)));
    }
    assert_eq!(docs.lines().count(), fields().len() + 2);
    // The portal reads the table as JSON.
    let json = serde_json::to_value(fields()).expect("table serializes");
    assert_eq!(json[0]["name"], "provider");
    assert_eq!(json[0]["kind"]["type"], "choice");
}

#[test]
fn changed_fields_name_secrets_without_values() {
    let (a, _) = validate_json(&exchange(), &CalendarSettings::default()).expect("valid");
    let mut b = a.clone();
    b.password = Some(SecretString::from("another"));
    b.privacy = Privacy::StatusOnly;
    assert_eq!(changed_fields(&a, &b), vec!["password", "privacy"]);
}

#[test]
fn a_stored_secret_is_not_sent_to_a_new_server_without_being_entered_again() {
    let (current, _) = validate_json(&exchange(), &CalendarSettings::default()).expect("valid");
    // Only the URL moves to another host: the stored password would go there. Refused.
    let moved = json!({"ews_url": "https://evil.example/EWS/Exchange.asmx"});
    let errors = validate_json(&moved, &current).expect_err("refused");
    assert_eq!(errors.code("password"), Some(SECRET_REENTRY_CODE));
    assert!(errors.get("password").is_some_and(|m| m.contains("again")));
    let body = errors.api_body();
    assert_eq!(body["field_codes"]["password"], SECRET_REENTRY_CODE);
    assert!(!body.to_string().contains(PASSWORD));
    // With the password entered again, or on the same server (another path), it is saved.
    validate_json(&with(moved.clone(), json!({"password": "new"})), &current).expect("re-entered");
    validate_json(
        &json!({"ews_url": "https://mail.contoso.com/ews/exchange.asmx"}),
        &current,
    )
    .expect("same server");
    // Another port is another server.
    let port = json!({"ews_url": "https://mail.contoso.com:8443/EWS/Exchange.asmx"});
    assert!(validate_json(&port, &current).is_err());

    // The app's secret is bound to the authority and the Graph endpoint.
    let (m365, _) =
        validate_json(&microsoft365_secret(), &CalendarSettings::default()).expect("valid");
    for moved in [
        json!({"authority_host": "https://login.evil.example"}),
        json!({"graph_endpoint": "https://graph.evil.example"}),
    ] {
        let errors = validate_json(&moved, &m365).expect_err("refused");
        assert_eq!(
            errors.code("client_secret"),
            Some(SECRET_REENTRY_CODE),
            "{moved}"
        );
        validate_json(&with(moved, json!({"client_secret": "again"})), &m365).expect("re-entered");
    }

    // A password the new settings do not use is dropped when its server moves, so it cannot
    // follow to the new server later without being entered again.
    let (o365, _) = validate_json(
        &with(
            office365_modern(),
            json!({"username": "svc@contoso.com", "password": PASSWORD}),
        ),
        &CalendarSettings::default(),
    )
    .expect("valid");
    let (switched, _) = validate_json(
        &json!({"provider": "microsoft365", "client_secret": CLIENT_SECRET,
                "authority_host": "https://login.partner.example"}),
        &o365,
    )
    .expect("the password is not used by microsoft365");
    assert!(switched.password.is_none());
    // While still used, it must be entered again.
    let errors = validate_json(
        &json!({"authority_host": "https://login.partner.example"}),
        &o365,
    )
    .expect_err("refused");
    assert_eq!(errors.code("password"), Some(SECRET_REENTRY_CODE));
}

#[test]
fn urls_at_metadata_services_are_refused_and_at_this_machine_warned() {
    for url in [
        "http://169.254.169.254/EWS/Exchange.asmx",
        "http://[::ffff:169.254.169.254]/EWS/Exchange.asmx",
        "http://2852039166/EWS/Exchange.asmx",
        "http://metadata.google.internal/EWS/Exchange.asmx",
    ] {
        let update = with(
            exchange(),
            json!({"ews_url": url, "allow_insecure_http": true}),
        );
        let errors = validate_json(&update, &CalendarSettings::default()).expect_err(url);
        assert!(
            errors
                .get("ews_url")
                .is_some_and(|m| m.contains("metadata")),
            "{url}: {errors:?}"
        );
    }
    for url in [
        "http://127.0.0.1:8080/EWS/Exchange.asmx",
        "http://0/EWS/Exchange.asmx",
        "http://localhost/EWS/Exchange.asmx",
    ] {
        let update = with(
            exchange(),
            json!({"ews_url": url, "allow_insecure_http": true}),
        );
        let (_, warnings) = validate_json(&update, &CalendarSettings::default()).expect(url);
        assert!(
            warnings.iter().any(|w| w.code == WarningCode::LocalTarget),
            "{url}: {warnings:?}"
        );
    }
}

#[test]
fn the_entra_app_ids_are_in_use_with_graph_or_modern_authentication() {
    let tenant = field("tenant_id").expect("tenant_id");
    let none = |_: FieldId| false;
    let modern = |g: FieldId| g == FieldId::GrantModernAuth;
    assert!(!tenant.applies_with(Provider::Exchange, none));
    assert!(!tenant.applies_with(Provider::Office365, none));
    assert!(tenant.applies_with(Provider::Office365, modern));
    assert!(tenant.applies_with(Provider::Exchange, modern));
    assert!(tenant.applies_with(Provider::Microsoft365, none));
    let username = field("username").expect("username");
    assert!(username.applies_with(Provider::Exchange, none));
    assert!(docs_markdown().contains("(exchange, office365 only with `grant_modern_auth`)"));
}

#[test]
fn change_notifications_need_a_reachable_base_url() {
    use Expect::{Err, Ok};
    use WarningCode::*;
    let on = |extra: Value| {
        with(
            microsoft365_secret(),
            with(json!({"change_notifications": true}), extra),
        )
    };
    check(
        "no notification URL",
        on(json!({})),
        Err(&["notification_url"]),
    );
    check(
        "public https base",
        on(json!({"notification_url": "https://calgate.contoso.com"})),
        Ok(&[]),
    );
    check(
        "plain http without allow_insecure_http",
        on(json!({"notification_url": "http://calgate.contoso.com"})),
        Err(&["notification_url"]),
    );
    check(
        "plain http in a lab",
        on(json!({"notification_url": "http://127.0.0.1:8080", "allow_insecure_http": true})),
        Ok(&[InsecureHttp, LocalTarget]),
    );
    check(
        "a query cannot be carried",
        on(json!({"notification_url": "https://calgate.contoso.com/?a=b"})),
        Err(&["notification_url"]),
    );
    check(
        "metadata service",
        on(json!({"notification_url": "https://169.254.169.254"})),
        Err(&["notification_url"]),
    );
    check(
        "sweep below its floor",
        on(json!({"notification_url": "https://gw.contoso.com", "notification_sweep_s": 60})),
        Err(&["notification_sweep_s"]),
    );
    check(
        "off: an http URL kept for later is not checked",
        with(
            microsoft365_secret(),
            json!({"notification_url": "http://calgate.contoso.com"}),
        ),
        Ok(&[]),
    );

    let (saved, _) = validate_json(
        &on(json!({"notification_url": "https://gw.contoso.com/calgate/", "notification_sweep_s": 7200})),
        &CalendarSettings::default(),
    )
    .expect("saved");
    assert!(saved.change_notifications);
    assert_eq!(
        saved.notification_url.as_ref().map(|u| u.as_str()),
        Some("https://gw.contoso.com/calgate"),
        "the trailing slash is dropped: the endpoint's path is appended"
    );
    assert_eq!(saved.notification_sweep_s, 7200);
    let view = saved.view();
    let json = serde_json::to_value(&view).expect("view");
    assert_eq!(json["change_notifications"], true);
    assert_eq!(json["notification_sweep_s"], 7200);
    // Views stored before the fields existed read with notifications off.
    let mut old = json.clone();
    for k in [
        "change_notifications",
        "notification_url",
        "notification_sweep_s",
    ] {
        old.as_object_mut().expect("object").remove(k);
    }
    let old: CalendarSettingsView = serde_json::from_value(old).expect("old view");
    assert!(!old.change_notifications);
    assert_eq!(
        old.notification_sweep_s,
        crate::DEFAULT_NOTIFICATION_SWEEP_S
    );
}
