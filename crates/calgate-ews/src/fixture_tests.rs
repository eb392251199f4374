//! Every recorded response in the shared material, read into values and compared with reviewed
//! snapshots. A new fixture file without an expectation here fails the suite.

use std::path::PathBuf;

use calgate_core::Availability;
use jiff::Timestamp;
use serde::Serialize;

use crate::{
    AvailabilityRequest, EwsError, MailboxBatch, RequestedView, read_availability_response,
    read_mail_tips_response, read_resolve_names_response,
};

pub(crate) fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CALGATE_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn read(rel: &str) -> Vec<u8> {
    let path = shared_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("literal timestamp")
}

/// What a GetUserAvailability fixture reads as, for the snapshot.
#[derive(Serialize)]
struct AvailabilitySnapshot {
    server_version: Option<String>,
    view_types: Vec<String>,
    availabilities: Vec<Availability>,
}

fn availability(rel: &str, mailboxes: usize, window: (&str, &str)) -> AvailabilitySnapshot {
    let response = read_availability_response(&read(rel)).expect("reads");
    let batch = MailboxBatch::try_from_addresses(
        (1..=mailboxes).map(|i| format!("mailbox{i}@fixture.test")),
    )
    .expect("batch");
    let request = AvailabilityRequest::new(
        batch,
        ts(window.0),
        ts(window.1),
        RequestedView::DetailedMerged,
    );
    let server_version = response.server_version.as_ref().map(|v| format!("{v:?}"));
    let view_types = response
        .slots
        .iter()
        .map(|s| match s {
            Ok(v) => format!("{:?}", v.view_type),
            Err(e) => e.code().to_string(),
        })
        .collect();
    let availabilities = response
        .into_availabilities(&request, ts("2026-11-27T12:00:00Z"))
        .expect("counts match");
    AvailabilitySnapshot {
        server_version,
        view_types,
        availabilities,
    }
}

const VIEWPOINT: &str =
    "ews-fixtures/WinRb_Viewpoint__spec_unit_ews_soap_free_busy_response_spec.rb__";

#[test]
fn viewpoint_calendar_event_array() {
    let s = availability(
        &format!("{VIEWPOINT}CALENDAR_EVENT_ARRAY.xml"),
        1,
        ("2013-05-15T00:00:00Z", "2013-05-16T00:00:00Z"),
    );
    insta::assert_json_snapshot!("viewpoint_calendar_event_array", s);
}

#[test]
fn viewpoint_empty_response() {
    let s = availability(
        &format!("{VIEWPOINT}EMPTY_RESPONSE.xml"),
        1,
        ("2013-05-15T00:00:00Z", "2013-05-16T00:00:00Z"),
    );
    assert!(s.availabilities[0].events.is_empty());
    assert!(s.availabilities[0].error.is_none());
    insta::assert_json_snapshot!("viewpoint_empty_response", s);
}

#[test]
fn viewpoint_invalid_smtp_address_is_one_mailbox_error() {
    let s = availability(
        &format!("{VIEWPOINT}ERROR_INVALID_SMTP_ADDRESS.xml"),
        1,
        ("2013-05-15T00:00:00Z", "2013-05-16T00:00:00Z"),
    );
    let err = s.availabilities[0].error.as_ref().expect("slot error");
    assert_eq!(err.code, "EWS_INVALID_SMTP_ADDRESS");
    insta::assert_json_snapshot!("viewpoint_invalid_smtp_address", s);
}

#[test]
fn msdocs_get_user_availability_response() {
    let s = availability(
        "ews-validate/msdocs-gua-response.xml",
        2,
        ("2006-10-16T00:00:00Z", "2006-10-17T00:00:00Z"),
    );
    insta::assert_json_snapshot!("msdocs_gua_response", s);
}

#[test]
fn msdocs_howto_response_with_https_envelope_typo_and_suggestions() {
    let s = availability(
        "ews-validate/msdocs-howto-response.xml",
        2,
        ("2014-02-13T00:00:00Z", "2014-02-14T00:00:00Z"),
    );
    insta::assert_json_snapshot!("msdocs_howto_response", s);
}

#[test]
fn exchangelib_capture_detailed_merged_with_working_elsewhere() {
    let s = availability(
        "captures/exchangelib/003-GetUserAvailability.response.xml",
        3,
        ("2025-06-02T06:00:00Z", "2025-06-02T16:00:00Z"),
    );
    insta::assert_json_snapshot!("capture_003_detailed_merged", s);
}

