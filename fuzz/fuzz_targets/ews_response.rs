//! Any bytes a server may send, through every EWS response reader and header parser: each must
//! return a value or a typed error, never panic, and never read a slot as free when it failed.

#![no_main]

use calgate_ews::{
    AuthChallenge, AvailabilityRequest, EwsError, MailboxBatch, RequestedView, RetryAfter,
    read_availability_response, read_mail_tips_response, read_resolve_names_response,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = read_availability_response(data) {
        let n = response.slots.len();
        if (1..=100).contains(&n) {
            let batch = MailboxBatch::try_from_addresses((0..n).map(|i| format!("m{i}@fuzz.test")));
            let start = jiff::Timestamp::UNIX_EPOCH;
            let end = start + jiff::SignedDuration::from_hours(24);
            if let Ok(batch) = batch {
                let request =
                    AvailabilityRequest::new(batch, start, end, RequestedView::FreeBusyMerged);
                let failed: Vec<bool> = response.slots.iter().map(Result::is_err).collect();
                match response.into_availabilities(&request, start) {
                    Ok(all) => {
                        assert_eq!(all.len(), n);
                        for (a, failed) in all.iter().zip(failed) {
                            // A failed slot carries its error and no events.
                            assert_eq!(a.error.is_some(), failed);
                            if failed {
                                assert!(a.events.is_empty());
                            }
                        }
                    }
                    Err(EwsError::ServerBusy { .. }) => {}
                    Err(other) => panic!("unexpected batch error {other:?}"),
                }
            }
        }
    }
    let _ = read_mail_tips_response(data);
    let _ = read_resolve_names_response(data);
    let _ = calgate_ews::envelope::read_soap_fault(data);
    // The header readers get the first line (at most 512 bytes: a WWW-Authenticate value with every
    // scheme is about 300 bytes): their cost is linear, and run over whole bodies they took a
    // third of every execution. A carriage return separates two WWW-Authenticate values.
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let head = line.get(..512).unwrap_or(line);
    if let Ok(text) = std::str::from_utf8(head) {
        let _ = AuthChallenge::parse(text.split('\r')).with_diagnostics(Some(text));
        let _ = RetryAfter::parse_header(text);
    }
});
