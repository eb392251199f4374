//! `GET /api/v1/stream`: server-sent events. A `snapshot` of the watched people first, sent in
//! pages (`more: true` until the last), then one `status` event per change of a person's status
//! or of their Teams presence (each event carries both). Every change's id is
//! the board's epoch and its sequence number (`EPOCH-SEQ`); a client that reconnects with
//! `Last-Event-ID` gets exactly the changes it missed, or a new snapshot when the id is not one
//! this gateway can resume from (another process's, one never given out, or too far behind).
//!
//! `?people=a@x,b@y` or `?query=sales` narrows the stream to those people (the query is resolved
//! once, when the stream opens), so a department's console does not receive everyone.
//!
//! Memory: nothing is queued per client. Pages and changes are made when the connection asks for
//! the next event, so a client that stops reading holds one event, and the server's write
//! timeout closes its connection. A client too far behind the board's change buffer gets a new
//! snapshot. Open streams are capped; beyond the cap the answer is 503 with `Retry-After`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use calgate_engine::{EventId, StatusBoard, StatusChange};

use super::ApiError;
use crate::state::AppState;
use crate::view::{PresenceView, StatusView};

/// People per snapshot page (about 100 KB of JSON).
pub const SNAPSHOT_PAGE: usize = 500;
/// The most people a narrowed stream may name.
pub const MAX_SELECTED: usize = 5_000;
/// Seconds a client refused for the cap is asked to wait.
const RETRY_AFTER_S: u32 = 30;

#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    /// Comma-separated addresses.
    #[serde(default)]
    people: Option<String>,
    /// Name, address or extension words, as for `GET /api/v1/people?query=`.
    #[serde(default)]
    query: Option<String>,
}

#[derive(Serialize)]
struct SnapshotEntry<'a> {
    email: &'a str,
    status: StatusView,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence: Option<PresenceView>,
}

#[derive(Serialize)]
struct SnapshotPart<'a> {
    seq: u64,
    part: u32,
    more: bool,
    people: Vec<SnapshotEntry<'a>>,
}

#[derive(Serialize)]
struct ChangeData<'a> {
    email: &'a str,
    status: StatusView,
    /// Teams presence; absent when the person's source does not read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    presence: Option<PresenceView>,
    at: jiff::Timestamp,
}

/// Holds one of the open-stream places until the stream ends (the client left or was dropped).
struct StreamSlot(Arc<crate::metrics::GatewayMetrics>);

