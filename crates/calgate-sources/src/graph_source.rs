//! Microsoft Graph as a calendar source: `calendar/getSchedule` for free/busy and schedule items,
//! `getMailTips` for the automatic-reply text of people the schedule shows out of office now.
//!
//! Requests carry at most 20 schedules by default (configurable up to 100). Graph limits
//! concurrency per application *and mailbox the call is made on* (four requests); calgate keeps
//! at most four in flight and makes every call on one anchor mailbox: `/me` (the service
//! account) for a delegated sign-in; for app-only access the configured username when there is
//! one, otherwise the batch's first mailbox (if Graph does not know that one, it is recorded as
//! not found and the next one in the batch becomes the anchor). One anchor means Graph's
//! per-mailbox limit and calgate's own limit are the same four requests.
//!
//! 429 and 503 with `Retry-After` (fractional seconds are allowed) become
//! [`FailureAction::RetryAfter`]; the source also remembers the time itself so that no request of
//! its own (a mail-tips call after a schedule, a batch whose token arrived late) goes out before
//! it, and after it a single request goes first while the others wait for its answer. A 401 goes to the [`Authorizer`]: a new token is fetched once, and a second refusal is a
//! credential failure that stops the source until the lockout guard's probe. A 403 means the app
//! registration lacks a permission and says which. JSON `$batch` is not used: Graph throttles the
//! members of a batch one by one against the same per-mailbox limit, so it saves round trips but
//! not throttling budget, and a getSchedule already carries 20 mailboxes.
//!
//! With presence on, `getPresencesByUserId` reads Microsoft Teams presence (`presence.rs`).
//! With change notifications on, `subscriptions.rs` makes, renews and deletes a subscription per
//! mailbox on `users/{address}/events`, under the same sign-in and throttling hold.
//!
//! [`GraphSource::get`] is a plain GET with the same sign-in, hold and cap, answering Graph's
//! error answer as read: the directory reader (calgate-directory) lists people through it with
//! the source's own credentials.
//!
//! Bodies are read up to a cap; no header value, token or secret reaches a log line, an error
//! message or `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use calgate_auth::{AuthError, Authorizer, GrantError, Refusal, Resource};
use calgate_core::Code;
use calgate_core::{Availability, SourceError};
use calgate_engine::{CalendarSource, FailureAction, SourceFailure, SourceLimits, Window};
use calgate_graph::error::MAX_ERROR_BODY_BYTES;
use calgate_graph::mailtips::MAX_MAILTIPS_RESPONSE_BYTES;
use calgate_graph::schedule::MAX_RESPONSE_BYTES;
use calgate_graph::{
    ErrorCode, GetMailTips, GetSchedule, ScheduleLimit, ServiceError, parse_retry_after,
};
use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;

use crate::http::{ClientError, ClientSettings};

mod presence;
mod subscriptions;

pub use subscriptions::{LIFECYCLE_PATH, NOTIFICATION_PATH, Notifications};

/// Requests in flight per anchor mailbox, as Graph allows for Outlook resources.
pub const GRAPH_MAX_IN_FLIGHT: usize = 4;

/// `availabilityViewInterval` calgate asks for: quarter hours, fine enough for a status board
/// and a quarter of the digits of 5-minute slots. Schedule items carry exact times anyway.
pub const VIEW_INTERVAL_MINUTES: u32 = 15;

/// How often a batch may pick a new anchor after Graph did not know the previous one.
const MAX_ANCHOR_ATTEMPTS: usize = 3;

/// The mailbox Graph calls are made on (the path's `/users/{id}` or `/me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// `/me`: the signed-in service account (delegated sign-in).
    Me,
    /// `/users/{mailbox}`: a fixed mailbox (app-only with a configured username).
    Mailbox(String),
    /// `/users/{first mailbox of the batch}` (app-only without a username).
    FirstInBatch,
}

