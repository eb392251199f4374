//! EWS over HTTP: posts the envelopes calgate-ews writes and hands the bodies back to its readers.
//!
//! One `reqwest` client (rustls) per source, so connections are reused; a timeout per request; an
//! optional extra CA bundle for on-premises servers with a private CA; redirects are not followed
//! (credentials must not travel to another host). The `Authorization` header comes from a
//! [`CredentialProvider`], which hears back whether the server accepted it. HTTP statuses become
//! the typed [`EwsError`]s of calgate-ews, and [`EwsSource`] offers the whole thing to the
//! scheduler as a [`CalendarSource`]. No header value, password or token is ever logged or put in
//! an error or `Debug` output.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use calgate_core::{Availability, OutOfOffice};
use calgate_engine::{CalendarSource, FailureAction, SourceFailure, SourceLimits, Window};
use calgate_ews::mail_tips::DEFAULT_MAIL_TIPS_CHUNK;
use calgate_ews::{
    Action, AuthChallenge, AvailabilityRequest, EwsError, EwsRequest, ExchangeVersion,
    Impersonation, MAX_BODY_BYTES, MAX_MAILBOXES_PER_REQUEST, MailTipsRequest, MailTipsResponse,
    MailboxBatch, RequestedView, ResolveNamesRequest, ResolveNamesResponse, RetryAfter, SoapHeader,
    read_availability_response, read_mail_tips_response, read_resolve_names_response,
};
use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::body::BodyError;
use crate::http::{ClientError, ClientSettings};
use crate::windows::{NtlmHandshake, WindowsConnections, WindowsScheme};

/// Supplies the `Authorization` header for each request and learns how the server took it.
/// The auth crate implements it for Entra ID tokens; [`BasicCredentials`] and [`BearerToken`]
/// cover fixed credentials.
pub trait CredentialProvider: Send + Sync + 'static {
    /// Whatever the provider needs back with the verdict (the token that was used, say).
    type Grant: Send;

    /// The header value for one request; mark it sensitive.
    fn authorize(
        &self,
    ) -> impl Future<Output = Result<(HeaderValue, Self::Grant), EwsError>> + Send;

    /// The server did not answer 401 to this credential.
    fn accepted(&self, grant: Self::Grant);

    /// The server answered 401 with this challenge.
    fn refused(&self, grant: Self::Grant, challenge: &AuthChallenge);

    /// The server answered 401 with this challenge; may the request be repeated once with a
    /// fresh `authorize()`? Providers of fixed credentials keep the default: report the refusal
    /// and stop.
    fn refusal(&self, grant: Self::Grant, challenge: &AuthChallenge) -> Verdict {
        self.refused(grant, challenge);
        Verdict::Stop
    }

    /// Why the credential is stopped, when the lockout guard holds it: the scheduler shows this
    /// in health and waits until `next_attempt`. `None` for providers without a guard.
    fn stopped(&self) -> Option<CredentialStop> {
        None
    }

    /// Whether some grant may be Windows authentication (the transport then keeps connections
    /// of its own for the NTLM handshake).
    fn uses_windows(&self) -> bool {
        false
    }

    /// For a Windows grant: the user (`DOMAIN\user` or a UPN) and password the handshake
    /// proves; the header of such a grant is not sent.
    fn windows_credential(_grant: &Self::Grant) -> Option<(&str, &secrecy::SecretString)> {
        None
    }
}

/// What the transport does after a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Ask the provider for a new header and repeat the request once (a refused OAuth token).
    RetryOnce,
    /// The refusal stands: the request fails with [`EwsError::Unauthorized`].
    Stop,
}

/// A credential the lockout guard holds: what health shows for `auth_failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialStop {
    /// Stable code (`EWS_HTTP_401`, `ENTRA_AADSTS50126`…).
    pub code: String,
    /// Plain-language reason and fix, without secrets.
    pub reason: String,
    /// The guard's next automatic probe.
    pub next_attempt: Option<Timestamp>,
}

