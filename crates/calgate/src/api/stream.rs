//! `GET /api/v1/stream`: server-sent events. A `snapshot` of every watched person first, then one
//! `status` event per change, each with its sequence number as the event id. A client that
//! reconnects with `Last-Event-ID` gets exactly the changes it missed, or a new snapshot when they
//! are no longer all kept.
//!
//! Back-pressure: each client has a bounded queue. A client too slow to drain it is dropped
//! (its stream ends); it reconnects with `Last-Event-ID` and catches up, so a stalled console
//! never grows the gateway's memory.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use calgate_engine::{StatusBoard, StatusChange};

use crate::app::AppState;
use crate::view::StatusView;

/// Events queued per client before it counts as too slow.
const CLIENT_QUEUE: usize = 1024;

#[derive(Serialize)]
struct SnapshotEntry<'a> {
    email: &'a str,
    status: StatusView,
}

#[derive(Serialize)]
struct Snapshot<'a> {
    seq: u64,
    people: Vec<SnapshotEntry<'a>>,
}

#[derive(Serialize)]
struct ChangeData<'a> {
    email: &'a str,
    status: StatusView,
    at: jiff::Timestamp,
}

fn snapshot_event(board: &StatusBoard) -> (u64, Event) {
    let (seq, all) = board.snapshot();
    let people = all
        .iter()
        .map(|(email, status)| SnapshotEntry {
            email,
            status: StatusView::from(status),
        })
        .collect();
    let data = serde_json::to_string(&Snapshot { seq, people }).unwrap_or_else(|_| "{}".into());
    (
        seq,
        Event::default()
            .event("snapshot")
            .id(seq.to_string())
            .data(data),
    )
}

fn change_event(change: &StatusChange) -> Event {
    let data = serde_json::to_string(&ChangeData {
        email: &change.email,
        status: StatusView::from(&change.status),
        at: change.at,
    })
    .unwrap_or_else(|_| "{}".into());
    Event::default()
        .event("status")
        .id(change.seq.to_string())
        .data(data)
}

pub async fn stream(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let board = app.engine().board().clone();
    // Subscribe before reading the snapshot so no change falls between the two.
    let mut live = board.subscribe();
    let (tx, rx) = mpsc::channel::<Event>(CLIENT_QUEUE);
    app.metrics
        .sse_clients
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let metrics = app.metrics.clone();
    let shutdown = app.shutdown.clone();
    tokio::spawn(async move {
        let _guard = ClientGuard(metrics);
        let mut sent = match last_event_id.and_then(|id| board.changes_since(id).map(|c| (id, c))) {
            Some((id, missed)) => {
                let mut sent = id;
                for change in &missed {
                    if tx.send(change_event(change)).await.is_err() {
                        return;
                    }
                    sent = change.seq;
                }
                sent
            }
            None => {
                let (seq, event) = snapshot_event(&board);
                if tx.send(event).await.is_err() {
                    return;
                }
                seq
            }
        };
        loop {
            let next = tokio::select! {
                next = live.recv() => next,
                () = shutdown.cancelled() => return,
            };
            match next {
                Ok(change) => {
                    if change.seq <= sent {
                        continue;
                    }
                    sent = change.seq;
                    // Full or closed: drop this client rather than queue without bound.
                    if tx.try_send(change_event(&change)).is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let (seq, event) = snapshot_event(&board);
                    sent = seq;
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let events =
        futures::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    Sse::new(events).keep_alive(KeepAlive::default())
}

struct ClientGuard(Arc<crate::metrics::GatewayMetrics>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0
            .sse_clients
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}