/// How to reach Graph and how to call it.
#[derive(Clone)]
pub struct GraphConfig {
    /// `https://graph.microsoft.com`, or a base that already ends in `/v1.0`.
    pub endpoint: reqwest::Url,
    pub anchor: Anchor,
    /// Schedules per getSchedule request (1–100, 20 by default).
    pub batch_size: ScheduleLimit,
    pub max_in_flight: usize,
    pub interval_minutes: u32,
    /// Ask getMailTips for the automatic reply of mailboxes out of office now.
    pub automatic_replies: bool,
    /// Read Microsoft Teams presence this often (`None`: not at all).
    pub presence_interval: Option<Duration>,
    /// Subscribe to each mailbox's calendar changes (`None`: not at all).
    pub notifications: Option<Notifications>,
    /// The tenant and application the source signs in as (subscriptions belong to them).
    pub application: String,
    /// The whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// PEM certificates trusted in addition to the system roots.
    pub extra_ca_pem: Option<Vec<u8>>,
}

impl GraphConfig {
    pub fn new(endpoint: reqwest::Url, anchor: Anchor) -> GraphConfig {
        GraphConfig {
            endpoint,
            anchor,
            batch_size: ScheduleLimit::default(),
            max_in_flight: GRAPH_MAX_IN_FLIGHT,
            interval_minutes: VIEW_INTERVAL_MINUTES,
            automatic_replies: true,
            presence_interval: None,
            notifications: None,
            application: String::new(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            extra_ca_pem: None,
        }
    }
}

impl fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphConfig")
            .field("endpoint", &self.endpoint.as_str())
            .field("anchor", &self.anchor)
            .field("batch_size", &self.batch_size.get())
            .field("max_in_flight", &self.max_in_flight)
            .field("interval_minutes", &self.interval_minutes)
            .field("automatic_replies", &self.automatic_replies)
            .field("presence_interval", &self.presence_interval)
            .field("notifications", &self.notifications)
            .field("extra_ca_pem", &self.extra_ca_pem.as_ref().map(|p| p.len()))
            .finish_non_exhaustive()
    }
}

/// Why a Graph source cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphSetupError {
    #[error("the Graph endpoint {0} cannot carry a path")]
    Endpoint(String),
    #[error("extra CA bundle is not usable PEM: {0}")]
    CaBundle(String),
    #[error("the HTTP client cannot be built: {0}")]
    Client(String),
}

/// The HTTP client for Graph (and for Entra ID in the same settings): rustls, the extra CA,
/// timeouts, no redirects (a redirect would carry the bearer token or the secret elsewhere).
pub fn http_client(
    extra_ca_pem: Option<&[u8]>,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client, GraphSetupError> {
    crate::http::client(ClientSettings {
        extra_ca_pem,
        timeout,
        connect_timeout,
        max_idle_per_host: Some(GRAPH_MAX_IN_FLIGHT),
        http1_only: false,
    })
    .map_err(|e| match e {
        ClientError::CaBundle(e) => GraphSetupError::CaBundle(e.without_url().to_string()),
        ClientError::NoCertificate => GraphSetupError::CaBundle("no certificate in it".into()),
        ClientError::Build(e) => GraphSetupError::Client(e.without_url().to_string()),
    })
}

/// The versioned API root: the endpoint with `/v1.0` appended unless it names a version.
fn api_root(endpoint: &reqwest::Url) -> Result<reqwest::Url, GraphSetupError> {
    let mut root = endpoint.clone();
    root.set_query(None);
    root.set_fragment(None);
    let path = root.path().trim_end_matches('/').to_string();
    let versioned = path.ends_with("/v1.0") || path.ends_with("/beta");
    {
        let mut segments = root
            .path_segments_mut()
            .map_err(|()| GraphSetupError::Endpoint(endpoint.to_string()))?;
        segments.pop_if_empty();
        if !versioned {
            segments.push("v1.0");
        }
    }
    Ok(root)
}

/// What became of one HTTP call.
enum CallError {
    /// The mailbox in the path is unknown to Graph (404).
    AnchorNotFound(ServiceError),
    Failed(SourceFailure),
}

impl From<SourceFailure> for CallError {
    fn from(f: SourceFailure) -> CallError {
        CallError::Failed(f)
    }
}

/// Why a Graph request gave no 200 answer: Graph's error answer (any status but 401, which the
/// sign-in handles), or a failure before or without one (throttling hold, network, sign-in,
/// a body cut short or too large).
#[derive(Debug, Clone)]
pub enum GraphCallError {
    Answered(ServiceError),
    Failed(SourceFailure),
}

impl From<SourceFailure> for GraphCallError {
    fn from(f: SourceFailure) -> GraphCallError {
        GraphCallError::Failed(f)
    }
}

/// The source's own record of Graph's throttling.
#[derive(Debug, Default)]
struct Throttle {
    /// Graph's `Retry-After`: nothing is sent before it.
    until: Option<Instant>,
    /// A hold was set and no request has been answered unthrottled since: the next goes alone.
    probe_due: bool,
    /// That lone request is on its way.
    probing: bool,
}

impl Throttle {
    /// Refuses to send while a `Retry-After` of this source runs.
    fn check_hold(&mut self) -> Result<(), SourceFailure> {
        if let Some(until) = self.until {
            let now = Instant::now();
            if now < until {
                return Err(held(until - now));
            }
            self.until = None;
        }
        Ok(())
    }
}

/// One admitted request; the lone request after a hold reports how it was answered.
struct Admission<'a> {
    source: &'a GraphSource,
    probe: bool,
}