fn sensitive(value: &str) -> Result<HeaderValue, EwsError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| EwsError::Credential {
        reason: "the credential contains characters a header cannot carry".into(),
        permanent: true,
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Fixed HTTP Basic credentials (on-premises Exchange).
pub struct BasicCredentials {
    username: String,
    header: HeaderValue,
}

impl BasicCredentials {
    pub fn new(username: &str, password: &str) -> Result<BasicCredentials, EwsError> {
        // calgate-auth owns the Basic encoding (and keeps it a secret until it becomes a header).
        let credential =
            calgate_auth::BasicCredential::new(username, secrecy::SecretString::from(password));
        let header = sensitive(secrecy::ExposeSecret::expose_secret(
            &credential.header_value(),
        ))?;
        Ok(BasicCredentials {
            username: username.to_string(),
            header,
        })
    }
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl CredentialProvider for BasicCredentials {
    type Grant = ();

    fn authorize(&self) -> impl Future<Output = Result<(HeaderValue, ()), EwsError>> + Send {
        std::future::ready(Ok((self.header.clone(), ())))
    }

    fn accepted(&self, _grant: ()) {}

    fn refused(&self, _grant: (), _challenge: &AuthChallenge) {}
}

/// A fixed bearer token.
pub struct BearerToken {
    header: HeaderValue,
}

impl BearerToken {
    pub fn new(token: &str) -> Result<BearerToken, EwsError> {
        Ok(BearerToken {
            header: sensitive(&format!("Bearer {token}"))?,
        })
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken { .. }")
    }
}

impl CredentialProvider for BearerToken {
    type Grant = ();

    fn authorize(&self) -> impl Future<Output = Result<(HeaderValue, ()), EwsError>> + Send {
        std::future::ready(Ok((self.header.clone(), ())))
    }

    fn accepted(&self, _grant: ()) {}

    fn refused(&self, _grant: (), _challenge: &AuthChallenge) {}
}

/// How to reach one EWS endpoint.
#[derive(Clone)]
pub struct TransportConfig {
    /// `https://host/EWS/Exchange.asmx`.
    pub endpoint: reqwest::Url,
    pub version: ExchangeVersion,
    /// For app-only tokens: the service mailbox to act as (also sent as `X-AnchorMailbox`).
    pub impersonation: Option<Impersonation>,
    /// The whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// PEM certificates trusted in addition to the system roots.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Bodies above this are refused (and never fully read).
    pub max_body_bytes: usize,
}

impl TransportConfig {
    pub fn new(endpoint: reqwest::Url, version: ExchangeVersion) -> TransportConfig {
        TransportConfig {
            endpoint,
            version,
            impersonation: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            extra_ca_pem: None,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

impl fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportConfig")
            .field("endpoint", &self.endpoint.as_str())
            .field("version", &self.version)
            .field("impersonation", &self.impersonation)
            .field("timeout", &self.timeout)
            .field("extra_ca_pem", &self.extra_ca_pem.as_ref().map(|p| p.len()))
            .finish_non_exhaustive()
    }
}

/// One round trip: an answer, or a 401 the provider wants repeated.
enum Sent {
    Done(Result<Vec<u8>, EwsError>),
    Refused(AuthChallenge),
}

/// Posts EWS requests to one endpoint with one credential.
pub struct EwsTransport<C> {
    client: reqwest::Client,
    /// Connections of our own for Windows authentication, when the credentials may use it.
    windows: Option<WindowsConnections>,
    endpoint: reqwest::Url,
    header: SoapHeader,
    timeout: Duration,
    max_body_bytes: usize,
    credentials: C,
}

impl<C> fmt::Debug for EwsTransport<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EwsTransport")
            .field("endpoint", &self.endpoint.as_str())
            .field("version", &self.header.version)
            .finish_non_exhaustive()
    }
}

fn reqwest_error(e: reqwest::Error) -> EwsError {
    if e.is_timeout() {
        return EwsError::Timeout;
    }
    // The URL is configuration, not a secret, but keep messages short and uniform.
    let e = e.without_url();
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    EwsError::Connect { reason }
}

/// Reads a handshake answer's (small) body to its end so that its connection stays open for the
/// next leg: NTLM authenticates that one connection.
async fn drain(mut response: reqwest::Response) {
    let _ = crate::body::read_capped(&mut response, 64 * 1024).await;
}

fn challenge_of(headers: &HeaderMap) -> AuthChallenge {
    AuthChallenge::parse(
        headers
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
    .with_diagnostics(
        headers
            .get("x-ms-diagnostics")
            .and_then(|v| v.to_str().ok()),
    )
}

fn retry_after(headers: &HeaderMap) -> Option<RetryAfter> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(RetryAfter::parse_header)
}

impl<C: CredentialProvider> EwsTransport<C> {
    pub fn new(config: TransportConfig, credentials: C) -> Result<EwsTransport<C>, EwsError> {
        let settings = ClientSettings {
            extra_ca_pem: config.extra_ca_pem.as_deref(),
            timeout: config.timeout,
            connect_timeout: config.connect_timeout,
            max_idle_per_host: Some(4),
            http1_only: false,
        };
        let client_error = |e| match e {
            ClientError::CaBundle(e) => EwsError::InvalidRequest {
                reason: format!("extra CA bundle is not usable PEM: {}", e.without_url()),
            },
            ClientError::NoCertificate => EwsError::InvalidRequest {
                reason: "extra CA bundle holds no certificate".into(),
            },
            ClientError::Build(e) => reqwest_error(e),
        };
        let client = crate::http::client(settings).map_err(client_error)?;
        // One connection per client, as many clients as requests go at once.
        let windows = if credentials.uses_windows() {
            let one = ClientSettings {
                max_idle_per_host: Some(1),
                http1_only: true,
                ..settings
            };
            Some(WindowsConnections::new(4, || crate::http::client(one)).map_err(client_error)?)
        } else {
            None
        };
        let mut header = SoapHeader::new(config.version);
        if let Some(i) = config.impersonation {
            header = header.impersonating(i);
        }
        Ok(EwsTransport {
            client,
            windows,
            endpoint: config.endpoint,
            header,
            timeout: config.timeout,
            max_body_bytes: config.max_body_bytes.min(MAX_BODY_BYTES),
            credentials,
        })
    }

    /// The SOAP headers every request of this transport carries.
    pub fn soap_header(&self) -> &SoapHeader {
        &self.header
    }

    /// Posts one request. A 200 gives the body; everything else is a typed error (a SOAP fault
    /// in a 500 is read into its own error).
    pub async fn send(&self, request: &EwsRequest) -> Result<Vec<u8>, EwsError> {
        match self.send_once(request).await? {
            Sent::Done(result) => result,
            // A refused OAuth token was dropped: one more try with a new one, never a third.
            Sent::Refused(_) => match self.send_once(request).await? {
                Sent::Done(result) => result,
                Sent::Refused(challenge) => Err(EwsError::Unauthorized { challenge }),
            },
        }
    }

    /// The credentials this transport sends.
    pub fn credentials(&self) -> &C {
        &self.credentials
    }

    fn post(
        &self,
        client: &reqwest::Client,
        request: &EwsRequest,
        authorization: Option<HeaderValue>,
        body: bool,
    ) -> reqwest::RequestBuilder {
        let mut post = client
            .post(self.endpoint.clone())
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8");
        if let Some(authorization) = authorization {
            post = post.header(reqwest::header::AUTHORIZATION, authorization);
        }
        if body {
            post = post.body(request.body.clone());
        }
        if let Some(anchor) = &request.anchor_mailbox {
            post = post.header("X-AnchorMailbox", anchor.as_str());
        }
        post
    }

    async fn send_once(&self, request: &EwsRequest) -> Result<Sent, EwsError> {
        let started = Instant::now();
        let (authorization, grant) = self.credentials.authorize().await?;
        if let (Some(windows), Some((user, password))) =
            (&self.windows, C::windows_credential(&grant))
        {
            let user = user.to_owned();
            let password = password.clone();
            return self
                .send_windows(windows, request, &user, &password, grant)
                .await;
        }
        let post = self.post(&self.client, request, Some(authorization), true);
        let mut response = post.send().await.map_err(reqwest_error)?;
        let status = response.status();
        tracing::debug!(
            operation = request.operation,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ews request"
        );
        if status == StatusCode::UNAUTHORIZED {
            let challenge = challenge_of(response.headers());
            return match self.credentials.refusal(grant, &challenge) {
                Verdict::RetryOnce => Ok(Sent::Refused(challenge)),
                Verdict::Stop => Err(EwsError::Unauthorized { challenge }),
            };
        }
        self.credentials.accepted(grant);
        Ok(Sent::Done(self.answer(status, &mut response).await))
    }

    /// The request over a Windows-authenticated connection: as is when the connection is
    /// authenticated already; otherwise NEGOTIATE, CHALLENGE, then AUTHENTICATE with the
    /// request, all on that one connection. Only a 401 to AUTHENTICATE is a refusal.
    async fn send_windows(
        &self,
        windows: &WindowsConnections,
        request: &EwsRequest,
        user: &str,
        password: &secrecy::SecretString,
        grant: C::Grant,
    ) -> Result<Sent, EwsError> {
        let mut leased = windows.acquire().await;
        let connection = &mut *leased.connection;
        let client = connection.client.clone();
        let offered = if connection.authenticated {
            let mut response = self
                .post(&client, request, None, true)
                .send()
                .await
                .map_err(reqwest_error)?;
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED {
                self.credentials.accepted(grant);
                return Ok(Sent::Done(self.answer(status, &mut response).await));
            }
            // The server closed the authenticated connection; this is a new one.
            connection.authenticated = false;
            let offered = challenge_of(response.headers());
            drain(response).await;
            offered
        } else {
            // Learn the schemes on the connection the handshake will use.
            let response = self
                .post(&client, request, None, false)
                .send()
                .await
                .map_err(reqwest_error)?;
            let status = response.status();
            let offered = challenge_of(response.headers());
            drain(response).await;
            if status != StatusCode::UNAUTHORIZED {
                return Err(EwsError::HttpStatus {
                    status: status.as_u16(),
                });
            }
            offered
        };
        let Some(scheme) = WindowsScheme::offered(&offered) else {
            // The server does not do Windows authentication: the sign-ins decide what next.
            return match self.credentials.refusal(grant, &offered) {
                Verdict::RetryOnce => Ok(Sent::Refused(offered)),
                Verdict::Stop => Err(EwsError::Unauthorized { challenge: offered }),
            };
        };
        let (mut handshake, negotiate) = NtlmHandshake::start(scheme, user, password)?;
        let response = self
            .post(&client, request, Some(scheme.header(&negotiate)?), false)
            .send()
            .await
            .map_err(reqwest_error)?;
        let headers = response.headers().clone();
        drain(response).await;
        let challenge = scheme.token(&headers)?.ok_or_else(|| EwsError::Malformed {
            reason: "Windows authentication: the server sent no NTLM challenge".into(),
        })?;
        let authenticate = handshake.authenticate(challenge)?;
        let mut response = self
            .post(&client, request, Some(scheme.header(&authenticate)?), true)
            .send()
            .await
            .map_err(reqwest_error)?;
        let status = response.status();
        tracing::debug!(
            operation = request.operation,
            status = status.as_u16(),
            "ews request after an NTLM handshake"
        );
        if status == StatusCode::UNAUTHORIZED {
            let challenge = challenge_of(response.headers());
            return match self.credentials.refusal(grant, &challenge) {
                Verdict::RetryOnce => Ok(Sent::Refused(challenge)),
                Verdict::Stop => Err(EwsError::Unauthorized { challenge }),
            };
        }
        // Under SPNEGO the answer may carry the server's final token (its mechListMIC).
        handshake.finish(scheme.token(response.headers())?)?;
        connection.authenticated = true;
        self.credentials.accepted(grant);
        Ok(Sent::Done(self.answer(status, &mut response).await))
    }

    async fn answer(
        &self,
        status: StatusCode,
        response: &mut reqwest::Response,
    ) -> Result<Vec<u8>, EwsError> {
        match status {
            StatusCode::OK => self.read_body(response).await,
            StatusCode::FORBIDDEN => Err(EwsError::Forbidden),
            StatusCode::TOO_MANY_REQUESTS => Err(EwsError::TooManyRequests {
                retry_after: retry_after(response.headers()),
            }),
            StatusCode::SERVICE_UNAVAILABLE => Err(EwsError::Unavailable {
                retry_after: retry_after(response.headers()),
            }),
            StatusCode::INTERNAL_SERVER_ERROR => {
                // Exchange sends SOAP faults as 500; anything else in a 500 is a plain 5xx.
                let body = self.read_body(response).await?;
                Err(calgate_ews::envelope::read_soap_fault(&body)
                    .unwrap_or(EwsError::HttpStatus { status: 500 }))
            }
            other => Err(EwsError::HttpStatus {
                status: other.as_u16(),
            }),
        }
    }

    async fn read_body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, EwsError> {
        let limit = self.max_body_bytes;
        crate::body::read_capped(response, limit)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => EwsError::BodyTooLarge { limit },
                BodyError::Failed(e) if e.is_timeout() => EwsError::Timeout,
                BodyError::Failed(e) => EwsError::Malformed {
                    reason: format!("body cut short: {}", e.without_url()),
                },
            })
    }

    /// GetUserAvailability for one batch: one `Availability` per mailbox, in batch order.
    pub async fn get_user_availability(
        &self,
        request: &AvailabilityRequest,
        fetched_at: Timestamp,
    ) -> Result<Vec<Availability>, EwsError> {
        let body = self.send(&request.to_request(&self.header)?).await?;
        read_availability_response(&body)?.into_availabilities(request, fetched_at)
    }

    /// GetMailTips (automatic replies) for one chunk of recipients.
    pub async fn get_mail_tips(
        &self,
        request: &MailTipsRequest,
    ) -> Result<MailTipsResponse, EwsError> {
        let body = self.send(&request.to_request(&self.header)?).await?;
        read_mail_tips_response(&body)
    }

    /// ResolveNames for one name.
    pub async fn resolve_name(
        &self,
        request: &ResolveNamesRequest,
    ) -> Result<ResolveNamesResponse, EwsError> {
        let body = self.send(&request.to_request(&self.header)).await?;
        read_resolve_names_response(&body)
    }
}

