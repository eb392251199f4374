//! What a `PUT /api/v1/settings/calendar` carries: each field may be absent (keep the current
//! value), set, or — for optional fields and secrets — cleared with `null` or `""`. Parsing
//! reports type errors per field; the rules live in [`crate::validate`].

use calgate_core::ExchangeVersion;
use calgate_core::{Privacy, TentativeRule, WorkingElsewhereRule};
use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::fields::{self, FieldId, FieldKind};
use crate::model::Provider;
use crate::validate::FieldErrors;

/// One field of an update.
#[derive(Debug, Clone, Default)]
pub enum Patch<T> {
    /// The field was absent: keep the current value.
    #[default]
    Keep,
    /// `null` or an empty string: clear it (or restore the default, for fields that have one).
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

/// A partial update of the status rules; absent members keep their current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusRulesPatch {
    pub tentative: Option<TentativeRule>,
    pub working_elsewhere: Option<WorkingElsewhereRule>,
    pub ignore_all_day_free: Option<bool>,
}

/// A settings update. Text-like fields are carried raw and checked by [`crate::validate`], so
/// every rule has one home.
#[derive(Debug, Clone, Default)]
pub struct CalendarSettingsUpdate {
    pub provider: Option<Provider>,
    pub grant_basic_auth: Option<bool>,
    pub grant_modern_auth: Option<bool>,
    pub grant_windows_auth: Option<bool>,
    pub tenant_id: Patch<String>,
    pub client_id: Patch<String>,
    pub username: Patch<String>,
    pub password: Patch<SecretString>,
    pub client_secret: Patch<SecretString>,
    pub client_certificate_pem: Patch<SecretString>,
    pub exchange_version: Option<ExchangeVersion>,
    pub ews_url: Patch<String>,
    /// Carried wide so an out-of-range number is a field error rather than a type error.
    pub refresh_interval_s: Option<i64>,
    pub presence: Option<bool>,
    /// Carried wide, as `refresh_interval_s`.
    pub presence_interval_s: Option<i64>,
    pub change_notifications: Option<bool>,
    pub notification_url: Patch<String>,
    /// Carried wide, as `refresh_interval_s`.
    pub notification_sweep_s: Option<i64>,
    pub privacy: Option<Privacy>,
    pub allow_insecure_http: Option<bool>,
    pub authority_host: Patch<String>,
    pub graph_endpoint: Patch<String>,
    pub extra_ca_pem: Patch<String>,
    pub status_rules: Option<StatusRulesPatch>,
}

/// Members of the read-back view that a client may echo back; they are ignored.
const READ_ONLY: &[&str] = &[
    "password_set",
    "client_secret_set",
    "client_certificate_pem_set",
];

