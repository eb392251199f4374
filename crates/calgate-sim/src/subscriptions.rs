//! Graph change notifications: `POST/GET /v1.0/subscriptions`, `GET/PATCH/DELETE
//! /v1.0/subscriptions/{id}` on a person's `users/{id-or-address}/events`, the validation
//! handshake to the notification URLs, the notifications posted when a mailbox's events change
//! through the control API, and lifecycle events on demand.
//!
//! The Graph endpoints go through `graph.rs`'s `serve` (bearer token, a calendar read
//! permission, throttling, statistics, Graph's error bodies); bodies are calgate-graph's
//! `subscriptions` types, the ones calgate's client reads. As on Graph, a notification URL must
//! be HTTPS — relaxed for a loopback host, so tests need no certificate — and must echo the
//! validation token as `text/plain` within `VALIDATION_TIMEOUT_SECS`, or nothing is created.
//!
//! A subscription whose expiry has passed is gone: it is removed (and counted) the next time
//! the subscriptions are looked at, before any notification is sent. Notifications leave from a
//! spawned task, so the control call that changed the events returns at once; subscriptions
//! sharing a notification URL get one collection, as Graph batches.
//!
//! Control API: `GET /_sim/graph/subscriptions` (every live subscription, for tests) and
//! `POST /_sim/graph/subscriptions/{id}/lifecycle {"event": …}`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use calgate_graph::subscriptions::{
    LifecycleEvent, MAX_CLIENT_STATE_CHARS, NewSubscription, Notification, NotificationCollection,
    RenewSubscription, Subscription, SubscriptionPage, VALIDATION_TIMEOUT_SECS,
    VALIDATION_TOKEN_PARAM, events_resource_user, expiry_refusal_message, write_time,
};
use jiff::{SignedDuration, Timestamp};
use reqwest::Url;
use serde::Serialize;

use crate::graph::{Answer, Operation, Target, serve, settings, unreadable_body};
use crate::state::SimState;
use crate::stats::Outcome;
use crate::tokens::TokenClaims;

/// Subscriptions per page of `GET /v1.0/subscriptions`.
pub const LIST_PAGE_SIZE: usize = 100;

/// Graph waits about this long for a notification to be accepted.
pub const NOTIFICATION_TIMEOUT_SECS: u64 = 3;

/// The most of a receiver's answer that is read (a validation token is short).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The change types a subscription to events may ask for.
const CHANGE_TYPES: [&str; 3] = ["created", "updated", "deleted"];

/// Counter names in the statistics' `outbound` section.
pub mod counters {
    pub const VALIDATIONS_SENT: &str = "graph.subscriptions.validations.sent";
    pub const VALIDATIONS_FAILED: &str = "graph.subscriptions.validations.failed";
    pub const NOTIFICATIONS_SENT: &str = "graph.subscriptions.notifications.sent";
    pub const NOTIFICATIONS_FAILED: &str = "graph.subscriptions.notifications.failed";
    pub const LIFECYCLE_SENT: &str = "graph.subscriptions.lifecycle.sent";
    pub const LIFECYCLE_FAILED: &str = "graph.subscriptions.lifecycle.failed";
    pub const EXPIRED: &str = "graph.subscriptions.expired";
}

/// One `/subscriptions` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Create,
    Renew,
    Delete,
    List,
    Get,
}

impl Call {
    pub fn stat_name(self) -> &'static str {
        match self {
            Call::Create => "graph.subscriptions.create",
            Call::Renew => "graph.subscriptions.renew",
            Call::Delete => "graph.subscriptions.delete",
            Call::List => "graph.subscriptions.list",
            Call::Get => "graph.subscriptions.get",
        }
    }
}

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/v1.0/subscriptions", get(list).post(create))
        .route(
            "/v1.0/subscriptions/{id}",
            get(get_one).patch(renew).delete(delete_one),
        )
        .route("/_sim/graph/subscriptions", get(control_list))
        .route(
            "/_sim/graph/subscriptions/{id}/lifecycle",
            post(control_lifecycle),
        )
}