/// The scheduler's view of an EWS error.
pub fn source_failure(error: &EwsError) -> SourceFailure {
    let action = match error.action() {
        Action::RetryAfter(r) => FailureAction::RetryAfter(
            SignedDuration::try_from(r.delay_from(Timestamp::now())).unwrap_or(SignedDuration::MAX),
        ),
        Action::LowerConcurrency { .. } => FailureAction::LowerConcurrency,
        Action::BackOff => FailureAction::Transient,
        Action::RefreshCredential | Action::StopCredential => {
            FailureAction::CredentialFailure { next_attempt: None }
        }
        Action::Reconfigure => FailureAction::Misconfigured,
        // A mailbox error never reaches here as a request failure; if it does, do not hammer.
        Action::RecordForMailbox { .. } => FailureAction::Transient,
    };
    let mut failure = SourceFailure::new(error.code(), error.to_string(), action);
    failure.unreachable = matches!(error, EwsError::Timeout | EwsError::Connect { .. });
    failure
}

/// The scheduler's view of an EWS error when the provider may know more: a credential the
/// lockout guard holds is reported with the guard's code, reason and next probe, so health
/// shows `auth_failed` with all three.
pub fn source_failure_with(error: &EwsError, stop: Option<CredentialStop>) -> SourceFailure {
    let failure = source_failure(error);
    match (&failure.action, stop) {
        (FailureAction::CredentialFailure { .. }, Some(stop))
        | (FailureAction::Transient, Some(stop))
            if matches!(
                error,
                EwsError::Credential { .. } | EwsError::Unauthorized { .. }
            ) =>
        {
            SourceFailure::new(
                stop.code,
                stop.reason,
                FailureAction::CredentialFailure {
                    next_attempt: stop.next_attempt,
                },
            )
        }
        _ => failure,
    }
}