impl Admission<'_> {
    fn answered(&self, throttled: bool) {
        if self.probe && !throttled {
            self.source.throttle().probe_due = false;
        }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if self.probe {
            self.source.throttle().probing = false;
        }
    }
}

fn held(wait: Duration) -> SourceFailure {
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    SourceFailure::new(
        ErrorCode::Throttled.code(),
        format!(
            "Microsoft Graph asked to wait; {:.1} s remain",
            wait.as_secs_f64()
        ),
        FailureAction::RetryAfter(wait),
    )
}

/// Microsoft Graph as a [`CalendarSource`].
pub struct GraphSource {
    client: reqwest::Client,
    root: reqwest::Url,
    config: GraphConfig,
    authorizer: Authorizer,
    /// Graph's `Retry-After` for this credential and the lone request after it.
    throttle: Mutex<Throttle>,
    /// getMailTips was refused (permission missing): not asked again by this source.
    mail_tips_refused: AtomicBool,
    /// Automatic replies already read, reused rather than asked again at every refresh.
    replies: std::sync::Mutex<crate::replies::ReplyCache>,
    /// Directory ids of the addresses whose presence is read.
    presence_ids: std::sync::Mutex<presence::IdMap>,
    /// The subscription lifetime asked for, lowered when Graph names a shorter limit.
    lifetime_minutes: std::sync::atomic::AtomicU32,
}

