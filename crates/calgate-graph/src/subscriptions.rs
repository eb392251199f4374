//! Change notifications: `POST /subscriptions` (a subscription per mailbox on
//! `users/{id}/events`), `PATCH /subscriptions/{id}` (a new expiry), `DELETE
//! /subscriptions/{id}`, `GET /subscriptions` (pages of the application's subscriptions), and
//! the two kinds of notification Graph posts to the subscriber: change notifications
//! (`changeType`, `resource`) and lifecycle notifications (`lifecycleEvent`:
//! `reauthorizationRequired`, `subscriptionRemoved`, `missed`), both in a `value` collection.
//!
//! The validation handshake carries no JSON: Graph posts to the notification URL with a
//! `validationToken` query parameter, and the subscriber answers the token as `text/plain`.
//!
//! A notification says only which subscription fired; calgate trusts it only when its
//! `clientState` is the one it gave that subscription, and then reads the mailbox itself.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::schedule::ReadError;

/// The changes a calendar subscription asks for.
pub const EVENT_CHANGES: &str = "created,updated,deleted";

/// Graph's limit on `clientState`.
pub const MAX_CLIENT_STATE_CHARS: usize = 128;

/// A subscription or a page of them is small; this is generous.
pub const MAX_SUBSCRIPTION_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The query parameter of the validation handshake.
pub const VALIDATION_TOKEN_PARAM: &str = "validationToken";

/// Graph waits this long for the validation answer (its documented limit is 10 s).
pub const VALIDATION_TIMEOUT_SECS: u64 = 10;

/// The resource of a mailbox's calendar events.
pub fn events_resource(user: &str) -> String {
    format!("users/{user}/events")
}

/// The user a `users/{id}/events` resource names (any case, with or without a leading `/`),
/// or `None` for any other resource.
pub fn events_resource_user(resource: &str) -> Option<&str> {
    let path = resource.trim().trim_start_matches('/');
    let (users, rest) = path.split_once('/')?;
    let (user, events) = rest.split_once('/')?;
    (users.eq_ignore_ascii_case("users")
        && events.eq_ignore_ascii_case("events")
        && !user.trim().is_empty())
    .then_some(user)
}

/// The body of `POST /subscriptions`. Graph takes the SDKs' PascalCase beside camelCase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSubscription {
    #[serde(alias = "ChangeType")]
    pub change_type: String,
    #[serde(alias = "NotificationUrl")]
    pub notification_url: String,
    #[serde(
        default,
        alias = "LifecycleNotificationUrl",
        skip_serializing_if = "Option::is_none"
    )]
    pub lifecycle_notification_url: Option<String>,
    #[serde(alias = "Resource")]
    pub resource: String,
    #[serde(alias = "ExpirationDateTime")]
    pub expiration_date_time: String,
    #[serde(
        default,
        alias = "ClientState",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_state: Option<String>,
}

impl NewSubscription {
    /// A subscription to one mailbox's events until `expires`.
    pub fn events(
        user: &str,
        notification_url: &str,
        lifecycle_notification_url: &str,
        expires: Timestamp,
        client_state: &str,
    ) -> NewSubscription {
        NewSubscription {
            change_type: EVENT_CHANGES.to_owned(),
            notification_url: notification_url.to_owned(),
            lifecycle_notification_url: Some(lifecycle_notification_url.to_owned()),
            resource: events_resource(user),
            expiration_date_time: write_time(expires),
            client_state: Some(client_state.to_owned()),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The requested expiry, when it is a readable instant.
    pub fn expires(&self) -> Option<Timestamp> {
        read_time(&self.expiration_date_time)
    }
}

/// The body of `PATCH /subscriptions/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewSubscription {
    #[serde(alias = "ExpirationDateTime")]
    pub expiration_date_time: String,
}

impl RenewSubscription {
    pub fn until(expires: Timestamp) -> RenewSubscription {
        RenewSubscription {
            expiration_date_time: write_time(expires),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn expires(&self) -> Option<Timestamp> {
        read_time(&self.expiration_date_time)
    }
}

/// A `subscription` as Graph answers it (created, renewed or listed). Read leniently: calgate
/// needs the id and the expiry; the rest is for the listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub resource: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub change_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub notification_url: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub lifecycle_notification_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub expiration_date_time: Option<String>,
    /// Graph echoes it on the subscription it created; a listing leaves it out.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_state: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub application_id: Option<String>,
}

/// What calgate keeps of a subscription Graph accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub id: String,
    pub expires: Timestamp,
}

impl Subscription {
    /// Reads the answer to a create or renew: it must name the subscription and its expiry.
    pub fn read(body: &[u8]) -> Result<Accepted, ReadError> {
        let s: Subscription = crate::schedule::read_capped(body, MAX_SUBSCRIPTION_RESPONSE_BYTES)?;
        s.accepted().ok_or_else(|| {
            ReadError::Malformed("a subscription without its id or expiry".to_owned())
        })
    }