/// EWS as a [`CalendarSource`]: batches of at most 100 mailboxes, one request per batch.
pub struct EwsSource<C> {
    transport: EwsTransport<C>,
    view: RequestedView,
    max_in_flight: usize,
    /// The address GetMailTips is sent as; `None` leaves automatic-reply text out.
    mail_tips_as: Option<String>,
    /// A back-off the server advertised to a GetMailTips: the scheduler never saw it (the batch
    /// stood), so the next fetch waits for it here before sending anything.
    not_before: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// Automatic replies already read, by lower-case address, with when they were read.
    replies: std::sync::Mutex<crate::replies::ReplyCache>,
}

/// Puts an automatic reply read from the server into a mailbox's availability.
fn apply_reply(availability: &mut Availability, reply: &OutOfOffice) {
    let oof = availability
        .out_of_office
        .get_or_insert_with(Default::default);
    if reply.message.is_some() {
        oof.message.clone_from(&reply.message);
    }
    if oof.start.is_none() {
        oof.start = reply.start;
    }
    if oof.end.is_none() {
        oof.end = reply.end;
    }
}

impl<C> fmt::Debug for EwsSource<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EwsSource")
            .field("transport", &self.transport)
            .field("view", &self.view)
            .finish()
    }
}

impl<C: CredentialProvider> EwsSource<C> {
    pub fn new(transport: EwsTransport<C>, view: RequestedView) -> EwsSource<C> {
        EwsSource {
            transport,
            view,
            max_in_flight: 2,
            mail_tips_as: None,
            not_before: std::sync::Mutex::new(None),
            replies: std::sync::Mutex::new(crate::replies::ReplyCache::default()),
        }
    }

