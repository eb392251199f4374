//! Several calendar sources and the routing table: the domain operations the API and the pages
//! share. Each change is one store transaction, then one swap in the engine, under one lock so
//! two admins saving at once cannot leave the store and the engine disagreeing.

use calgate_settings::{CalendarSettings, DEFAULT_SOURCE_ID, FieldErrors, RoutingTable};
use calgate_store::StoreError;

use crate::state::{AppState, SourceConfig, engine_routing};

/// Why a change to sources or routing was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The routing table names unknown sources or holds malformed keys.
    #[error("{}", .0.summary_of("the routing"))]
    InvalidRouting(FieldErrors),
    /// The source is still named by the routing table.
    #[error(
        "the source {0} is still named by the routing table; route its mailboxes elsewhere first"
    )]
    SourceInUse(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppState {
    /// Every source, `default` first, then by id.
    pub fn sources(&self) -> Vec<SourceConfig> {
        let sources = self.sources.read().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<SourceConfig> = sources.values().cloned().collect();
        list.sort_by_key(|s| (s.id != DEFAULT_SOURCE_ID, s.id.clone()));
        list
    }

    /// One source by id.
    pub fn source(&self, id: &str) -> Option<SourceConfig> {
        self.sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    pub(crate) fn sources_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, std::collections::BTreeMap<String, SourceConfig>> {
        self.sources.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The routing table in force.
    pub fn routing(&self) -> RoutingTable {
        self.routing
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The directories' mailbox routes.
    pub fn people_routes(&self) -> std::collections::BTreeMap<String, String> {
        self.people_routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The id of the source that serves `email`: the routing table's route for the mailbox,
    /// else a directory's, else the table's domain route or default.
    pub fn source_of(&self, email: &str) -> String {
        let routing = self.routing.read().unwrap_or_else(|e| e.into_inner());
        let mailbox = email.trim().to_lowercase();
        if let Some(id) = routing.mailboxes.get(&mailbox) {
            return id.clone();
        }
        if let Some(id) = self
            .people_routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&mailbox)
        {
            return id.clone();
        }
        routing.source_for(&mailbox).to_string()
    }

    /// Replaces the directories' routes of `emails` (`None`: no route) and, when one of them
    /// changed, hands the engine the new routing: a sync that moves no mailbox costs the engine
    /// no pass over the watch list.
    pub fn set_people_routes(&self, routes: impl IntoIterator<Item = (String, Option<String>)>) {
        let mut changed = false;
        {
            let mut people = self
                .people_routes
                .write()
                .unwrap_or_else(|e| e.into_inner());
            for (email, route) in routes {
                changed |= match route {
                    Some(id) => people.insert(email, id.clone()).as_ref() != Some(&id),
                    None => people.remove(&email).is_some(),
                };
            }
        }
        if changed {
            self.engine()
                .set_routing(engine_routing(&self.routing(), &self.people_routes()));
        }
    }

    /// Saves validated settings for source `id` (created when new; `display_name` `None` keeps
    /// the saved name) with an audit row naming `actor`, then applies them.
    pub async fn save_source(
        &self,
        id: &str,
        display_name: Option<&str>,
        settings: CalendarSettings,
        actor: &str,
    ) -> Result<(), StoreError> {
        let _guard = self.config_lock.lock().await;
        let saved = self
            .store
            .save_source(id, display_name, &settings, actor)
            .await?;
        tracing::info!(
            source = %id,
            revision = saved.revision,
            fields = ?saved.changed_fields,
            actor = %actor,
            "calendar settings saved"
        );
        // The name as the store keeps it (trimmed), or the one already known: no second read
        // (which would unseal the secrets just written).
        let stored_name = match display_name.map(calgate_settings::check_display_name) {
            Some(Ok(name)) => name,
            _ => self.source(id).map(|s| s.display_name).unwrap_or_default(),
        };
        self.sources_mut().insert(
            id.to_string(),
            SourceConfig {
                id: id.to_string(),
                display_name: stored_name,
                settings: settings.clone(),
            },
        );
        self.apply_source(id, &settings);
        if let Some(cluster) = &self.cluster {
            cluster.applied(id, saved.revision);
        }
        crate::cluster::announce(self, crate::cluster::Changed::Sources).await;
        Ok(())
    }

    /// The first watched person (by address) that source `id` serves: what a connection test
    /// uses when given no mailbox (the service account often has none of its own).
    pub async fn first_watched_of(&self, id: &str) -> Result<Option<String>, StoreError> {
        let people = self.store.list_people().await?;
        Ok(people
            .into_iter()
            .map(|p| p.email)
            .find(|e| self.source_of(e) == id))
    }

    /// Deletes source `id`, unless the routing table names it. The source `default` is not
    /// removed but reset to unconfigured (it always exists). Returns whether it was configured.
    pub async fn delete_source(&self, id: &str, actor: &str) -> Result<bool, ConfigError> {
        let _guard = self.config_lock.lock().await;
        if self.routing().names(id) {
            return Err(ConfigError::SourceInUse(id.to_string()));
        }
        let existed = match self.store.delete_source(id, actor).await {
            Ok(existed) => existed,
            Err(StoreError::InUse { .. }) => return Err(ConfigError::SourceInUse(id.to_string())),
            Err(e) => return Err(e.into()),
        };
        tracing::info!(source = %id, actor = %actor, existed, "calendar source deleted");
        if id == DEFAULT_SOURCE_ID {
            let unconfigured = SourceConfig::unconfigured(id);
            self.apply_source(id, &unconfigured.settings);
            self.sources_mut().insert(id.to_string(), unconfigured);
        } else {
            self.sources_mut().remove(id);
            self.engine()
                .remove_source(&calgate_engine::SourceId::new(id));
        }
        crate::cluster::announce(self, crate::cluster::Changed::Sources).await;
        Ok(existed)
    }

    /// Checks `table` against the configured sources, saves it with an audit row and moves
    /// every mailbox whose source changes. Nothing is saved when any route is refused.
    pub async fn save_routing(
        &self,
        table: &RoutingTable,
        actor: &str,
    ) -> Result<RoutingTable, ConfigError> {
        let _guard = self.config_lock.lock().await;
        let ids: Vec<String> = self.sources().into_iter().map(|s| s.id).collect();
        let checked = table
            .checked(ids.iter().map(String::as_str))
            .map_err(ConfigError::InvalidRouting)?;
        let revision = self.store.save_routing(&checked, actor).await?;
        tracing::info!(revision, actor = %actor, "routing saved");
        *self.routing.write().unwrap_or_else(|e| e.into_inner()) = checked.clone();
        self.engine()
            .set_routing(engine_routing(&checked, &self.people_routes()));
        crate::cluster::announce(self, crate::cluster::Changed::Routing).await;
        Ok(checked)
    }
}