impl CalendarSettingsUpdate {
    /// Reads an update from a JSON object. Unknown fields and wrongly typed values are field
    /// errors (unknown data is never silently dropped). Error messages never quote a value.
    pub fn from_json(value: &Value) -> Result<CalendarSettingsUpdate, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(object) = value.as_object() else {
            errors.insert("", "the settings must be a JSON object");
            return Err(errors);
        };
        let mut update = CalendarSettingsUpdate::default();
        for (name, value) in object {
            if READ_ONLY.contains(&name.as_str()) {
                continue;
            }
            let Some(spec) = fields::field(name) else {
                errors.insert(name, "unknown field");
                continue;
            };
            if let Err(message) = update.apply(spec.id, spec.kind, value) {
                errors.insert(name, message);
            }
        }
        if errors.is_empty() {
            Ok(update)
        } else {
            Err(errors)
        }
    }

    fn apply(&mut self, id: FieldId, kind: FieldKind, value: &Value) -> Result<(), String> {
        match id {
            FieldId::Provider => self.provider = Some(choice(value, kind, Provider::parse)?),
            FieldId::GrantBasicAuth => self.grant_basic_auth = Some(boolean(value)?),
            FieldId::GrantModernAuth => self.grant_modern_auth = Some(boolean(value)?),
            FieldId::GrantWindowsAuth => self.grant_windows_auth = Some(boolean(value)?),
            FieldId::TenantId => self.tenant_id = text(value)?,
            FieldId::ClientId => self.client_id = text(value)?,
            FieldId::Username => self.username = text(value)?,
            FieldId::Password => self.password = secret(value)?,
            FieldId::ClientSecret => self.client_secret = secret(value)?,
            FieldId::ClientCertificatePem => self.client_certificate_pem = secret(value)?,
            FieldId::ExchangeVersion => {
                self.exchange_version = Some(choice(value, kind, ExchangeVersion::parse)?)
            }
            FieldId::EwsUrl => self.ews_url = text(value)?,
            FieldId::RefreshIntervalS => self.refresh_interval_s = Some(seconds(value)?),
            FieldId::Presence => self.presence = Some(boolean(value)?),
            FieldId::PresenceIntervalS => self.presence_interval_s = Some(seconds(value)?),
            FieldId::ChangeNotifications => self.change_notifications = Some(boolean(value)?),
            FieldId::NotificationUrl => self.notification_url = text(value)?,
            FieldId::NotificationSweepS => self.notification_sweep_s = Some(seconds(value)?),
            FieldId::Privacy => {
                self.privacy = Some(choice(value, kind, |s| {
                    serde_json::from_value(Value::String(s.to_string())).ok()
                })?)
            }
            FieldId::AllowInsecureHttp => self.allow_insecure_http = Some(boolean(value)?),
            FieldId::AuthorityHost => self.authority_host = text(value)?,
            FieldId::GraphEndpoint => self.graph_endpoint = text(value)?,
            FieldId::ExtraCaPem => self.extra_ca_pem = text(value)?,
            FieldId::StatusRules => self.status_rules = Some(status_rules(value)?),
        }
        Ok(())
    }
}

/// Whole seconds, carried wide: a number too large for `i64` reads as `i64::MAX`, so the range
/// check reports it rather than a type error.
fn seconds(value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .or_else(|| value.as_u64().map(|_| i64::MAX))
        .ok_or_else(|| "expected a whole number of seconds".to_string())
}

fn boolean(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "expected true or false".to_string())
}

fn choice<T>(
    value: &Value,
    kind: FieldKind,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, String> {
    let expected = || match kind {
        FieldKind::Choice { choices } => format!("expected one of: {}", choices.join(", ")),
        _ => "expected one of the offered choices".to_string(),
    };
    value.as_str().and_then(parse).ok_or_else(expected)
}

/// Optional text: `null` or blank clears, anything else is kept trimmed for validation.
fn text(value: &Value) -> Result<Patch<String>, String> {
    match value {
        Value::Null => Ok(Patch::Clear),
        Value::String(s) if s.trim().is_empty() => Ok(Patch::Clear),
        Value::String(s) => Ok(Patch::Set(s.trim().to_string())),
        _ => Err("expected a string or null".to_string()),
    }
}

/// A write-only value: `null` or `""` clears it. Not trimmed: a password may end in a space.
fn secret(value: &Value) -> Result<Patch<SecretString>, String> {
    match value {
        Value::Null => Ok(Patch::Clear),
        Value::String(s) if s.is_empty() => Ok(Patch::Clear),
        Value::String(s) => Ok(Patch::Set(SecretString::from(s.as_str()))),
        _ => Err("expected a string or null".to_string()),
    }
}

fn status_rules(value: &Value) -> Result<StatusRulesPatch, String> {
    const SHAPE: &str = "expected an object with tentative (tentative, busy or free), \
                         working_elsewhere (working_elsewhere, free or busy) and \
                         ignore_all_day_free (true or false)";
    let object: &Map<String, Value> = value.as_object().ok_or(SHAPE)?;
    let mut patch = StatusRulesPatch::default();
    for (key, member) in object {
        match key.as_str() {
            "tentative" => {
                patch.tentative = Some(serde_json::from_value(member.clone()).map_err(|_| SHAPE)?)
            }
            "working_elsewhere" => {
                patch.working_elsewhere =
                    Some(serde_json::from_value(member.clone()).map_err(|_| SHAPE)?)
            }
            "ignore_all_day_free" => {
                patch.ignore_all_day_free = Some(member.as_bool().ok_or(SHAPE)?)
            }
            _ => return Err(format!("unknown member {key:?} in status rules")),
        }
    }
    Ok(patch)
}