    /// Fills the automatic-reply text of people out of office now with one GetMailTips per
    /// chunk, sent as `sending_as` (the service account). Exchange 2010 or newer only.
    pub fn with_mail_tips(mut self, sending_as: impl Into<String>) -> EwsSource<C> {
        self.mail_tips_as = Some(sending_as.into());
        self
    }

    pub fn transport(&self) -> &EwsTransport<C> {
        &self.transport
    }

    async fn fetch_all(
        &self,
        mailboxes: &[String],
        window: Window,
    ) -> Result<Vec<Availability>, EwsError> {
        let wait = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = wait {
            tokio::time::sleep_until(until).await;
        }
        let fetched_at = Timestamp::now();
        let mut out = Vec::with_capacity(mailboxes.len());
        for batch in MailboxBatch::split(mailboxes.iter().cloned())? {
            let request = AvailabilityRequest::new(batch, window.start, window.end, self.view);
            out.extend(
                self.transport
                    .get_user_availability(&request, fetched_at)
                    .await?,
            );
        }
        self.add_automatic_replies(&mut out, fetched_at).await;
        Ok(out)
    }

    /// GetMailTips for the people out of office now. Any failure leaves the availability as
    /// it was: the reply text is a nicety, the calendar is the answer.
    async fn add_automatic_replies(&self, availabilities: &mut [Availability], now: Timestamp) {
        let Some(sending_as) = &self.mail_tips_as else {
            return;
        };
        if !self.transport.header.version.supports_mail_tips() {
            return;
        }
        let away = self
            .replies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reuse(availabilities, now, str::to_lowercase, apply_reply);
        if away.is_empty() {
            return;
        }
        let requests =
            match MailTipsRequest::chunked(sending_as.as_str(), away, DEFAULT_MAIL_TIPS_CHUNK) {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(code = %e.code(), "mail tips not requested");
                    return;
                }
            };
        for request in requests {
            let tips = match self.transport.get_mail_tips(&request).await {
                Ok(response) => response.for_request(&request),
                Err(e) => Err(e),
            };
            let tips = match tips {
                Ok(t) => t,
                Err(e) => {
                    // The server is busy or refusing: ask no more of it in this batch, and
                    // honour an advertised back-off before the next request of this source.
                    tracing::debug!(code = %e.code(), "mail tips failed; calendars kept");
                    let delay = match e.action() {
                        Action::RetryAfter(r) => Some(r.delay_from(Timestamp::now())),
                        Action::LowerConcurrency {
                            retry_after: Some(d),
                        } => Some(d),
                        _ => None,
                    };
                    if let Some(delay) = delay {
                        let delay = delay.min(Duration::from_secs(300));
                        *self.not_before.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(tokio::time::Instant::now() + delay);
                    }
                    break;
                }
            };
            let mut cache = self.replies.lock().unwrap_or_else(|e| e.into_inner());
            for (mailbox, mut tip) in tips {
                if tip.error.is_some() {
                    continue;
                }
                tip.out_of_office = crate::replies::readable(tip.out_of_office);
                if let Some(reply) = &tip.out_of_office
                    && let Some(a) = availabilities
                        .iter_mut()
                        .find(|a| a.mailbox.eq_ignore_ascii_case(&mailbox))
                {
                    apply_reply(a, reply);
                }
                // A tip the server could not evaluate in time is asked again next refresh.
                if tip.pending.is_empty() {
                    cache.put(mailbox.to_lowercase(), tip.out_of_office, now);
                }
            }
        }
    }
}

