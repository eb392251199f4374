//! Any bytes Microsoft Graph (or something pretending to be it) may answer, through every Graph
//! reader: getSchedule, getMailTips, the users listing, error bodies and Retry-After. Each must
//! return a value or a typed error, never panic, answer one result per requested mailbox, and
//! never leave a failed mailbox looking free (a failed one carries its error and no events).

#![no_main]

use calgate_graph::{
    GetMailTips, GetSchedule, ScheduleLimit, ServiceError, UserPage, parse_retry_after,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks how many mailboxes were asked for (1..=20), the rest is the answer.
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let n = usize::from(first % 20) + 1;
    let schedules: Vec<String> = (0..n).map(|i| format!("m{i}@fuzz.test")).collect();
    let start = jiff::Timestamp::UNIX_EPOCH;
    let end = start + jiff::SignedDuration::from_hours(48);
    if let Ok(limit) = ScheduleLimit::new(20)
        && let Ok(request) = GetSchedule::new(schedules.clone(), start, end, 15, limit)
        && let Ok(all) = request.read_response(body, start)
    {
        assert_eq!(all.len(), n, "one availability per requested mailbox");
        for (a, asked) in all.iter().zip(&schedules) {
            assert_eq!(&a.mailbox, asked, "in request order");
            if a.error.is_some() {
                assert!(a.events.is_empty(), "a failed mailbox has no events");
            }
            for e in &a.events {
                assert!(e.start <= e.end, "events never end before they start");
            }
        }
    }
    if let Some(request) = GetMailTips::automatic_replies(schedules.clone())
        && let Ok(all) = request.read_response(body)
    {
        assert_eq!(all.len(), n, "one mail tip per requested address");
    }
    let _ = serde_json::from_slice::<UserPage>(body);
    let status = 400 + u16::from(first) % 200;
    let text = std::str::from_utf8(body).ok();
    let error = ServiceError::read(status, text, body);
    let _ = error.action(first % 2 == 0);
    if let Some(text) = text {
        let _ = parse_retry_after(text);
    }
});