impl fmt::Debug for GraphSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphSource")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GraphSource {
    pub fn new(
        config: GraphConfig,
        authorizer: Authorizer,
    ) -> Result<GraphSource, GraphSetupError> {
        let client = http_client(
            config.extra_ca_pem.as_deref(),
            config.timeout,
            config.connect_timeout,
        )?;
        GraphSource::with_client(client, config, authorizer)
    }

    /// With a client built elsewhere (shared with the token source).
    pub fn with_client(
        client: reqwest::Client,
        config: GraphConfig,
        authorizer: Authorizer,
    ) -> Result<GraphSource, GraphSetupError> {
        let root = api_root(&config.endpoint)?;
        Ok(GraphSource {
            client,
            root,
            config,
            authorizer,
            throttle: Mutex::new(Throttle::default()),
            mail_tips_refused: AtomicBool::new(false),
            replies: std::sync::Mutex::new(crate::replies::ReplyCache::default()),
            presence_ids: std::sync::Mutex::new(presence::IdMap::default()),
            lifetime_minutes: std::sync::atomic::AtomicU32::new(
                subscriptions::FIRST_LIFETIME_MINUTES,
            ),
        })
    }

    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// `{root}/me/{operation}` or `{root}/users/{mailbox}/{operation}`.
    fn url(&self, anchor: Option<&str>, operation: &[&str]) -> reqwest::Url {
        let mut url = self.root.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            match anchor {
                Some(mailbox) => segments.push("users").push(mailbox),
                None => segments.push("me"),
            };
            segments.extend(operation);
        }
        url
    }

    fn anchor_for<'a>(&'a self, batch: &'a [String]) -> Option<&'a str> {
        match &self.config.anchor {
            Anchor::Me => None,
            Anchor::Mailbox(m) => Some(m.as_str()),
            Anchor::FirstInBatch => batch.first().map(String::as_str),
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The right to send one request: refused while a hold runs; once it has run out, a single
    /// request goes first and the others wait for its answer, so that a service still throttling
    /// sees one request rather than four.
    async fn admit(&self) -> Result<Admission<'_>, SourceFailure> {
        loop {
            {
                let mut t = self.throttle();
                t.check_hold()?;
                if !t.probe_due {
                    return Ok(Admission {
                        source: self,
                        probe: false,
                    });
                }
                if !t.probing {
                    t.probing = true;
                    return Ok(Admission {
                        source: self,
                        probe: true,
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn hold_until(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut t = self.throttle();
        if t.until.is_none_or(|u| u < until) {
            t.until = Some(until);
        }
        t.probe_due = true;
    }

    /// Posts one JSON body and gives back the 200 body (at most `cap` bytes).
    async fn post(
        &self,
        operation: &'static str,
        url: &reqwest::Url,
        body: String,
        cap: usize,
    ) -> Result<Vec<u8>, CallError> {
        match self.call(operation, url, Some(body), cap).await {
            Ok(body) => Ok(body),
            Err(GraphCallError::Answered(e)) if e.status == StatusCode::NOT_FOUND.as_u16() => {
                Err(CallError::AnchorNotFound(e))
            }
            Err(GraphCallError::Answered(e)) => Err(service_failure(&e).into()),
            Err(GraphCallError::Failed(f)) => Err(f.into()),
        }
    }

    /// The versioned API root (`…/v1.0`) requests are made under. A link Graph hands back
    /// (`@odata.nextLink`) is followed only on this root's origin: the bearer token goes
    /// nowhere else.
    pub fn api_root(&self) -> &reqwest::Url {
        &self.root
    }

    /// `GET url` with this source's sign-in, under its throttling hold: the 200 body (at most
    /// `cap` bytes), or Graph's error answer, or why there was none. The directory reads
    /// through it with the Graph source's own app credentials.
    pub async fn get(
        &self,
        operation: &'static str,
        url: &reqwest::Url,
        cap: usize,
    ) -> Result<Vec<u8>, GraphCallError> {
        self.call(operation, url, None, cap).await
    }

    /// One request (a POST of `body`, else a GET) with one repeat after a refused token.
    async fn call(
        &self,
        operation: &'static str,
        url: &reqwest::Url,
        body: Option<String>,
        cap: usize,
    ) -> Result<Vec<u8>, GraphCallError> {
        let method = if body.is_some() {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        self.call_with(method, operation, url, body, cap).await
    }

    /// One request of any method, with a JSON `body` when given; any 2xx answer is a success
    /// (its body, at most `cap` bytes; empty for 204).
    async fn call_with(
        &self,
        method: reqwest::Method,
        operation: &'static str,
        url: &reqwest::Url,
        body: Option<String>,
        cap: usize,
    ) -> Result<Vec<u8>, GraphCallError> {
        let mut refused_once = false;
        loop {
            self.throttle().check_hold()?;
            let authorization = self
                .authorizer
                .authorize(Resource::Graph)
                .await
                .map_err(|e| auth_failure(&e))?;
            // A token may have taken a while: a Retry-After heard meanwhile still counts.
            let admission = self.admit().await?;
            let started = Instant::now();
            let request = match &body {
                Some(body) => self
                    .client
                    .request(method.clone(), url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone()),
                None => self.client.request(method.clone(), url.clone()),
            };
            let sent = request
                .header(
                    reqwest::header::AUTHORIZATION,
                    authorization.header_value().clone(),
                )
                .send()
                .await;
            let mut response = match sent {
                Ok(r) => r,
                // No verdict on the credential: dropping the authorization says nothing.
                Err(e) => return Err(network_failure(&e).into()),
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            // Held at once, before the body is read: other requests of this source are about
            // to go.
            let throttled = matches!(status.as_u16(), 429 | 503);
            if throttled && let Some(wait) = retry_after.as_deref().and_then(parse_retry_after) {
                self.hold_until(wait);
            }
            admission.answered(throttled);
            tracing::debug!(
                operation,
                status = status.as_u16(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "graph request"
            );
            if status == StatusCode::UNAUTHORIZED {
                match self.authorizer.refused(authorization, Code::GraphHttp(401)) {
                    Refusal::RetryWithNewToken if !refused_once => {
                        refused_once = true;
                        continue;
                    }
                    Refusal::RetryWithNewToken => {
                        return Err(SourceFailure::new(
                            Code::GraphHttp(401),
                            "Microsoft Graph refused a freshly issued access token",
                            FailureAction::Transient,
                        )
                        .into());
                    }
                    Refusal::Stop(failed) => {
                        return Err(SourceFailure::new(
                            failed.code(),
                            failed.reason(),
                            FailureAction::CredentialFailure {
                                next_attempt: Some(failed.next_probe_at),
                            },
                        )
                        .into());
                    }
                }
            }
            self.authorizer.accepted(authorization);
            if status.is_success() {
                return read_capped(&mut response, cap).await.map_err(Into::into);
            }
            // An error body is only for the message; a cut or oversized one is not a failure.
            let error_body = read_capped(&mut response, MAX_ERROR_BODY_BYTES)
                .await
                .unwrap_or_default();
            let error = ServiceError::read(status.as_u16(), retry_after.as_deref(), &error_body);
            return Err(GraphCallError::Answered(error));
        }
    }

    /// One getSchedule chunk (at most `batch_size` mailboxes), answered in chunk order.
    async fn schedules(
        &self,
        chunk: &[String],
        window: Window,
        fetched_at: Timestamp,
    ) -> Result<Vec<Availability>, SourceFailure> {
        let mut answered: HashMap<String, Availability> = HashMap::new();
        let mut pending: Vec<String> = Vec::with_capacity(chunk.len());
        for mailbox in chunk {
            if mailbox.trim().is_empty() {
                answered.insert(
                    key(mailbox),
                    failed(
                        mailbox,
                        window,
                        fetched_at,
                        Code::GraphBadAddress,
                        "blank address",
                    ),
                );
            } else {
                pending.push(mailbox.clone());
            }
        }
        let mut anchors_tried = 0;
        while !pending.is_empty() {
            let request = GetSchedule::new(
                pending.clone(),
                window.start,
                window.end,
                self.config.interval_minutes,
                self.config.batch_size,
            )
            .map_err(|e| {
                SourceFailure::new(
                    Code::GraphRequestInvalid,
                    e.to_string(),
                    FailureAction::Misconfigured,
                )
            })?;
            let anchor = self.anchor_for(&pending).map(str::to_owned);
            let url = self.url(anchor.as_deref(), &["calendar", "getSchedule"]);
            match self
                .post("getSchedule", &url, request.to_json(), MAX_RESPONSE_BYTES)
                .await
            {
                Ok(body) => {
                    let read = request.read_response(&body, fetched_at).map_err(|e| {
                        SourceFailure::new(
                            e.code().code(),
                            format!("Microsoft Graph's getSchedule answer: {e}"),
                            FailureAction::Transient,
                        )
                    })?;
                    for a in read {
                        answered.insert(key(&a.mailbox), a);
                    }
                    break;
                }
                Err(CallError::AnchorNotFound(error))
                    if self.config.anchor == Anchor::FirstInBatch
                        && anchors_tried + 1 < MAX_ANCHOR_ATTEMPTS =>
                {
                    // The anchor itself is unknown: it is that mailbox's answer; go on with the next.
                    anchors_tried += 1;
                    let gone = pending.remove(0);
                    let message = error
                        .message
                        .unwrap_or_else(|| "Microsoft Graph does not know this mailbox".into());
                    answered.insert(
                        key(&gone),
                        failed(
                            &gone,
                            window,
                            fetched_at,
                            ErrorCode::MailRecipientNotFound.code(),
                            &message,
                        ),
                    );
                }
                Err(CallError::AnchorNotFound(error)) => {
                    return Err(SourceFailure::new(
                        error.code.code(),
                        format!(
                            "Microsoft Graph does not know the mailbox the calls are made on ({}); \
                             check the service account's username",
                            anchor.as_deref().unwrap_or("me")
                        ),
                        FailureAction::Misconfigured,
                    ));
                }
                Err(CallError::Failed(f)) => return Err(f),
            }
        }
        Ok(chunk
            .iter()
            .map(|m| {
                answered.remove(&key(m)).unwrap_or_else(|| {
                    failed(
                        m,
                        window,
                        fetched_at,
                        ErrorCode::ScheduleMissing.code(),
                        "the getSchedule answer has no entry for this schedule",
                    )
                })
            })
            .collect())
    }

    /// Adds the automatic-reply text to mailboxes whose schedule shows them out of office now.
    /// Only a credential failure fails the batch: the schedules are right without the text.
    async fn automatic_replies(
        &self,
        availabilities: &mut [Availability],
        now: Timestamp,
    ) -> Result<(), SourceFailure> {
        if !self.config.automatic_replies || self.mail_tips_refused.load(Ordering::Relaxed) {
            return Ok(());
        }
        let out_now = self
            .replies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reuse(availabilities, now, key, |a, reply| {
                a.out_of_office = Some(Box::new(reply.clone()))
            });
        for chunk in out_now.chunks(self.config.batch_size.get()) {
            let Some(request) = GetMailTips::automatic_replies(chunk.to_vec()) else {
                continue;
            };
            let anchor = self.anchor_for(chunk).map(str::to_owned);
            let url = self.url(anchor.as_deref(), &["getMailTips"]);
            let body = match self
                .post(
                    "getMailTips",
                    &url,
                    request.to_json(),
                    MAX_MAILTIPS_RESPONSE_BYTES,
                )
                .await
            {
                Ok(body) => body,
                Err(CallError::Failed(f))
                    if matches!(f.action, FailureAction::CredentialFailure { .. }) =>
                {
                    return Err(f);
                }
                Err(CallError::Failed(f)) => {
                    if Code::parse(&f.code) == Some(ErrorCode::Forbidden.code()) {
                        self.mail_tips_refused.store(true, Ordering::Relaxed);
                        tracing::warn!(
                            "getMailTips refused (permission Mail.Read missing): out-of-office \
                             messages are not shown"
                        );
                    } else {
                        tracing::debug!(code = %f.code, "getMailTips failed; out-of-office text skipped");
                    }
                    return Ok(());
                }
                Err(CallError::AnchorNotFound(_)) => return Ok(()),
            };
            let Ok(results) = request.read_response(&body) else {
                tracing::debug!("unreadable getMailTips answer; out-of-office text skipped");
                continue;
            };
            let mut by_mailbox: HashMap<String, _> = results
                .into_iter()
                .map(|r| {
                    let reply = r.automatic_replies.map(crate::replies::readable);
                    (key(&r.mailbox), reply)
                })
                .collect();
            let mut cache = self.replies.lock().unwrap_or_else(|e| e.into_inner());
            for a in availabilities.iter_mut() {
                let mailbox = key(&a.mailbox);
                // A mailbox's own error is asked again next refresh.
                if let Some(Ok(reply)) = by_mailbox.remove(&mailbox) {
                    if let Some(oof) = &reply {
                        a.out_of_office = Some(Box::new(oof.clone()));
                    }
                    cache.put(mailbox, reply, now);
                }
            }
        }
        Ok(())
    }

    async fn fetch_all(
        &self,
        mailboxes: &[String],
        window: Window,
    ) -> Result<Vec<Availability>, SourceFailure> {
        let fetched_at = Timestamp::now();
        let mut out = Vec::with_capacity(mailboxes.len());
        for chunk in mailboxes.chunks(self.config.batch_size.get()) {
            out.extend(self.schedules(chunk, window, fetched_at).await?);
        }
        self.automatic_replies(&mut out, Timestamp::now()).await?;
        Ok(out)
    }
}

impl CalendarSource for GraphSource {
    fn name(&self) -> &'static str {
        "graph"
    }

    fn limits(&self) -> SourceLimits {
        SourceLimits {
            batch_size: self.config.batch_size.get(),
            max_in_flight: self.config.max_in_flight.max(1),
        }
    }

    fn fetch<'a>(
        &'a self,
        mailboxes: &'a [String],
        window: Window,
    ) -> BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
        Box::pin(self.fetch_all(mailboxes, window))
    }

    fn presence_interval(&self) -> Option<SignedDuration> {
        self.config
            .presence_interval
            .and_then(|d| SignedDuration::try_from(d).ok())
    }

    fn presence<'a>(
        &'a self,
        mailboxes: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<calgate_core::Presence>, SourceFailure>> {
        Box::pin(self.read_presence(mailboxes))
    }

    fn change_notifications(&self) -> bool {
        self.config.notifications.is_some()
    }

    fn subscription_scope(&self) -> String {
        self.scope()
    }

    fn subscribe<'a>(
        &'a self,
        mailbox: &'a str,
        client_state: &'a str,
    ) -> BoxFuture<'a, Result<calgate_engine::Subscription, SourceFailure>> {
        Box::pin(self.create_subscription(mailbox, client_state))
    }

    fn renew<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<calgate_engine::Renewed, SourceFailure>> {
        Box::pin(self.renew_subscription(id))
    }

    fn unsubscribe<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), SourceFailure>> {
        Box::pin(self.delete_subscription(id))
    }

    fn listed_subscriptions(&self) -> BoxFuture<'_, Result<Vec<String>, SourceFailure>> {
        Box::pin(self.list_subscriptions())
    }
}

fn key(mailbox: &str) -> String {
    mailbox.trim().to_lowercase()
}

fn failed(
    mailbox: &str,
    window: Window,
    fetched_at: Timestamp,
    code: Code,
    message: &str,
) -> Availability {
    Availability::failed(
        mailbox,
        window.start,
        window.end,
        fetched_at,
        SourceError {
            code: code.to_string(),
            message: message.to_owned(),
        },
    )
}

async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, SourceFailure> {
    let too_large = || {
        SourceFailure::new(
            ErrorCode::ResponseTooLarge.code(),
            format!("Microsoft Graph's answer exceeds {cap} bytes"),
            FailureAction::Transient,
        )
    };
    crate::body::read_capped(response, cap)
        .await
        .map_err(|e| match e {
            crate::body::BodyError::TooLarge => too_large(),
            crate::body::BodyError::Failed(e) => {
                let mut f = network_failure(&e);
                f.code = ErrorCode::MalformedResponse.code().into();
                f.message = format!("Microsoft Graph's answer was cut short: {}", f.message);
                f
            }
        })
}

fn network_failure(e: &reqwest::Error) -> SourceFailure {
    let timeout = e.is_timeout();
    let mut reason = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if !reason.is_empty() {
            reason.push_str(": ");
        }
        reason.push_str(&s.to_string());
        source = s.source();
    }
    let (code, message) = if timeout {
        (
            Code::GraphTimeout,
            "Microsoft Graph did not answer in time".to_string(),
        )
    } else {
        (
            Code::GraphUnreachable,
            format!("cannot reach Microsoft Graph: {reason}"),
        )
    };
    let mut f = SourceFailure::new(code, message, FailureAction::Transient);
    f.unreachable = true;
    f
}

/// The scheduler's view of a sign-in problem.
pub fn auth_failure(error: &AuthError) -> SourceFailure {
    match error {
        AuthError::AuthFailed(failed) => SourceFailure::new(
            failed.code(),
            failed.reason(),
            FailureAction::CredentialFailure {
                next_attempt: Some(failed.next_probe_at),
            },
        ),
        AuthError::Unavailable(e) => {
            let action = match error.retry_after_secs() {
                Some(s) => FailureAction::RetryAfter(
                    SignedDuration::try_from_secs_f64(s.clamp(0.0, 3600.0))
                        .unwrap_or(SignedDuration::from_secs(1)),
                ),
                None => FailureAction::Transient,
            };
            let mut f = SourceFailure::new(e.code(), error.to_string(), action);
            f.unreachable = matches!(e, GrantError::Network(_));
            f
        }
        AuthError::Settings(e) => {
            SourceFailure::new(e.code(), error.to_string(), FailureAction::Misconfigured)
        }
        AuthError::Retired => SourceFailure::new(
            error.code(),
            "these credentials were replaced by new settings",
            FailureAction::Transient,
        ),
        // Another gateway tries the credential first; its verdict reaches this one shortly.
        AuthError::Held(_) => SourceFailure::new(
            error.code(),
            error.to_string(),
            FailureAction::RetryAfter(SignedDuration::from_secs(1)),
        ),
    }
}

/// The scheduler's view of a Graph error answer (401 and 404 are handled before this).
pub fn service_failure(error: &ServiceError) -> SourceFailure {
    let graph_code = error
        .graph_code
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let graph_message = error.message.as_deref().unwrap_or("no message");
    match error.status {
        429 | 503 => match error.retry_after {
            Some(wait) => SourceFailure::new(
                error.code.code(),
                format!(
                    "Microsoft Graph asked to wait {:.3} s (HTTP {}{graph_code})",
                    wait.as_secs_f64(),
                    error.status
                ),
                FailureAction::RetryAfter(
                    SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX),
                ),
            ),
            None => SourceFailure::new(
                error.code.code(),
                format!(
                    "Microsoft Graph is busy (HTTP {}{graph_code})",
                    error.status
                ),
                FailureAction::Transient,
            ),
        },
        403 => SourceFailure::new(
            error.code.code(),
            format!(
                "Microsoft Graph refused access{graph_code}: the app registration lacks the \
                 permission to read calendars. For app-only access add the application \
                 permission Calendars.ReadBasic.All (or Calendars.Read); for the service \
                 account's sign-in the delegated Calendars.ReadBasic (or Calendars.Read). Then an \
                 administrator must grant admin consent."
            ),
            FailureAction::Misconfigured,
        ),
        400 => SourceFailure::new(
            error.code.code(),
            format!("Microsoft Graph rejected the request{graph_code}: {graph_message}"),
            FailureAction::Misconfigured,
        ),
        500..=599 => SourceFailure::new(
            error.code.code(),
            format!("Microsoft Graph failed (HTTP {}{graph_code})", error.status),
            match error.retry_after {
                Some(wait) => FailureAction::RetryAfter(
                    SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX),
                ),
                None => FailureAction::Transient,
            },
        ),
        status => SourceFailure::new(
            error.code.code(),
            format!("Microsoft Graph answered HTTP {status}{graph_code}"),
            FailureAction::Transient,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_appends_the_version_once() {
        for (endpoint, want) in [
            (
                "https://graph.microsoft.com",
                "https://graph.microsoft.com/v1.0",
            ),
            (
                "https://graph.microsoft.com/",
                "https://graph.microsoft.com/v1.0",
            ),
            ("https://127.0.0.1:4431/v1.0", "https://127.0.0.1:4431/v1.0"),
            (
                "https://127.0.0.1:4431/v1.0/",
                "https://127.0.0.1:4431/v1.0",
            ),
            (
                "https://proxy.example/graph",
                "https://proxy.example/graph/v1.0",
            ),
        ] {
            let root = api_root(&endpoint.parse().expect("URL")).expect("root");
            assert_eq!(root.as_str().trim_end_matches('/'), want, "{endpoint}");
        }
    }

    #[test]
    fn throttling_answers_carry_the_fractional_wait() {
        let e = ServiceError::read(
            429,
            Some("2.5"),
            br#"{"error":{"code":"TooManyRequests","message":"Please retry again later."}}"#,
        );
        let f = service_failure(&e);
        assert_eq!(f.code, "GRAPH_ERROR_THROTTLED");
        assert_eq!(
            f.action,
            FailureAction::RetryAfter(SignedDuration::from_millis(2500))
        );
        let busy = service_failure(&ServiceError::read(503, None, b"not json"));
        assert_eq!(busy.action, FailureAction::Transient);
    }

    #[test]
    fn forbidden_names_the_permission_to_grant() {
        let f = service_failure(&ServiceError::read(
            403,
            None,
            br#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied."}}"#,
        ));
        assert_eq!(f.action, FailureAction::Misconfigured);
        assert!(
            f.message.contains("Calendars.ReadBasic.All"),
            "{}",
            f.message
        );
        assert!(f.message.contains("admin consent"), "{}", f.message);
    }
}
