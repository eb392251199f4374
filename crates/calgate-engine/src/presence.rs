//! The presence poller: for each source that reads Microsoft Teams presence, one task that asks
//! the engine for the mailboxes routed to that source, reads their presence every interval and
//! puts it on the board beside (never into) the calendar status.
//!
//! The poller sends nothing itself: the source makes the requests, so the source's throttling
//! hold (Graph's `Retry-After`) covers presence and schedule reads alike, and a throttled round
//! waits at least what the server asked. A round that fails keeps the last presence until it
//! is three intervals old; after that it is shown as unknown, never as available.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::board::StatusBoard;
use crate::source::{CalendarSource, FailureAction};

/// How long an empty watch list waits before asking again (a person added is read soon).
const IDLE_WAIT: SignedDuration = SignedDuration::from_secs(2);

/// After a refused credential or a configuration that cannot work, presence waits this many
/// intervals (the calendar runner's health says why).
const REFUSED_INTERVALS: i32 = 10;

/// Presence read longer ago than this many intervals is unknown.
const STALE_INTERVALS: i32 = 3;

/// Asks the engine's task for the mailboxes of the poller's source.
pub(crate) type AskMailboxes = Box<dyn Fn(oneshot::Sender<Vec<String>>) -> bool + Send + Sync>;

/// A running poller; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct PresencePoller {
    /// The runner generation (source) it serves.
    pub(crate) generation: u64,
    task: JoinHandle<()>,
}

impl Drop for PresencePoller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PresencePoller {
    pub(crate) fn start(
        generation: u64,
        source: Arc<dyn CalendarSource>,
        interval: SignedDuration,
        board: Arc<StatusBoard>,
        ask: AskMailboxes,
    ) -> PresencePoller {
        let task = tokio::spawn(run(source, interval, board, ask));
        PresencePoller { generation, task }
    }
}

async fn run(
    source: Arc<dyn CalendarSource>,
    interval: SignedDuration,
    board: Arc<StatusBoard>,
    ask: AskMailboxes,
) {
    let interval = interval.max(SignedDuration::from_secs(1));
    loop {
        let (tx, rx) = oneshot::channel();
        if !ask(tx) {
            return;
        }
        let Ok(mailboxes) = rx.await else {
            return;
        };
        if mailboxes.is_empty() {
            sleep(IDLE_WAIT).await;
            continue;
        }
        let started = Timestamp::now();
        let wait = match source.presence(&mailboxes).await {
            Ok(read) => {
                let now = Timestamp::now();
                board.set_presence(mailboxes.into_iter().zip(read), now);
                // Rounds start one interval apart, however long the reading took.
                interval - now.duration_since(started)
            }
            Err(failure) => {
                let now = Timestamp::now();
                tracing::warn!(
                    code = %failure.code,
                    message = %failure.message,
                    "presence not read"
                );
                board.expire_presence(&mailboxes, now - interval * STALE_INTERVALS, now);
                match failure.action {
                    FailureAction::RetryAfter(d) => interval.max(d),
                    FailureAction::CredentialFailure { .. } | FailureAction::Misconfigured => {
                        interval * REFUSED_INTERVALS
                    }
                    FailureAction::LowerConcurrency | FailureAction::Transient => interval,
                }
            }
        };
        sleep(wait.max(SignedDuration::from_millis(100))).await;
    }
}

async fn sleep(d: SignedDuration) {
    tokio::time::sleep(std::time::Duration::try_from(d).unwrap_or_default()).await;
}

/// An [`AskMailboxes`] that sends a command on the engine's channel; it gives up when the
/// engine is gone.
pub(crate) fn asker<C: Send + 'static>(
    commands: mpsc::WeakUnboundedSender<C>,
    make: impl Fn(oneshot::Sender<Vec<String>>) -> C + Send + Sync + 'static,
) -> AskMailboxes {
    Box::new(move |reply| {
        commands
            .upgrade()
            .is_some_and(|tx| tx.send(make(reply)).is_ok())
    })
}