/// A live subscription.
#[derive(Debug, Clone)]
struct Live {
    /// Creation order, for the listing and its page tokens.
    seq: u64,
    id: String,
    application_id: String,
    /// As asked.
    resource: String,
    change_types: Vec<&'static str>,
    notification_url: String,
    lifecycle_notification_url: Option<String>,
    client_state: Option<String>,
    expires: Timestamp,
    /// The person the resource names: directory id and address.
    person_id: String,
    address: String,
    renewals: u64,
    notifications_sent: u64,
    notifications_failed: u64,
}

impl Live {
    fn wire(&self, with_client_state: bool) -> Subscription {
        Subscription {
            id: Some(self.id.clone()),
            resource: Some(self.resource.clone()),
            change_type: Some(self.change_types.join(",")),
            notification_url: Some(self.notification_url.clone()),
            lifecycle_notification_url: self.lifecycle_notification_url.clone(),
            expiration_date_time: Some(write_time(self.expires)),
            client_state: if with_client_state {
                self.client_state.clone()
            } else {
                None
            },
            application_id: Some(self.application_id.clone()),
        }
    }
}

/// Every live subscription, and the client that posts to subscribers. Kept in the state's
/// extensions.
#[derive(Debug, Default)]
struct Book {
    /// By id, lowercase.
    live: Mutex<HashMap<String, Live>>,
    next_seq: AtomicU64,
    client: OnceLock<Option<reqwest::Client>>,
}

impl Book {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live subscriptions, after removing (and counting) every one that has expired.
    fn live(&self, state: &SimState) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        let now = Timestamp::now();
        let mut live = self.lock();
        let before = live.len();
        live.retain(|_, s| s.expires > now);
        let expired = u64::try_from(before - live.len()).unwrap_or(u64::MAX);
        state.stats.count_outbound(counters::EXPIRED, expired);
        live
    }

    /// The client for validation requests and notifications: no redirects, no proxy, short
    /// timeouts (each request sets its own whole-request limit too).
    fn client(&self) -> Option<reqwest::Client> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .connect_timeout(Duration::from_secs(NOTIFICATION_TIMEOUT_SECS))
                    .timeout(Duration::from_secs(VALIDATION_TIMEOUT_SECS))
                    .user_agent("calgate-sim (Microsoft Graph change notifications)")
                    .build()
                    .ok()
            })
            .clone()
    }
}

fn book(state: &SimState) -> Arc<Book> {
    let mut ext = state.extensions.lock().unwrap_or_else(|p| p.into_inner());
    match ext.get::<Arc<Book>>() {
        Some(b) => b.clone(),
        None => {
            let b = Arc::new(Book::default());
            ext.insert(b.clone());
            b
        }
    }
}

async fn create(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let op = Operation::Subscriptions(Call::Create);
    serve(&state, op, Target::None, &headers, &body, None).await
}

async fn list(
    State(state): State<Arc<SimState>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let op = Operation::Subscriptions(Call::List);
    serve(&state, op, Target::None, &headers, &[], Some(query)).await
}

async fn get_one(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let op = Operation::Subscriptions(Call::Get);
    serve(&state, op, Target::Subscription(id), &headers, &[], None).await
}

async fn renew(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let op = Operation::Subscriptions(Call::Renew);
    serve(&state, op, Target::Subscription(id), &headers, &body, None).await
}

async fn delete_one(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let op = Operation::Subscriptions(Call::Delete);
    serve(&state, op, Target::Subscription(id), &headers, &[], None).await
}