impl StreamSlot {
    fn take(app: &AppState) -> Option<StreamSlot> {
        let limit = i64::try_from(app.limits.max_stream_clients).unwrap_or(i64::MAX);
        app.metrics
            .sse_clients
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(app.metrics.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Which people a stream carries.
enum Selection {
    Everyone,
    /// Sorted, without duplicates.
    Some(Vec<String>),
}

impl Selection {
    fn admits(&self, email: &str) -> bool {
        match self {
            Selection::Everyone => true,
            Selection::Some(list) => list.binary_search_by(|e| e.as_str().cmp(email)).is_ok(),
        }
    }
}

async fn selection(app: &AppState, q: &StreamQuery) -> Result<Selection, ApiError> {
    let mut chosen: Vec<String> = Vec::new();
    let mut narrowed = false;
    if let Some(list) = q.people.as_deref() {
        narrowed = true;
        chosen.extend(
            list.split(',')
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty()),
        );
    }
    if let Some(query) = q.query.as_deref().filter(|s| !s.trim().is_empty()) {
        narrowed = true;
        let found = app.search_people(query, MAX_SELECTED + 1).await?;
        chosen.extend(found.into_iter().map(|p| p.email.to_lowercase()));
    }
    if !narrowed {
        return Ok(Selection::Everyone);
    }
    chosen.sort_unstable();
    chosen.dedup();
    if chosen.len() > MAX_SELECTED {
        return Err(ApiError::bad_request(format!(
            "a stream may name at most {MAX_SELECTED} people; narrow the query or open several streams"
        )));
    }
    Ok(Selection::Some(chosen))
}

enum Phase {
    /// Changes missed since the client's `Last-Event-ID`.
    Replay(VecDeque<StatusChange>),
    /// The next snapshot page starts after `after` (the first page when `None`).
    Snapshot {
        after: Option<Arc<str>>,
        part: u32,
    },
    Live,
}

/// One client's position in the stream.
struct Feed {
    board: Arc<StatusBoard>,
    live: broadcast::Receiver<StatusChange>,
    selection: Selection,
    phase: Phase,
    /// The last change this client has (or that its snapshot includes).
    sent: u64,
    shutdown: tokio_util::sync::CancellationToken,
    _slot: StreamSlot,
}

impl Feed {
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            match &mut self.phase {
                Phase::Replay(missed) => match missed.pop_front() {
                    Some(change) => {
                        self.sent = change.seq;
                        if self.selection.admits(&change.email) {
                            return Some(change_event(&self.board, &change));
                        }
                    }
                    None => self.phase = Phase::Live,
                },
                Phase::Snapshot { after, part } => {
                    let (after, part) = (after.take(), *part);
                    let (event, next) = self.snapshot_part(after, part);
                    self.phase = match next {
                        Some(after) => Phase::Snapshot {
                            after: Some(after),
                            part: part + 1,
                        },
                        None => Phase::Live,
                    };
                    return Some(event);
                }
                Phase::Live => {
                    let next = tokio::select! {
                        next = self.live.recv() => next,
                        () = self.shutdown.cancelled() => return None,
                    };
                    match next {
                        Ok(change) => {
                            if change.seq <= self.sent || !self.selection.admits(&change.email) {
                                continue;
                            }
                            self.sent = change.seq;
                            return Some(change_event(&self.board, &change));
                        }
                        // Too far behind the board's buffer: start again from a snapshot.
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            self.phase = Phase::Snapshot {
                                after: None,
                                part: 0,
                            };
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        }
    }

    /// Snapshot page `part`, and where the next one starts (`None`: this was the last).
    fn snapshot_part(&mut self, after: Option<Arc<str>>, part: u32) -> (Event, Option<Arc<str>>) {
        let (seq, people, cursor) = match &self.selection {
            Selection::Everyone => {
                let page = self.board.snapshot_page(after.as_deref(), SNAPSHOT_PAGE);
                let cursor = page
                    .more
                    .then(|| page.people.last().map(|(e, _, _)| e.clone()))
                    .flatten();
                (page.seq, page.people, cursor)
            }
            Selection::Some(list) => {
                let seq = self.board.last_seq();
                let start = after.map_or(0, |a| list.partition_point(|e| e.as_str() <= &*a));
                let end = (start + SNAPSHOT_PAGE).min(list.len());
                let people = list[start..end]
                    .iter()
                    .filter_map(|e| {
                        let entry = self.board.get(e)?;
                        Some((
                            Arc::<str>::from(e.as_str()),
                            entry.status,
                            entry.presence.map(|p| *p),
                        ))
                    })
                    .collect();
                // The cursor is the last listed address, on the board or not.
                let cursor = (end < list.len()).then(|| Arc::<str>::from(list[end - 1].as_str()));
                (seq, people, cursor)
            }
        };
        let event = self.page_event(seq, part, cursor.is_some(), &people);
        (event, cursor)
    }

    fn page_event(
        &mut self,
        seq: u64,
        part: u32,
        more: bool,
        people: &[(
            Arc<str>,
            calgate_core::OperatorStatus,
            Option<calgate_core::Presence>,
        )],
    ) -> Event {
        if part == 0 {
            // Changes up to here are in the snapshot; later ones follow it from the live feed.
            self.sent = seq;
        }
        let data = serde_json::to_string(&SnapshotPart {
            seq: self.sent,
            part,
            more,
            people: people
                .iter()
                .map(|(email, status, presence)| SnapshotEntry {
                    email,
                    status: StatusView::from(status),
                    presence: presence.as_ref().map(PresenceView::from),
                })
                .collect(),
        })
        .unwrap_or_else(|_| "{}".into());
        // Only the last page carries a resumable id; the first clears the client's, so a client
        // cut off half-way through gets a whole snapshot again rather than half of one.
        let event = Event::default().event("snapshot");
        let event = if !more {
            event.id(self.board.event_id(self.sent).to_string())
        } else if part == 0 {
            event.id("")
        } else {
            event
        };
        event.data(data)
    }
}

fn change_event(board: &StatusBoard, change: &StatusChange) -> Event {
    let data = serde_json::to_string(&ChangeData {
        email: &change.email,
        status: StatusView::from(&change.status),
        presence: change.presence.as_ref().map(PresenceView::from),
        at: change.at,
    })
    .unwrap_or_else(|_| "{}".into());
    Event::default()
        .event("status")
        .id(board.event_id(change.seq).to_string())
        .data(data)
}

pub async fn stream(
    State(app): State<Arc<AppState>>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(slot) = StreamSlot::take(&app) else {
        let mut refused = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stream_clients_full",
            format!(
                "{} event streams are open, the most this gateway serves; try again later",
                app.limits.max_stream_clients
            ),
        )
        .into_response();
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        return refused;
    };
    let selection = match selection(&app, &q).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(EventId::parse);
    let board = app.engine().board().clone();
    // Subscribe before reading anything so no change falls between the two.
    let live = board.subscribe();
    let (phase, sent) = match resume.and_then(|id| board.changes_since(id).map(|c| (id, c))) {
        Some((id, missed)) => (Phase::Replay(missed.into()), id.seq),
        None => (
            Phase::Snapshot {
                after: None,
                part: 0,
            },
            0,
        ),
    };
    let feed = Feed {
        board,
        live,
        selection,
        phase,
        sent,
        shutdown: app.shutdown.clone(),
        _slot: slot,
    };
    let events = futures::stream::unfold(feed, |mut feed| async move {
        feed.next_event()
            .await
            .map(|e| (Ok::<_, std::convert::Infallible>(e), feed))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