#[test]
fn exchangelib_capture_recipient_not_found_and_slot_busy() {
    let s = availability(
        "captures/exchangelib/007-GetUserAvailability.response.xml",
        2,
        ("2025-06-02T06:00:00Z", "2025-06-02T16:00:00Z"),
    );
    assert_eq!(
        s.availabilities[1].error.as_ref().map(|e| e.code.as_str()),
        Some("EWS_MAIL_RECIPIENT_NOT_FOUND")
    );
    insta::assert_json_snapshot!("capture_007_recipient_not_found", s);
    let busy = read_availability_response(&read(
        "captures/exchangelib/046-GetUserAvailability.response.xml",
    ))
    .expect("reads");
    match &busy.slots[1] {
        Err(e @ EwsError::Mailbox { back_off, .. }) => {
            assert_eq!(e.code().to_string(), "EWS_MAILBOX_SERVER_BUSY");
            assert_eq!(*back_off, Some(std::time::Duration::from_millis(2000)));
        }
        other => panic!("slot 2 should be busy: {other:?}"),
    }
    assert!(busy.slots[0].is_ok() && busy.slots[2].is_ok());
}

#[test]
fn exchangelib_mail_tips_fixture_reads_despite_schema_gap() {
    let r = read_mail_tips_response(&read(
        "ews-fixtures/ecederstrand_exchangelib__tests_test_account.py__test_mail_tips.xml",
    ))
    .expect("lenient read");
    insta::assert_debug_snapshot!("exchangelib_mail_tips", r);
}

#[test]
fn msdocs_mail_tips_response_with_pasted_footer() {
    let r = read_mail_tips_response(&read("ews-validate/msdocs-mailtips-response.xml"))
        .expect("lenient read");
    insta::assert_debug_snapshot!("msdocs_mail_tips", r);
}

#[test]
fn msdocs_resolve_names() {
    let ok = read_resolve_names_response(&read("ews-validate/msdocs-resolvenames-resp.xml"))
        .expect("reads");
    insta::assert_debug_snapshot!("msdocs_resolve_names", ok);
    let none = read_resolve_names_response(&read("ews-validate/msdocs-resolvenames-err.xml"))
        .expect("no results is an answer, not a failure");
    assert!(none.candidates.is_empty() && !none.ambiguous);
}

#[test]
fn server_busy_fault_gives_its_back_off() {
    let e = read_availability_response(&read(
        "ews-fixtures/ecederstrand_exchangelib__tests_test_services.py__test_error_server_busy.xml",
    ))
    .expect_err("a fault");
    assert_eq!(
        e,
        EwsError::ServerBusy {
            back_off: Some(std::time::Duration::from_millis(297_749))
        }
    );
    assert_eq!(e.code().to_string(), "EWS_SERVER_BUSY");
    insta::assert_debug_snapshot!("fault_server_busy", (e.code().to_string(), e.action()));
}

#[test]
fn connection_count_fault_gives_its_back_off() {
    let e = read_availability_response(&read(
        "ews-fixtures/thunderbird_ews-rs__ews_src_types_soap.rs__deserialize_envelope_with_connection_count_fault.xml",
    ))
    .expect_err("a fault");
    assert_eq!(
        e,
        EwsError::ExceededConnectionCount {
            back_off: Some(std::time::Duration::ZERO)
        }
    );
    insta::assert_debug_snapshot!("fault_connection_count", (e.code().to_string(), e.action()));
}

#[test]
fn invalid_server_version_fault() {
    let e = read_availability_response(&read(
        "captures/exchangelib/057-ConvertId-ErrorInvalidServerVersion.response.xml",
    ))
    .expect_err("a fault");
    assert_eq!(e, EwsError::InvalidServerVersion);
}

/// Every file in the fixtures directory has an expectation above.
#[test]
fn every_shared_fixture_is_covered() {
    let covered = [
        "WinRb_Viewpoint__spec_unit_ews_soap_free_busy_response_spec.rb__CALENDAR_EVENT_ARRAY.xml",
        "WinRb_Viewpoint__spec_unit_ews_soap_free_busy_response_spec.rb__EMPTY_RESPONSE.xml",
        "WinRb_Viewpoint__spec_unit_ews_soap_free_busy_response_spec.rb__ERROR_INVALID_SMTP_ADDRESS.xml",
        "ecederstrand_exchangelib__tests_test_account.py__test_mail_tips.xml",
        "ecederstrand_exchangelib__tests_test_services.py__test_error_server_busy.xml",
        "thunderbird_ews-rs__ews_src_types_soap.rs__deserialize_envelope_with_connection_count_fault.xml",
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(shared_dir().join("ews-fixtures")).expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".xml") {
            seen += 1;
            assert!(
                covered.contains(&name.as_str()),
                "no expectation for {name}"
            );
        }
    }
    assert_eq!(seen, covered.len());
    let mut responses = 0;
    for entry in std::fs::read_dir(shared_dir().join("ews-validate")).expect("validate dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("msdocs-") && name.contains("response") {
            responses += 1;
            assert!(
                [
                    "msdocs-gua-response.xml",
                    "msdocs-howto-response.xml",
                    "msdocs-mailtips-response.xml"
                ]
                .contains(&name.as_str()),
                "no expectation for {name}"
            );
        }
    }
    assert_eq!(responses, 3);
}