/// Answers one `/subscriptions` call of an authenticated, permitted caller.
pub(crate) async fn answer(
    state: &SimState,
    call: Call,
    claims: &TokenClaims,
    id: &str,
    body: &[u8],
    query: &[(String, String)],
    request_id: &str,
) -> Answer {
    let book = book(state);
    match call {
        Call::Create => subscribe(state, &book, claims, body, request_id).await,
        Call::Renew => renew_one(state, &book, claims, id, body, request_id),
        Call::Delete => {
            let mut live = book.live(state);
            match find_own(&live, claims, id) {
                Some(key) => {
                    live.remove(&key);
                    Answer::ok(String::new(), Outcome::Success).with_status(StatusCode::NO_CONTENT)
                }
                None => not_found(request_id),
            }
        }
        Call::Get => {
            let live = book.live(state);
            match find_own(&live, claims, id).and_then(|key| live.get(&key)) {
                Some(s) => Answer::ok(s.wire(false).to_json(), Outcome::Success),
                None => not_found(request_id),
            }
        }
        Call::List => list_page(state, &book, claims, query, request_id),
    }
}

/// The key of the caller's own live subscription `id`; another application's is not found.
fn find_own(live: &HashMap<String, Live>, claims: &TokenClaims, id: &str) -> Option<String> {
    let key = id.trim().to_ascii_lowercase();
    live.get(&key)
        .filter(|s| s.application_id.eq_ignore_ascii_case(&claims.app_id))
        .map(|_| key)
}

fn not_found(request_id: &str) -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        "The object was not found.",
        request_id,
        Outcome::Error,
    )
}

fn invalid(message: &str, request_id: &str) -> Answer {
    Answer::bad_request("InvalidRequest", message, request_id)
}

fn validation_error(message: &str, request_id: &str) -> Answer {
    Answer::bad_request("ValidationError", message, request_id)
}

/// The expiry granted for an asked `expirationDateTime`: readable, in the future, within the
/// maximum lifetime, and cut to the simulated short clock when one is set.
fn granted_expiry(state: &SimState, asked: &str, request_id: &str) -> Result<Timestamp, Answer> {
    let graph = settings(state);
    let now = Timestamp::now();
    let Some(at) = calgate_graph::subscriptions::read_time(asked) else {
        return Err(invalid(
            &format!("Invalid value '{asked}' for property 'expirationDateTime'."),
            request_id,
        ));
    };
    if at <= now {
        return Err(invalid(
            "Subscription expiration can only be in the future.",
            request_id,
        ));
    }
    let max = SignedDuration::from_mins(i64::from(graph.subscription_max_minutes));
    if at.duration_since(now) > max {
        return Err(invalid(
            &expiry_refusal_message(graph.subscription_max_minutes),
            request_id,
        ));
    }
    if graph.subscription_lifetime_cap_s > 0 {
        let cap = i64::try_from(graph.subscription_lifetime_cap_s).unwrap_or(i64::MAX);
        if let Ok(capped) = now.saturating_add(SignedDuration::from_secs(cap)) {
            return Ok(at.min(capped));
        }
    }
    Ok(at)
}

/// The change types asked for, each one of created/updated/deleted, at least one.
fn change_types(asked: &str) -> Result<Vec<&'static str>, String> {
    let mut out: Vec<&'static str> = Vec::new();
    for part in asked.split(',').map(str::trim) {
        let Some(known) = CHANGE_TYPES.iter().find(|c| c.eq_ignore_ascii_case(part)) else {
            return Err(format!(
                "'{part}' is not a valid changeType. Valid values are created, updated, deleted."
            ));
        };
        if !out.contains(known) {
            out.push(known);
        }
    }
    if out.is_empty() {
        return Err("changeType must name at least one change.".to_owned());
    }
    Ok(out)
}

/// A notification URL Graph would post to: HTTPS, or plain HTTP on a loopback host.
fn notification_url(field: &str, raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|_| format!("Invalid {field} '{raw}'."))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!("The {field} must be an HTTPS URL: '{raw}'.")),
    }
}

