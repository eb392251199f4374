//! The last availability fetched per mailbox, so a restarted gateway serves what it knew — with
//! its true age, turning `unknown` when too old — instead of nothing.

use calgate_core::Availability;
use sqlx::QueryBuilder;

use crate::Store;
use crate::backend::{on_pool, on_tx};
use crate::error::{Result, StoreError};

/// Rows per upsert statement (three parameters each, far below SQLite's and PostgreSQL's
/// limits).
const AVAILABILITY_PER_STATEMENT: usize = 200;

impl Store {
    /// Stores availabilities in one transaction. An entry older than the stored one for the same
    /// mailbox is ignored, so a late batch cannot roll a mailbox back.
    pub async fn save_availability<A>(&self, items: &[A]) -> Result<()>
    where
        A: std::borrow::Borrow<Availability>,
    {
        let mut rows = Vec::with_capacity(items.len());
        for a in items {
            let a: &Availability = a.borrow();
            let json = serde_json::to_string(a)
                .map_err(|e| StoreError::corrupt_json("availability", &e))?;
            rows.push((
                a.mailbox.trim().to_lowercase(),
                json,
                a.fetched_at.as_millisecond(),
            ));
        }
        // A mailbox twice in one batch keeps the newer entry (the later one of equals), as
        // separate saves would; PostgreSQL refuses to update one row twice in one statement.
        rows.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
        let mut newest: Vec<(String, String, i64)> = Vec::with_capacity(rows.len());
        for row in rows {
            match newest.last_mut() {
                Some(last) if last.0 == row.0 => *last = row,
                _ => newest.push(row),
            }
        }
        let mut tx = self.db().begin_write().await?;
        // Multi-row statements: each statement is a hand-off to the driver's SQLite thread, so
        // one per row made a 100 000-mailbox save mostly thread wake-ups.
        for chunk in newest.chunks(AVAILABILITY_PER_STATEMENT) {
            on_tx!(&mut tx, |tx| {
                let mut upsert = QueryBuilder::<Db>::new(
                    "INSERT INTO last_availability (mailbox, availability_json, fetched_at_ms) ",
                );
                upsert.push_values(chunk, |mut row, (mailbox, json, fetched_at_ms)| {
                    row.push_bind(mailbox.as_str())
                        .push_bind(json.as_str())
                        .push_bind(*fetched_at_ms);
                });
                upsert.push(
                    " ON CONFLICT (mailbox) DO UPDATE SET \
                     availability_json = excluded.availability_json, \
                     fetched_at_ms = excluded.fetched_at_ms \
                     WHERE excluded.fetched_at_ms >= last_availability.fetched_at_ms",
                );
                upsert.build().execute(&mut **tx).await?;
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every stored availability (for a warm restart).
    pub async fn load_availability(&self) -> Result<Vec<Availability>> {
        let mut all = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.load_availability_page(&after, 2_000).await?;
            let Some(last) = page.last() else {
                return Ok(all);
            };
            after.clone_from(&last.mailbox);
            all.extend(page);
        }
    }

    /// Up to `limit` stored availabilities whose mailbox sorts after `after`, in mailbox order.
    /// A warm restart reads them page by page, so the saved text of 100 000 people is never in
    /// memory at once.
    pub async fn load_availability_page(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Availability>> {
        let rows: Vec<(String, String)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT mailbox, availability_json FROM last_availability WHERE mailbox > $1 \
             ORDER BY mailbox LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(mailbox, json)| {
                let mut availability: Availability = serde_json::from_str(&json).map_err(|e| {
                    StoreError::corrupt_json(format!("availability of {mailbox}"), &e)
                })?;
                // The key the next page starts after is the stored one.
                availability.mailbox = mailbox;
                Ok(availability)
            })
            .collect()
    }

    /// The stored availabilities of `mailboxes` (those that have one), for a gateway told by
    /// another that it wrote them.
    pub async fn load_availability_of(&self, mailboxes: &[String]) -> Result<Vec<Availability>> {
        let wanted: Vec<String> = mailboxes.iter().map(|m| m.trim().to_lowercase()).collect();
        let mut out = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(AVAILABILITY_PER_STATEMENT) {
            let rows: Vec<(String, String)> = on_pool!(self.db(), |pool| {
                let mut select = QueryBuilder::<Db>::new(
                    "SELECT mailbox, availability_json FROM last_availability WHERE mailbox IN (",
                );
                let mut list = select.separated(", ");
                for mailbox in chunk {
                    list.push_bind(mailbox.as_str());
                }
                select.push(")");
                select.build_query_as().fetch_all(pool).await?
            });
            for (mailbox, json) in rows {
                let mut availability: Availability = serde_json::from_str(&json).map_err(|e| {
                    StoreError::corrupt_json(format!("availability of {mailbox}"), &e)
                })?;
                availability.mailbox = mailbox;
                out.push(availability);
            }
        }
        Ok(out)
    }

    pub async fn load_availability_for(&self, mailbox: &str) -> Result<Option<Availability>> {
        let row: Option<(String,)> = on_pool!(self.db(), |pool| sqlx::query_as(
            "SELECT availability_json FROM last_availability WHERE mailbox = $1"
        )
        .bind(mailbox.trim().to_lowercase())
        .fetch_optional(pool)
        .await?);
        row.map(|(json,)| {
            serde_json::from_str(&json).map_err(|e| StoreError::corrupt_json("availability", &e))
        })
        .transpose()
    }
}
