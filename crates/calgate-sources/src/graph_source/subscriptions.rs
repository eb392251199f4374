//! Change notifications through the Graph source: a subscription per mailbox on
//! `users/{address}/events` (`created,updated,deleted`), renewed, deleted and listed through the
//! source's own `call`, so the sign-in, the lockout guard and Graph's `Retry-After` hold cover
//! them as they cover the schedule reads.
//!
//! The lifetime asked for starts just under the longest Graph documents for events; when Graph
//! refuses an expiry and names its limit in minutes, the source asks for a minute less than that
//! from then on and tries once more. Either way the expiry Graph answers is what counts: the
//! engine renews at a share of it.

use std::sync::atomic::Ordering;

use calgate_core::Code;
use calgate_engine::{FailureAction, Renewed, SourceFailure, Subscription};
use calgate_graph::subscriptions::{
    self as wire, DOCUMENTED_MAX_LIFETIME_MINUTES, MAX_SUBSCRIPTION_RESPONSE_BYTES,
    NewSubscription, RenewSubscription, SubscriptionPage,
};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};

use super::presence::call_failure;
use super::{GraphCallError, GraphSource, service_failure};

/// Where Graph posts change notifications, under the gateway's public base URL.
pub const NOTIFICATION_PATH: &str = "/api/v1/notifications/graph";
/// Where Graph posts lifecycle notifications.
pub const LIFECYCLE_PATH: &str = "/api/v1/notifications/graph/lifecycle";

/// Ten minutes under Graph's documented limit, so a clock a little ahead is not refused.
pub(super) const FIRST_LIFETIME_MINUTES: u32 = DOCUMENTED_MAX_LIFETIME_MINUTES - 10;

/// At most this many pages of `/subscriptions` are listed.
const MAX_PAGES: usize = 100;

/// Where a source's notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifications {
    /// `{base}/api/v1/notifications/graph`.
    pub notification_url: reqwest::Url,
    /// `{base}/api/v1/notifications/graph/lifecycle`.
    pub lifecycle_url: reqwest::Url,
}

impl Notifications {
    /// The two endpoints under the gateway's public base URL (no query; its path is kept).
    pub fn under(base: &reqwest::Url) -> Notifications {
        let join = |path: &str| {
            let mut url = base.clone();
            let prefix = url.path().trim_end_matches('/').to_string();
            url.set_path(&format!("{prefix}{path}"));
            url.set_query(None);
            url.set_fragment(None);
            url
        };
        Notifications {
            notification_url: join(NOTIFICATION_PATH),
            lifecycle_url: join(LIFECYCLE_PATH),
        }
    }
}

fn not_configured() -> SourceFailure {
    SourceFailure::new(
        Code::SourceNoNotifications,
        "change notifications are not switched on for this source",
        FailureAction::Misconfigured,
    )
}

impl GraphSource {
    fn notifications(&self) -> Result<&Notifications, SourceFailure> {
        self.config
            .notifications
            .as_ref()
            .ok_or_else(not_configured)
    }

    /// The service, the application and where its notifications go.
    pub(super) fn scope(&self) -> String {
        let to = self
            .config
            .notifications
            .as_ref()
            .map(|n| n.notification_url.as_str())
            .unwrap_or_default();
        format!("{} {} {to}", self.api_root(), self.config.application)
    }

    fn lifetime(&self) -> SignedDuration {
        let minutes = self.lifetime_minutes.load(Ordering::Relaxed).max(1);
        SignedDuration::from_mins(i64::from(minutes))
    }

    /// Lowers the lifetime asked for when Graph's refusal names a shorter limit; `true` when
    /// it did (the request is worth one more try).
    fn learn_limit(&self, error: &GraphCallError) -> bool {
        let GraphCallError::Answered(e) = error else {
            return false;
        };
        if e.status != StatusCode::BAD_REQUEST.as_u16() {
            return false;
        }
        let Some(limit) = e
            .message
            .as_deref()
            .and_then(wire::refused_lifetime_minutes)
        else {
            return false;
        };
        let wanted = limit.saturating_sub(1).max(1);
        let before = self.lifetime_minutes.fetch_min(wanted, Ordering::Relaxed);
        before > wanted
    }