async fn subscribe(
    state: &SimState,
    book: &Book,
    claims: &TokenClaims,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let asked: NewSubscription = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => return unreadable_body(&e, request_id),
    };
    let Some(user) = events_resource_user(&asked.resource) else {
        return invalid(
            &format!(
                "Resource '{}' is not supported: subscribe to 'users/{{id}}/events'.",
                asked.resource
            ),
            request_id,
        );
    };
    let person = {
        let tenant = state.tenant();
        tenant
            .find(user)
            .or_else(|| tenant.find_id(user))
            .and_then(|i| tenant.people.get(i))
            .map(|p| (p.id.clone(), p.email.clone()))
    };
    let Some((person_id, address)) = person else {
        return Answer::error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("Resource not found for the segment '{user}'."),
            request_id,
            Outcome::Error,
        );
    };
    let change_types = match change_types(&asked.change_type) {
        Ok(c) => c,
        Err(message) => return invalid(&message, request_id),
    };
    if let Some(cs) = &asked.client_state
        && cs.chars().count() > MAX_CLIENT_STATE_CHARS
    {
        return validation_error(
            &format!("clientState must be at most {MAX_CLIENT_STATE_CHARS} characters."),
            request_id,
        );
    }
    let notify = match notification_url("notificationUrl", &asked.notification_url) {
        Ok(u) => u,
        Err(message) => return validation_error(&message, request_id),
    };
    let lifecycle = match asked.lifecycle_notification_url.as_deref() {
        Some(raw) => match notification_url("lifecycleNotificationUrl", raw) {
            Ok(u) => Some(u),
            Err(message) => return validation_error(&message, request_id),
        },
        None => None,
    };
    if let Err(refusal) = granted_expiry(state, &asked.expiration_date_time, request_id) {
        return refusal;
    }
    for url in std::iter::once(&notify).chain(lifecycle.as_ref()) {
        if !validate(state, book, url).await {
            return validation_error(
                "Subscription validation request failed. Notification endpoint must respond \
                 with 200 OK to validation request.",
                request_id,
            );
        }
    }
    // The handshake took time: the expiry is granted as of now.
    let expires = match granted_expiry(state, &asked.expiration_date_time, request_id) {
        Ok(at) => at,
        Err(refusal) => return refusal,
    };
    let live = Live {
        seq: book.next_seq.fetch_add(1, Ordering::SeqCst),
        id: uuid::Uuid::new_v4().to_string(),
        application_id: claims.app_id.clone(),
        resource: asked.resource.trim().to_owned(),
        change_types,
        notification_url: asked.notification_url.trim().to_owned(),
        lifecycle_notification_url: asked
            .lifecycle_notification_url
            .as_deref()
            .map(|u| u.trim().to_owned()),
        client_state: asked.client_state,
        expires,
        person_id,
        address,
        renewals: 0,
        notifications_sent: 0,
        notifications_failed: 0,
    };
    let body = live.wire(true).to_json();
    book.live(state).insert(live.id.to_ascii_lowercase(), live);
    Answer::ok(body, Outcome::Success).with_status(StatusCode::CREATED)
}

/// Graph's validation handshake: a POST with a fresh token in the query, answered 200 with
/// the token as `text/plain` in time.
async fn validate(state: &SimState, book: &Book, url: &Url) -> bool {
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    );
    let mut target = url.clone();
    target
        .query_pairs_mut()
        .append_pair(VALIDATION_TOKEN_PARAM, &token);
    state.stats.count_outbound(counters::VALIDATIONS_SENT, 1);
    let passed = match book.client() {
        Some(client) => {
            let sent = client
                .post(target)
                .header(reqwest::header::CONTENT_TYPE, "text/plain")
                .timeout(Duration::from_secs(VALIDATION_TIMEOUT_SECS))
                .send()
                .await;
            match sent {
                Ok(r) if r.status() == reqwest::StatusCode::OK => {
                    let plain = r
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/plain"));
                    let echoed = read_capped(r)
                        .await
                        .is_some_and(|b| b.strip_suffix(b"\n").unwrap_or(&b) == token.as_bytes());
                    plain && echoed
                }
                _ => false,
            }
        }
        None => false,
    };
    if !passed {
        state.stats.count_outbound(counters::VALIDATIONS_FAILED, 1);
    }
    passed
}

