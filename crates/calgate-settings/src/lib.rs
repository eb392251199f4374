//! The one schema of calgate's calendar settings (SPEC §3, §5.1): the fields, their labels and
//! help text, which providers they apply to, the validation rules with their field errors, and the
//! warnings with stable codes. The API, the portal form, the store and the docs all read from here.
//!
//! Pure: no I/O. Secrets are `secrecy::SecretString`; no type here prints or serializes a secret
//! in clear — the read-back view only says whether each one is set.

pub mod directories;
mod domain;
pub mod fields;
mod model;
mod pem;
pub mod sources;
pub mod target;
mod update;
mod validate;

pub use directories::{
    AttributeMap, DirectoryConfig, DirectoryKind, ORIGIN_IMPORT, ORIGIN_MANUAL,
    directory_id_problem,
};
pub use fields::{FieldId, FieldKind, FieldSpec, NeedsGrant, docs_markdown, field, fields};
pub use model::{
    CalendarSettings, CalendarSettingsView, DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_ENDPOINT,
    DEFAULT_NOTIFICATION_SWEEP_S, DEFAULT_PRESENCE_INTERVAL_S, DEFAULT_REFRESH_INTERVAL_S, EwsAuth,
    GraphSignIn, MAX_PRESENCE_INTERVAL_S, MIN_PRESENCE_INTERVAL_S, OFFICE365_EWS_URL, Provider,
    SecretField, SettingsSecrets, changed_fields,
};
pub use sources::{
    DEFAULT_SOURCE_ID, RoutingTable, UNKNOWN_SOURCE_CODE, check_display_name, source_id_problem,
};
pub use update::{CalendarSettingsUpdate, Patch, StatusRulesPatch};
pub use validate::{
    FieldErrors, INVALID_SETTINGS_CODE, MAX_REFRESH_INTERVAL_S, MIN_REFRESH_INTERVAL_S,
    RECOMMENDED_MIN_REFRESH_INTERVAL_S, SECRET_REENTRY_CODE, Warning, WarningCode, validate,
    validate_json,
};

#[cfg(test)]
mod tests;