    pub(super) async fn create_subscription(
        &self,
        mailbox: &str,
        client_state: &str,
    ) -> Result<Subscription, SourceFailure> {
        let to = self.notifications()?;
        let url = self.operation_url(&["subscriptions"]);
        let mut tried_shorter = false;
        loop {
            let body = NewSubscription::events(
                mailbox.trim(),
                to.notification_url.as_str(),
                to.lifecycle_url.as_str(),
                Timestamp::now() + self.lifetime(),
                client_state,
            );
            let answer = self
                .call_with(
                    Method::POST,
                    "subscriptions.create",
                    &url,
                    Some(body.to_json()),
                    MAX_SUBSCRIPTION_RESPONSE_BYTES,
                )
                .await;
            match answer {
                Ok(body) => return accepted(&body),
                Err(e) if !tried_shorter && self.learn_limit(&e) => tried_shorter = true,
                Err(e) => return Err(call_failure(e)),
            }
        }
    }

    pub(super) async fn renew_subscription(&self, id: &str) -> Result<Renewed, SourceFailure> {
        let url = self.operation_url(&["subscriptions", id]);
        let mut tried_shorter = false;
        loop {
            let body = RenewSubscription::until(Timestamp::now() + self.lifetime());
            let answer = self
                .call_with(
                    Method::PATCH,
                    "subscriptions.renew",
                    &url,
                    Some(body.to_json()),
                    MAX_SUBSCRIPTION_RESPONSE_BYTES,
                )
                .await;
            match answer {
                Ok(body) => return accepted(&body).map(|s| Renewed::Until(s.expires)),
                Err(GraphCallError::Answered(e)) if e.status == StatusCode::NOT_FOUND.as_u16() => {
                    return Ok(Renewed::Gone);
                }
                Err(e) if !tried_shorter && self.learn_limit(&e) => tried_shorter = true,
                Err(e) => return Err(call_failure(e)),
            }
        }
    }

    /// Deletes a subscription; one Graph no longer knows counts as deleted.
    pub(super) async fn delete_subscription(&self, id: &str) -> Result<(), SourceFailure> {
        let url = self.operation_url(&["subscriptions", id]);
        match self
            .call_with(Method::DELETE, "subscriptions.delete", &url, None, 4_096)
            .await
        {
            Ok(_) => Ok(()),
            Err(GraphCallError::Answered(e)) if e.status == StatusCode::NOT_FOUND.as_u16() => {
                Ok(())
            }
            Err(GraphCallError::Answered(e)) => Err(service_failure(&e)),
            Err(GraphCallError::Failed(f)) => Err(f),
        }
    }

    /// The ids of the application's subscriptions that notify this source's notification URL.
    pub(super) async fn list_subscriptions(&self) -> Result<Vec<String>, SourceFailure> {
        let to = self.notifications()?.notification_url.clone();
        let mut url = self.operation_url(&["subscriptions"]);
        let mut ids = Vec::new();
        for _ in 0..MAX_PAGES {
            let body = self
                .call_with(
                    Method::GET,
                    "subscriptions.list",
                    &url,
                    None,
                    MAX_SUBSCRIPTION_RESPONSE_BYTES,
                )
                .await
                .map_err(call_failure)?;
            let page = SubscriptionPage::read(&body).map_err(|e| {
                SourceFailure::new(e.code().code(), e.to_string(), FailureAction::Transient)
            })?;
            ids.extend(
                page.value
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|s| s.notification_url.as_deref() == Some(to.as_str()))
                    .filter_map(|s| s.id),
            );
            match page.next_link {
                Some(link) => url = self.followable(&link)?,
                None => return Ok(ids),
            }
        }
        Err(SourceFailure::new(
            Code::GraphMalformedResponse,
            format!("Microsoft Graph's subscription listing went on past {MAX_PAGES} pages"),
            FailureAction::Transient,
        ))
    }
}

/// A created or renewed subscription as Graph answered it.
fn accepted(body: &[u8]) -> Result<Subscription, SourceFailure> {
    let s = wire::Subscription::read(body).map_err(|e| {
        SourceFailure::new(e.code().code(), e.to_string(), FailureAction::Transient)
    })?;
    Ok(Subscription {
        id: s.id,
        expires: s.expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoints_sit_under_the_base_url() {
        let base = reqwest::Url::parse("https://gw.contoso.com/calgate").expect("url");
        let n = Notifications::under(&base);
        assert_eq!(
            n.notification_url.as_str(),
            "https://gw.contoso.com/calgate/api/v1/notifications/graph"
        );
        assert_eq!(
            n.lifecycle_url.as_str(),
            "https://gw.contoso.com/calgate/api/v1/notifications/graph/lifecycle"
        );
        let root = reqwest::Url::parse("http://127.0.0.1:8080/").expect("url");
        assert_eq!(
            Notifications::under(&root).notification_url.as_str(),
            "http://127.0.0.1:8080/api/v1/notifications/graph"
        );
    }
}