/// A receiver's answer, up to `MAX_ANSWER_BYTES`; `None` when longer or cut off.
async fn read_capped(mut response: reqwest::Response) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if out.len() + chunk.len() > MAX_ANSWER_BYTES {
            return None;
        }
        out.extend_from_slice(&chunk);
    }
    Some(out)
}

fn renew_one(
    state: &SimState,
    book: &Book,
    claims: &TokenClaims,
    id: &str,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let asked: RenewSubscription = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => return unreadable_body(&e, request_id),
    };
    let mut live = book.live(state);
    let Some(key) = find_own(&live, claims, id) else {
        return not_found(request_id);
    };
    let expires = match granted_expiry(state, &asked.expiration_date_time, request_id) {
        Ok(at) => at,
        Err(refusal) => return refusal,
    };
    match live.get_mut(&key) {
        Some(s) => {
            s.expires = expires;
            s.renewals += 1;
            Answer::ok(s.wire(false).to_json(), Outcome::Success)
        }
        None => not_found(request_id),
    }
}

fn list_page(
    state: &SimState,
    book: &Book,
    claims: &TokenClaims,
    query: &[(String, String)],
    request_id: &str,
) -> Answer {
    let after = match query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("$skiptoken"))
    {
        Some((_, v)) => match v.parse::<u64>() {
            Ok(seq) => Some(seq),
            Err(_) => return invalid("Invalid $skiptoken.", request_id),
        },
        None => None,
    };
    let live = book.live(state);
    let mut own: Vec<&Live> = live
        .values()
        .filter(|s| s.application_id.eq_ignore_ascii_case(&claims.app_id))
        .filter(|s| after.is_none_or(|a| s.seq > a))
        .collect();
    own.sort_by_key(|s| s.seq);
    let more = own.len() > LIST_PAGE_SIZE;
    own.truncate(LIST_PAGE_SIZE);
    let next_link = match (more, own.last()) {
        (true, Some(last)) => Some(format!(
            "{}/v1.0/subscriptions?$skiptoken={}",
            state.base_url, last.seq
        )),
        _ => None,
    };
    let page = SubscriptionPage {
        value: Some(own.iter().map(|s| s.wire(false)).collect()),
        next_link,
    };
    Answer::ok(page.to_json(), Outcome::Success)
}

/// What a control-API change did to a person's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventChange {
    Created,
    Updated,
    Deleted,
}

impl EventChange {
    fn as_str(self) -> &'static str {
        match self {
            EventChange::Created => "created",
            EventChange::Updated => "updated",
            EventChange::Deleted => "deleted",
        }
    }

    /// What replacing `old` with `new` looks like: an event more is a creation, one fewer a
    /// deletion, otherwise an update; with the index of the first event that differs.
    pub fn between<T: PartialEq>(old: &[T], new: &[T]) -> (EventChange, usize) {
        let first = old
            .iter()
            .zip(new)
            .position(|(a, b)| a != b)
            .unwrap_or(old.len().min(new.len()));
        let change = match new.len().cmp(&old.len()) {
            std::cmp::Ordering::Greater => EventChange::Created,
            std::cmp::Ordering::Less => EventChange::Deleted,
            std::cmp::Ordering::Equal => EventChange::Updated,
        };
        (change, first)
    }
}

