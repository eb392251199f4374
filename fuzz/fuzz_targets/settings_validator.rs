//! Any JSON an administrator (or an attacker with a stolen token) may PUT as calendar settings,
//! through the one validator. It must answer settings or field errors, never panic; settings it
//! accepts must stay acceptable (saving them again unchanged passes), and its 422 body must
//! serialize.

#![no_main]

use calgate_settings::{CalendarSettings, validate_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(update) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let current = CalendarSettings::default();
    match validate_json(&update, &current) {
        Ok((settings, warnings)) => {
            for w in &warnings {
                assert!(!w.message.is_empty(), "a warning says something");
            }
            let unchanged = serde_json::json!({});
            if let Err(fields) = validate_json(&unchanged, &settings) {
                panic!("accepted settings refused on the next save: {:?}", fields.api_body());
            }
            // The view (what the API returns) must serialize.
            assert!(serde_json::to_string(&settings.view()).is_ok());
        }
        Err(fields) => {
            let body = serde_json::to_string(&fields.api_body()).expect("422 body serializes");
            // Messages never quote a submitted value: a distinctive password never comes back.
            if let Some(password) = update.get("password").and_then(|p| p.as_str())
                && password.chars().count() >= 12
                && password.contains(['#', '$', '%', '^', '~'])
            {
                assert!(!body.contains(password), "a 422 quoted the password");
            }
        }
    }
});