impl<C: CredentialProvider> CalendarSource for EwsSource<C> {
    fn name(&self) -> &'static str {
        "ews"
    }

    fn limits(&self) -> SourceLimits {
        SourceLimits {
            batch_size: MAX_MAILBOXES_PER_REQUEST,
            max_in_flight: self.max_in_flight,
        }
    }

    fn fetch<'a>(
        &'a self,
        mailboxes: &'a [String],
        window: Window,
    ) -> BoxFuture<'a, Result<Vec<Availability>, SourceFailure>> {
        Box::pin(async move {
            self.fetch_all(mailboxes, window)
                .await
                .map_err(|e| source_failure_with(&e, self.transport.credentials.stopped()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_the_pair_exchangelib_sent_in_the_captures() {
        let basic = BasicCredentials::new("alice@example.com", "Passw0rd!").expect("valid");
        assert_eq!(
            basic.header.to_str().expect("ascii"),
            "Basic YWxpY2VAZXhhbXBsZS5jb206UGFzc3cwcmQh"
        );
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let basic = BasicCredentials::new("alice@example.com", "Passw0rd!").expect("valid");
        let shown = format!("{basic:?}");
        assert!(!shown.contains("Passw0rd") && !shown.contains("UGFzc3cwcmQh"));
        let bearer = BearerToken::new("eyJ0eXAiOiJKV1Qi.secret").expect("valid");
        assert!(!format!("{bearer:?}").contains("secret"));
        assert!(BearerToken::new("bad\nvalue").is_err());
    }

    #[test]
    fn failures_map_to_scheduler_actions() {
        let busy = source_failure(&EwsError::ServerBusy {
            back_off: Some(Duration::from_millis(297_749)),
        });
        assert_eq!(busy.code, "EWS_SERVER_BUSY");
        assert_eq!(
            busy.action,
            FailureAction::RetryAfter(SignedDuration::from_millis(297_749))
        );
        let denied = source_failure(&EwsError::Unauthorized {
            challenge: AuthChallenge::default(),
        });
        assert_eq!(
            denied.action,
            FailureAction::CredentialFailure { next_attempt: None }
        );
        assert!(source_failure(&EwsError::Timeout).unreachable);
        // The guard's verdict replaces the bare 401: its code, reason and next probe.
        let probe = Timestamp::now() + SignedDuration::from_mins(30);
        let stop = CredentialStop {
            code: "ENTRA_AADSTS50126".into(),
            reason: "the password is wrong".into(),
            next_attempt: Some(probe),
        };
        let held = EwsError::Credential {
            reason: "held".into(),
            permanent: true,
        };
        let failure = source_failure_with(&held, Some(stop.clone()));
        assert_eq!(failure.code, "ENTRA_AADSTS50126");
        assert_eq!(
            failure.action,
            FailureAction::CredentialFailure {
                next_attempt: Some(probe)
            }
        );
        // A busy Entra is no credential failure, and a stop never colours other errors.
        let busy = EwsError::Credential {
            reason: "busy".into(),
            permanent: false,
        };
        assert_eq!(
            source_failure_with(&busy, None).action,
            FailureAction::Transient
        );
        assert_eq!(
            source_failure_with(&EwsError::Timeout, Some(stop)).action,
            FailureAction::Transient
        );
        assert_eq!(
            source_failure(&EwsError::InvalidServerVersion).action,
            FailureAction::Misconfigured
        );
    }
}