    /// The id and expiry, when both are there and readable.
    pub fn accepted(&self) -> Option<Accepted> {
        let id = self.id.as_deref().filter(|i| !i.trim().is_empty())?;
        let expires = read_time(self.expiration_date_time.as_deref()?)?;
        Some(Accepted {
            id: id.to_owned(),
            expires,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A page of `GET /subscriptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionPage {
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Option<Vec<Subscription>>,
    #[serde(
        rename = "@odata.nextLink",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
}

impl SubscriptionPage {
    pub fn read(body: &[u8]) -> Result<SubscriptionPage, ReadError> {
        let page: SubscriptionPage =
            crate::schedule::read_capped(body, MAX_SUBSCRIPTION_RESPONSE_BYTES)?;
        if page.value.is_none() {
            return Err(ReadError::no_value());
        }
        Ok(page)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A lifecycle event Graph sends to the lifecycle notification URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleEvent {
    /// The subscription must be renewed (its authorization is running out).
    ReauthorizationRequired,
    /// Graph removed the subscription: make a new one and read the mailbox.
    SubscriptionRemoved,
    /// Notifications were lost: read the mailbox.
    Missed,
}

impl LifecycleEvent {
    pub const ALL: [LifecycleEvent; 3] = [
        LifecycleEvent::ReauthorizationRequired,
        LifecycleEvent::SubscriptionRemoved,
        LifecycleEvent::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
            LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
            LifecycleEvent::Missed => "missed",
        }
    }

    /// Graph's name (any case); `None` for an event this build does not know.
    pub fn parse(s: &str) -> Option<LifecycleEvent> {
        LifecycleEvent::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One notification of either kind, read leniently: a field of the wrong type reads as absent,
/// and the reader decides what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(default, deserialize_with = "lenient::string")]
    pub subscription_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub subscription_expiration_date_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_state: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub change_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub tenant_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub lifecycle_event: Option<String>,
    /// The changed event's id and type (no content: calgate subscribes without resource data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_data: Option<serde_json::Value>,
}

impl Notification {
    /// A change notification as Graph writes it, for the simulator.
    pub fn change(
        subscription_id: &str,
        expires: Timestamp,
        client_state: Option<&str>,
        change_type: &str,
        resource: &str,
        tenant_id: &str,
        event_id: &str,
    ) -> Notification {
        Notification {
            subscription_id: Some(subscription_id.to_owned()),
            subscription_expiration_date_time: Some(write_time(expires)),
            client_state: client_state.map(str::to_owned),
            change_type: Some(change_type.to_owned()),
            resource: Some(resource.to_owned()),
            tenant_id: Some(tenant_id.to_owned()),
            lifecycle_event: None,
            resource_data: Some(serde_json::json!({
                "@odata.type": "#Microsoft.Graph.Event",
                "@odata.id": resource,
                "id": event_id,
            })),
        }
    }

    /// A lifecycle notification as Graph writes it, for the simulator.
    pub fn lifecycle(
        subscription_id: &str,
        expires: Timestamp,
        client_state: Option<&str>,
        event: LifecycleEvent,
        tenant_id: &str,
    ) -> Notification {
        Notification {
            subscription_id: Some(subscription_id.to_owned()),
            subscription_expiration_date_time: Some(write_time(expires)),
            client_state: client_state.map(str::to_owned),
            change_type: None,
            resource: None,
            tenant_id: Some(tenant_id.to_owned()),
            lifecycle_event: Some(event.as_str().to_owned()),
            resource_data: None,
        }
    }

    /// The lifecycle event, when this is a lifecycle notification of a known kind.
    pub fn lifecycle_event(&self) -> Option<LifecycleEvent> {
        self.lifecycle_event
            .as_deref()
            .and_then(LifecycleEvent::parse)
    }
}

/// A notification collection: `{"value": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationCollection {
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Option<Vec<Notification>>,
}

impl NotificationCollection {
    pub fn new(value: Vec<Notification>) -> NotificationCollection {
        NotificationCollection { value: Some(value) }
    }

    /// Reads a posted collection of at most `limit` bytes. Elements that are not objects are
    /// dropped by the lenient list; a body without a `value` list is malformed.
    pub fn read(body: &[u8], limit: usize) -> Result<Vec<Notification>, ReadError> {
        let collection: NotificationCollection = crate::schedule::read_capped(body, limit)?;
        collection.value.ok_or_else(ReadError::no_value)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The longest lifetime Graph documents for a subscription to Outlook events without resource
/// data (10 080 minutes, under seven days). A client asks for a little less and reads the expiry
/// Graph answers; a service with a shorter limit says so in its refusal.
pub const DOCUMENTED_MAX_LIFETIME_MINUTES: u32 = 10_080;

/// Graph's refusal of an expiry beyond its limit (a 400 whose message names the limit).
pub fn expiry_refusal_message(max_minutes: u32) -> String {
    format!("Subscription expiration can only be {max_minutes} minutes in the future.")
}

/// The limit a refusal of an expiry names, in minutes: the number before `minutes` in
/// Graph's message. `None` when the message names none.
pub fn refused_lifetime_minutes(message: &str) -> Option<u32> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find(" minutes")?;
    let digits: String = lower[..at]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok().filter(|m: &u32| *m > 0)
}

/// An instant as Graph writes `expirationDateTime` (UTC, `Z`).
pub fn write_time(at: Timestamp) -> String {
    at.round(jiff::Unit::Millisecond)
        .unwrap_or(at)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Reads an `expirationDateTime`: RFC 3339 with an offset; Graph's UTC form without one is taken
/// as UTC.
pub fn read_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(at) = s.parse::<Timestamp>() {
        return Some(at);
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| jiff::tz::TimeZone::UTC.to_timestamp(dt).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_resource_is_read_back_in_any_spelling() {
        assert_eq!(events_resource("a@x.test"), "users/a@x.test/events");
        assert_eq!(
            events_resource_user("users/a@x.test/events"),
            Some("a@x.test")
        );
        assert_eq!(events_resource_user("/Users/ID-1/Events"), Some("ID-1"));
        assert_eq!(events_resource_user("users/a@x.test/messages"), None);
        assert_eq!(events_resource_user("users//events"), None);
        assert_eq!(events_resource_user("me/events"), None);
    }

    #[test]
    fn a_new_subscription_travels_in_camel_case_and_is_read_in_pascal_case_too() {
        let at: Timestamp = "2026-12-05T10:00:00Z".parse().expect("test value");
        let s = NewSubscription::events("a@x.test", "https://gw/n", "https://gw/l", at, "cs");
        let json: serde_json::Value = serde_json::from_str(&s.to_json()).expect("test value");
        assert_eq!(json["changeType"], "created,updated,deleted");
        assert_eq!(json["resource"], "users/a@x.test/events");
        assert_eq!(json["expirationDateTime"], "2026-12-05T10:00:00.000Z");
        assert_eq!(json["lifecycleNotificationUrl"], "https://gw/l");
        assert_eq!(json["clientState"], "cs");
        let pascal = r#"{"ChangeType":"updated","NotificationUrl":"https://gw/n",
            "Resource":"users/b/events","ExpirationDateTime":"2026-12-05T10:00:00.0000000Z"}"#;
        let read: NewSubscription = serde_json::from_str(pascal).expect("test value");
        assert_eq!(read.resource, "users/b/events");
        assert_eq!(read.expires(), Some(at));
        assert_eq!(read.client_state, None);
    }

    #[test]
    fn an_answer_without_id_or_readable_expiry_is_malformed() {
        let ok = br#"{"id":"s1","expirationDateTime":"2026-12-05T10:00:00.9356913Z"}"#;
        let accepted = Subscription::read(ok).expect("test value");
        assert_eq!(accepted.id, "s1");
        for bad in [
            &br#"{"expirationDateTime":"2026-12-05T10:00:00Z"}"#[..],
            br#"{"id":"s1"}"#,
            br#"{"id":"s1","expirationDateTime":"soon"}"#,
            br#"{"id":7,"expirationDateTime":"2026-12-05T10:00:00Z"}"#,
            br#"[1,2]"#,
            b"not json",
        ] {
            assert!(
                Subscription::read(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = vec![b' '; MAX_SUBSCRIPTION_RESPONSE_BYTES + 1];
        assert!(matches!(
            Subscription::read(&huge),
            Err(ReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn notifications_are_read_leniently_and_capped() {
        let body = br#"{"value":[
            {"subscriptionId":"s1","clientState":"c","changeType":"updated",
             "resource":"Users/1/Events/2","tenantId":"t"},
            {"subscriptionId":"s2","lifecycleEvent":"missed"},
            {"subscriptionId":5,"clientState":["x"]},
            "junk"
        ]}"#;
        let read = NotificationCollection::read(body, 1 << 20).expect("test value");
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].client_state.as_deref(), Some("c"));
        assert_eq!(read[0].lifecycle_event(), None);
        assert_eq!(read[1].lifecycle_event(), Some(LifecycleEvent::Missed));
        assert_eq!(read[2].subscription_id, None);
        assert_eq!(read[2].client_state, None);
        assert!(NotificationCollection::read(b"{}", 1 << 20).is_err());
        assert!(NotificationCollection::read(b"<xml/>", 1 << 20).is_err());
        assert!(matches!(
            NotificationCollection::read(body, 16),
            Err(ReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn what_the_simulator_writes_the_client_reads() {
        let at: Timestamp = "2026-12-05T10:00:00Z".parse().expect("test value");
        let change =
            Notification::change("s1", at, Some("c"), "created", "Users/1/Events/9", "t", "9");
        let life =
            Notification::lifecycle("s2", at, None, LifecycleEvent::SubscriptionRemoved, "t");
        let body = NotificationCollection::new(vec![change.clone(), life.clone()]).to_json();
        let read = NotificationCollection::read(body.as_bytes(), 1 << 20).expect("test value");
        assert_eq!(read, vec![change, life]);
        assert_eq!(
            read[1].lifecycle_event(),
            Some(LifecycleEvent::SubscriptionRemoved)
        );
        assert_eq!(
            LifecycleEvent::parse("ReauthorizationRequired"),
            Some(LifecycleEvent::ReauthorizationRequired)
        );
        assert_eq!(LifecycleEvent::parse("somethingNew"), None);
    }

    #[test]
    fn the_limit_named_in_a_refusal_is_read() {
        assert_eq!(
            refused_lifetime_minutes(&expiry_refusal_message(4230)),
            Some(4230)
        );
        assert_eq!(
            refused_lifetime_minutes(
                "Subscription expiration can only be 10070 minutes in the future."
            ),
            Some(10070)
        );
        assert_eq!(refused_lifetime_minutes("minutes"), None);
        assert_eq!(refused_lifetime_minutes("can only be 0 minutes"), None);
        assert_eq!(refused_lifetime_minutes("expiration is too far"), None);
    }

    #[test]
    fn graph_times_are_read_with_and_without_an_offset() {
        let at: Timestamp = "2026-12-05T10:00:00Z".parse().expect("test value");
        assert_eq!(read_time("2026-12-05T10:00:00Z"), Some(at));
        assert_eq!(read_time("2026-12-05T11:00:00+01:00"), Some(at));
        assert_eq!(read_time("2026-12-05T10:00:00.0000000"), Some(at));
        assert_eq!(read_time(&write_time(at)), Some(at));
        assert_eq!(read_time(""), None);
    }
}
