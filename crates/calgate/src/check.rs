//! The connection test behind `calgate check` and the portal's "Test connection": one real
//! request for one mailbox with the given settings, and exactly what happened.

use jiff::Timestamp;
use serde::Serialize;

use calgate_core::Code;
use calgate_core::compute_status;
use calgate_engine::EngineOptions;
use calgate_settings::CalendarSettings;

use crate::view::StatusView;

/// Connection tests allowed per [`TEST_WINDOW`]: a test tells "refused" from "answered", so
/// unlimited tests would make the settings form a port scanner of the gateway's network.
pub const TESTS_PER_WINDOW: usize = 6;
pub const TEST_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// The gateway-wide limit on connection tests.
#[derive(Debug, Default)]
pub struct TestLimit {
    recent: std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>,
}

impl TestLimit {
    /// Takes one test, or says how long until one is allowed.
    pub fn take(&self) -> Result<(), std::time::Duration> {
        let now = std::time::Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= TEST_WINDOW)
        {
            recent.pop_front();
        }
        if recent.len() >= TESTS_PER_WINDOW {
            let oldest = recent.front().copied().unwrap_or(now);
            return Err(TEST_WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        recent.push_back(now);
        Ok(())
    }
}

/// Runs the test. Never panics on what the server answers; every failure has a stable code.
pub async fn run(
    settings: &CalendarSettings,
    sign_in: &calgate_sources::SignInContext,
    options: &EngineOptions,
    mailbox: &str,
) -> TestAnswer {
    let started = Timestamp::now();
    let provider = settings.provider.as_str();
    let source = match calgate_sources::build(settings, sign_in) {
        Ok(s) => s,
        Err(why) => {
            return TestAnswer::failed(
                mailbox,
                provider,
                &why.code.to_string(),
                &why.message,
                started,
            );
        }
    };
    let window = options.window(started);
    let mailboxes = [mailbox.to_string()];
    match source.fetch(&mailboxes, window).await {
        Err(failure) => {
            TestAnswer::failed(mailbox, provider, &failure.code, &failure.message, started)
        }
        Ok(mut answers) => match answers.pop() {
            None => TestAnswer::failed(
                mailbox,
                provider,
                &Code::SourceMissingAnswer.to_string(),
                "the server answered without this mailbox",
                started,
            ),
            Some(availability) => {
                if let Some(err) = &availability.error {
                    return TestAnswer::failed(mailbox, provider, &err.code, &err.message, started);
                }
                let now = Timestamp::now();
                let status = compute_status(Some(&availability), now, &options.status);
                let mut day = options.clone();
                day.window_days = 1;
                let w = day.window(now);
                let events_today = availability
                    .events
                    .iter()
                    .filter(|e| e.start < w.end && e.end > w.start)
                    .count();
                TestAnswer {
                    ok: true,
                    mailbox: mailbox.to_string(),
                    provider: provider.to_string(),
                    status: Some(StatusView::from(&status)),
                    events_today: Some(events_today),
                    code: None,
                    message: None,
                    elapsed_ms: elapsed_ms(started),
                }
            }
        },
    }
}

/// What a connection test found, for the API, the portal and `calgate check`.
#[derive(Debug, Serialize)]
pub struct TestAnswer {
    pub ok: bool,
    pub mailbox: String,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_today: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub elapsed_ms: u64,
}

impl TestAnswer {
    pub fn failed(
        mailbox: &str,
        provider: &str,
        code: &str,
        message: &str,
        started: Timestamp,
    ) -> TestAnswer {
        TestAnswer {
            ok: false,
            mailbox: mailbox.to_string(),
            provider: provider.to_string(),
            status: None,
            events_today: None,
            code: Some(code.to_string()),
            message: Some(message.to_string()),
            elapsed_ms: elapsed_ms(started),
        }
    }
}

/// Milliseconds since `started`.
pub fn elapsed_ms(started: Timestamp) -> u64 {
    u64::try_from(Timestamp::now().duration_since(started).as_millis()).unwrap_or(0)
}
