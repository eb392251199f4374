//! `POST /api/v1/notifications/graph` and `POST /api/v1/notifications/graph/lifecycle`: where
//! Microsoft Graph posts change and lifecycle notifications for the subscriptions the engine
//! made. Open routes (Graph sends no token): a notification is trusted only when the engine's
//! desk knows its subscription id and its `clientState`, which only Graph and calgate know.
//!
//! A validation request (`?validationToken=…`) is answered with the token as `text/plain` only
//! while a subscription is being made; any other is refused. A delivery is answered `202` at
//! once: the desk queues the reads, it does not make them. A body that is too large or not a
//! notification collection is refused whole, counted, and changes nothing. Refusals are the
//! API's JSON errors. With several gateways on one database, notifications of subscriptions
//! another gateway made are passed on to it through the database (see `cluster.rs`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use calgate_engine::{Incoming, Lifecycle};
use calgate_graph::subscriptions::{
    LifecycleEvent, NotificationCollection, VALIDATION_TOKEN_PARAM,
};

use crate::api::ApiError;
use crate::state::AppState;

/// The largest delivery read: Graph batches notifications, each under a kilobyte.
pub const MAX_DELIVERY_BYTES: usize = 512 * 1024;

/// A validation token longer than this is not Graph's.
const MAX_VALIDATION_TOKEN_CHARS: usize = 1_024;

#[derive(Debug, Deserialize)]
pub struct Validation {
    #[serde(rename = "validationToken")]
    validation_token: Option<String>,
}

/// `POST /api/v1/notifications/graph`.
pub async fn change(
    State(app): State<Arc<AppState>>,
    Query(validation): Query<Validation>,
    body: Body,
) -> Response {
    receive(app, validation, body).await
}

/// `POST /api/v1/notifications/graph/lifecycle`.
pub async fn lifecycle(
    State(app): State<Arc<AppState>>,
    Query(validation): Query<Validation>,
    body: Body,
) -> Response {
    receive(app, validation, body).await
}

async fn receive(app: Arc<AppState>, validation: Validation, body: Body) -> Response {
    let desk = app.engine().notifications();
    if let Some(token) = validation.validation_token {
        return validate(desk.expecting_validation(), token);
    }
    let received_at = Timestamp::now();
    let bytes = match axum::body::to_bytes(body, MAX_DELIVERY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            desk.refuse_delivery(true);
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a notification delivery is at most 512 KiB",
            );
        }
    };
    let items = match NotificationCollection::read(&bytes, MAX_DELIVERY_BYTES) {
        Ok(items) => items,
        Err(e) => {
            desk.refuse_delivery(false);
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("not a notification collection: {e}"),
            );
        }
    };
    let incoming = items
        .into_iter()
        .map(|n| Incoming {
            lifecycle: n.lifecycle_event().map(lifecycle_of),
            subscription_id: n.subscription_id.unwrap_or_default(),
            client_state: n.client_state,
        })
        .collect();
    let receipt = desk.receive(incoming, received_at);
    // Several gateways: the one that holds those subscriptions hears of them; Graph is
    // answered without waiting for that.
    if !receipt.forward.is_empty() {
        let forward = receipt.forward.clone();
        tokio::spawn(async move { crate::cluster::forward_notifications(&app, &forward).await });
    }
    tracing::debug!(
        accepted = receipt.accepted,
        dropped = receipt.dropped,
        "graph notifications"
    );
    StatusCode::ACCEPTED.into_response()
}

fn lifecycle_of(event: LifecycleEvent) -> Lifecycle {
    match event {
        LifecycleEvent::ReauthorizationRequired => Lifecycle::ReauthorizationRequired,
        LifecycleEvent::SubscriptionRemoved => Lifecycle::SubscriptionRemoved,
        LifecycleEvent::Missed => Lifecycle::Missed,
    }
}

/// The validation handshake: the token back as plain text, only when a subscription of ours
/// is being made and the token looks like one.
fn validate(expected: bool, token: String) -> Response {
    if !expected {
        return refuse(
            StatusCode::FORBIDDEN,
            "no subscription is being made: this validation request is not expected",
        );
    }
    if token.is_empty()
        || token.chars().count() > MAX_VALIDATION_TOKEN_CHARS
        || token.chars().any(char::is_control)
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("{VALIDATION_TOKEN_PARAM} is empty, too long or holds control characters"),
        );
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        token,
    )
        .into_response()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let code = match status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        _ => "bad_request",
    };
    ApiError::new(status, code, message).into_response()
}