/// Tells every live subscription on the events of the person at `address` that they changed:
/// one collection per notification URL, posted from a spawned task (this returns at once).
pub fn events_changed(state: &Arc<SimState>, address: &str, change: EventChange, index: usize) {
    let Some(person_id) = state.tenant().person(address).map(|p| p.id.clone()) else {
        return;
    };
    let book = book(state);
    let event_id = format!("{person_id}-event-{index}");
    let resource = format!("Users/{person_id}/Events/{event_id}");
    let mut batches: BTreeMap<String, Vec<(String, Notification)>> = BTreeMap::new();
    {
        let live = book.live(state);
        for s in live.values() {
            let same_person = s.person_id.eq_ignore_ascii_case(&person_id)
                || s.address.eq_ignore_ascii_case(address);
            if !same_person || !s.change_types.contains(&change.as_str()) {
                continue;
            }
            let n = Notification::change(
                &s.id,
                s.expires,
                s.client_state.as_deref(),
                change.as_str(),
                &resource,
                &state.tenant_id,
                &event_id,
            );
            batches
                .entry(s.notification_url.clone())
                .or_default()
                .push((s.id.to_ascii_lowercase(), n));
        }
    }
    if batches.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        for (url, batch) in batches {
            let (keys, notifications): (Vec<String>, Vec<Notification>) = batch.into_iter().unzip();
            let count = u64::try_from(notifications.len()).unwrap_or(u64::MAX);
            let delivered = post_collection(&book, &url, notifications)
                .await
                .is_some_and(|s| s.is_success());
            state
                .stats
                .count_outbound(counters::NOTIFICATIONS_SENT, count);
            if !delivered {
                state
                    .stats
                    .count_outbound(counters::NOTIFICATIONS_FAILED, count);
            }
            let mut live = book.lock();
            for key in keys {
                if let Some(s) = live.get_mut(&key) {
                    s.notifications_sent += 1;
                    if !delivered {
                        s.notifications_failed += 1;
                    }
                }
            }
        }
    });
}

/// Posts a notification collection and answers the receiver's status; `None` when it did not
/// answer in time (or the URL is unusable).
async fn post_collection(
    book: &Book,
    url: &str,
    notifications: Vec<Notification>,
) -> Option<reqwest::StatusCode> {
    let client = book.client()?;
    let body = NotificationCollection::new(notifications).to_json();
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .timeout(Duration::from_secs(NOTIFICATION_TIMEOUT_SECS))
        .body(body)
        .send()
        .await
        .ok()?;
    let status = response.status();
    // The body is not wanted; reading a little lets the connection be reused.
    let _ = read_capped(response).await;
    Some(status)
}

/// One entry of `GET /_sim/graph/subscriptions`.
#[derive(Debug, Serialize)]
struct SubscriptionView {
    id: String,
    application_id: String,
    resource: String,
    person_id: String,
    address: String,
    change_type: String,
    notification_url: String,
    lifecycle_notification_url: Option<String>,
    expires: String,
    renewals: u64,
    notifications_sent: u64,
    notifications_failed: u64,
}

async fn control_list(State(state): State<Arc<SimState>>) -> Response {
    let book = book(&state);
    let live = book.live(&state);
    let mut all: Vec<&Live> = live.values().collect();
    all.sort_by_key(|s| s.seq);
    let views: Vec<SubscriptionView> = all
        .into_iter()
        .map(|s| SubscriptionView {
            id: s.id.clone(),
            application_id: s.application_id.clone(),
            resource: s.resource.clone(),
            person_id: s.person_id.clone(),
            address: s.address.clone(),
            change_type: s.change_types.join(","),
            notification_url: s.notification_url.clone(),
            lifecycle_notification_url: s.lifecycle_notification_url.clone(),
            expires: write_time(s.expires),
            renewals: s.renewals,
            notifications_sent: s.notifications_sent,
            notifications_failed: s.notifications_failed,
        })
        .collect();
    axum::Json(views).into_response()
}

/// `POST /_sim/graph/subscriptions/{id}/lifecycle`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LifecycleRequest {
    event: String,
}

