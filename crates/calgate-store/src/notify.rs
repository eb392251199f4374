//! Telling the other gateways on the same PostgreSQL database that something changed
//! (`NOTIFY`), and hearing them (`LISTEN`, through sqlx's `PgListener`). On SQLite there is no
//! other gateway: [`Store::notify`] does nothing and [`Store::listen`] gives no listener.
//!
//! A notice carries the sending instance's id and a list of items (which part of the
//! configuration changed, the mailboxes whose availability was written); long lists go out in
//! several notifications, each below PostgreSQL's 8000-byte payload limit. Notifications are not
//! kept while a listener is disconnected, so after a reconnect the listener says
//! [`Notice::Missed`]: anything may have changed.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};

use crate::Store;
use crate::backend::Backend;
use crate::error::Result;

/// What a notice is about; each is a channel of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Part of the configuration changed; the items name which (the binary's words).
    Config,
    /// Availability was written; the items are the mailboxes.
    Availability,
    /// The lockout guard's state changed.
    Guard,
    /// Graph change notifications that reached a gateway which does not hold their
    /// subscriptions (the items: subscription id, a digest of the `clientState`, the lifecycle
    /// event), for the one that does.
    Notifications,
}

impl Topic {
    const ALL: [Topic; 4] = [
        Topic::Config,
        Topic::Availability,
        Topic::Guard,
        Topic::Notifications,
    ];

    fn channel(self) -> &'static str {
        match self {
            Topic::Config => "calgate_config",
            Topic::Availability => "calgate_availability",
            Topic::Guard => "calgate_guard",
            Topic::Notifications => "calgate_notifications",
        }
    }

    fn from_channel(channel: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.channel() == channel)
    }
}

/// What a listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Heard {
        topic: Topic,
        /// The id of the instance that sent it.
        origin: String,
        items: Vec<String>,
    },
    /// The listener lost its connection and is back: notices may have been missed, so
    /// everything must be taken as changed.
    Missed,
}

/// Payload bytes per notification, below PostgreSQL's limit of 8000 with room to spare.
const MAX_PAYLOAD: usize = 7_900;

/// How long a listener waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

impl Store {
    /// Tells the other gateways about `items` under `topic`, as instance `origin`; several
    /// notifications when the items do not fit in one. An item holding a line break or too long
    /// for a notification is left out. Nothing happens on SQLite.
    pub async fn notify(&self, topic: Topic, origin: &str, items: &[String]) -> Result<()> {
        let Backend::Postgres(pool) = self.db() else {
            return Ok(());
        };
        for payload in payloads(origin, items) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(topic.channel())
                .bind(payload)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Starts listening to every topic (PostgreSQL; `None` on SQLite). Notices sent from now on
    /// are heard.
    pub async fn listen(&self) -> Result<Option<Listener>> {
        let Backend::Postgres(pool) = self.db() else {
            return Ok(None);
        };
        let inner = connect(pool).await?;
        Ok(Some(Listener {
            pool: pool.clone(),
            inner: Some(inner),
        }))
    }
}

/// The payloads for `items`: the origin on the first line, one item a line, each payload at most
/// [`MAX_PAYLOAD`] bytes; one payload even without items.
fn payloads(origin: &str, items: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = origin.to_string();
    let mut has_items = false;
    for item in items {
        if item.contains('\n') || origin.len() + 1 + item.len() > MAX_PAYLOAD {
            continue;
        }
        if current.len() + 1 + item.len() > MAX_PAYLOAD {
            out.push(std::mem::replace(&mut current, origin.to_string()));
        }
        current.push('\n');
        current.push_str(item);
        has_items = true;
    }
    if has_items || out.is_empty() {
        out.push(current);
    }
    out
}

async fn connect(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all(Topic::ALL.iter().map(|t| t.channel()))
        .await?;
    Ok(listener)
}

/// Hears the notices of every topic; reconnects by itself.
pub struct Listener {
    pool: PgPool,
    inner: Option<PgListener>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("connected", &self.inner.is_some())
            .finish()
    }
}

impl Listener {
    /// The next notice. After a lost connection it connects again (once a second until it
    /// can) and answers [`Notice::Missed`].
    pub async fn next(&mut self) -> Notice {
        loop {
            let Some(inner) = self.inner.as_mut() else {
                match connect(&self.pool).await {
                    Ok(listener) => {
                        self.inner = Some(listener);
                        return Notice::Missed;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen to the database; trying again");
                        tokio::time::sleep(RECONNECT_AFTER).await;
                        continue;
                    }
                }
            };
            match inner.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(topic) = Topic::from_channel(notification.channel()) else {
                        continue;
                    };
                    let mut lines = notification.payload().split('\n');
                    let origin = lines.next().unwrap_or_default().to_string();
                    let items = lines.map(str::to_string).collect();
                    return Notice::Heard {
                        topic,
                        origin,
                        items,
                    };
                }
                // The connection was lost and made again: what was sent meanwhile is gone.
                Ok(None) => return Notice::Missed,
                Err(e) => {
                    tracing::warn!(error = %e, "the database listener stopped; reconnecting");
                    self.inner = None;
                    tokio::time::sleep(RECONNECT_AFTER).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_split_below_the_payload_limit() {
        let items: Vec<String> = (0..1_000)
            .map(|i| format!("person.number{i}@contoso.example.com"))
            .collect();
        let split = payloads("inst-1", &items);
        assert!(split.len() > 1);
        assert!(split.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<&str> = split
            .iter()
            .flat_map(|p| {
                let mut lines = p.split('\n');
                assert_eq!(lines.next(), Some("inst-1"));
                lines
            })
            .collect();
        assert_eq!(back, items.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(payloads("inst-1", &[]), ["inst-1"]);
        assert_eq!(payloads("inst-1", &["a\nb".to_string()]), ["inst-1"]);
    }
}