/// The answer: what was sent, and what the receiver said (`None` when it did not answer).
#[derive(Debug, Serialize)]
struct LifecycleSent {
    sent: NotificationCollection,
    receiver_status: Option<u16>,
    /// Whether the subscription was removed (`subscriptionRemoved`).
    removed: bool,
}

async fn control_lifecycle(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    use crate::control::error;
    let asked: LifecycleRequest = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_lifecycle_request",
                e.to_string(),
            );
        }
    };
    let Some(event) = LifecycleEvent::parse(&asked.event) else {
        return error(
            StatusCode::BAD_REQUEST,
            "unknown_lifecycle_event",
            format!(
                "'{}' is not a lifecycle event (reauthorizationRequired, subscriptionRemoved, \
                 missed)",
                asked.event
            ),
        );
    };
    let book = book(&state);
    let found = {
        let mut live = book.live(&state);
        let key = id.trim().to_ascii_lowercase();
        match live.get(&key).cloned() {
            None => None,
            Some(s) => {
                if s.lifecycle_notification_url.is_some()
                    && event == LifecycleEvent::SubscriptionRemoved
                {
                    live.remove(&key);
                }
                Some(s)
            }
        }
    };
    let Some(s) = found else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such subscription");
    };
    let Some(url) = s.lifecycle_notification_url.clone() else {
        return error(
            StatusCode::CONFLICT,
            "no_lifecycle_url",
            "the subscription was created without a lifecycleNotificationUrl",
        );
    };
    let notification = Notification::lifecycle(
        &s.id,
        s.expires,
        s.client_state.as_deref(),
        event,
        &state.tenant_id,
    );
    let sent = NotificationCollection::new(vec![notification.clone()]);
    let status = post_collection(&book, &url, vec![notification]).await;
    state.stats.count_outbound(counters::LIFECYCLE_SENT, 1);
    if !status.is_some_and(|s| s.is_success()) {
        state.stats.count_outbound(counters::LIFECYCLE_FAILED, 1);
    }
    axum::Json(LifecycleSent {
        sent,
        receiver_status: status.map(|s| s.as_u16()),
        removed: event == LifecycleEvent::SubscriptionRemoved,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_types_are_a_non_empty_subset() {
        assert_eq!(
            change_types("created,updated,deleted"),
            Ok(vec!["created", "updated", "deleted"])
        );
        assert_eq!(change_types(" Updated , updated"), Ok(vec!["updated"]));
        assert!(change_types("").is_err());
        assert!(change_types("created,").is_err());
        assert!(change_types("created,moved").is_err());
    }

    #[test]
    fn notification_urls_are_https_except_on_loopback() {
        for ok in [
            "https://gw.example.test/n",
            "http://127.0.0.1:8080/n",
            "http://127.8.9.10/n",
            "http://localhost:1/n",
            "http://LOCALHOST/n",
            "http://[::1]:99/n",
        ] {
            assert!(notification_url("notificationUrl", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://gw.example.test/n",
            "http://10.0.0.1/n",
            "http://localhost.example.test/n",
            "ftp://127.0.0.1/n",
            "not a url",
            "",
        ] {
            let refused = notification_url("notificationUrl", bad);
            assert!(refused.is_err(), "{bad}");
        }
    }

    #[test]
    fn a_change_is_told_by_the_number_of_events() {
        assert_eq!(
            EventChange::between(&[1, 2], &[1, 2, 3]),
            (EventChange::Created, 2)
        );
        assert_eq!(
            EventChange::between(&[1, 2, 3], &[1, 3]),
            (EventChange::Deleted, 1)
        );
        assert_eq!(
            EventChange::between(&[1, 2], &[1, 5]),
            (EventChange::Updated, 1)
        );
        assert_eq!(
            EventChange::between::<u8>(&[], &[]),
            (EventChange::Updated, 0)
        );
    }
}
