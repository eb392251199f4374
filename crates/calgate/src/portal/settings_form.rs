//! The settings form's inputs, built row by row from the settings crate's field table (labels,
//! help, the providers and grants each field applies to), and the submitted form read back as a
//! settings update for the one validator the API uses too.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use calgate_settings::{CalendarSettings, FieldId, FieldKind, FieldSpec, Provider, fields};

use super::text::choice_label;

/// One choice of a select.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One input of the form.
#[derive(Debug, Clone)]
pub struct FieldRow {
    /// The form name (the JSON name, or `status_rules.member`).
    pub name: String,
    pub label: String,
    pub help: String,
    /// `select`, `checkbox`, `text`, `number`, `secret`, `textarea` or `secret_textarea`.
    pub widget: &'static str,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    pub error: Option<String>,
    /// Space-separated providers the row applies to (the script shows and hides by this).
    pub providers: String,
    /// The grant the row needs for some providers (empty: none), and the space-separated
    /// providers that need no grant for it.
    pub grant: String,
    pub grant_not_needed: String,
    pub shown: bool,
    /// For write-only fields: a value is stored.
    pub is_set: bool,
    pub placeholder: String,
}

/// A titled part of the form.
#[derive(Debug, Clone)]
pub struct Group {
    pub title: &'static str,
    pub advanced: bool,
    pub rows: Vec<FieldRow>,
    /// The Office 365 device-code sign-in goes at the end of the authentication group.
    pub device_code_slot: bool,
}

/// The groups of the form, in order, by field.
const GROUPS: &[(&str, bool, &[FieldId])] = &[
    ("Calendar source", false, &[FieldId::Provider]),
    (
        "Authentication",
        false,
        &[
            FieldId::GrantBasicAuth,
            FieldId::GrantModernAuth,
            FieldId::GrantWindowsAuth,
            FieldId::TenantId,
            FieldId::ClientId,
            FieldId::Username,
            FieldId::Password,
            FieldId::ClientSecret,
            FieldId::ClientCertificatePem,
        ],
    ),
    (
        "Exchange server",
        false,
        &[FieldId::ExchangeVersion, FieldId::EwsUrl],
    ),
    (
        "Refresh and privacy",
        false,
        &[
            FieldId::RefreshIntervalS,
            FieldId::Privacy,
            FieldId::StatusRules,
        ],
    ),
    (
        "Advanced connection settings",
        true,
        &[
            FieldId::AllowInsecureHttp,
            FieldId::AuthorityHost,
            FieldId::GraphEndpoint,
            FieldId::ExtraCaPem,
        ],
    ),
];

/// Exchange Online always speaks the newest request format, so the Version list is shown for
/// on-premises Exchange only (the seed's Office 365 section has no Version) and office365 saves
/// `exchange2013_sp1`.
const OFFICE365_VERSION: &str = "exchange2013_sp1";

/// The provider whose form offers the device-code sign-in (on the source `default`).
const DEVICE_CODE_PROVIDER: Provider = Provider::Office365;

/// What decides which rows of the form show: the provider, the grants ticked (a form's or
/// saved values, checkboxes present when ticked), and whether the page offers the device-code
/// sign-in, which uses the Entra ID app's IDs whatever the grants.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub provider: Provider,
    pub values: &'a HashMap<String, String>,
    pub device_code: bool,
}

impl Shown<'_> {
    /// Whether the portal shows `spec`.
    pub fn shows(&self, spec: &FieldSpec) -> bool {
        offered_for(spec, self.provider)
            && (grant_not_needed(spec, self.device_code).contains(&self.provider)
                || spec.applies_with(self.provider, |grant| {
                    fields()
                        .iter()
                        .find(|f| f.id == grant)
                        .is_some_and(|f| self.values.contains_key(f.name))
                }))
    }
}

/// Whether the portal may show `spec` for `provider` (with the right grants).
fn offered_for(spec: &FieldSpec, provider: Provider) -> bool {
    spec.applies_to(provider)
        && !(spec.id == FieldId::ExchangeVersion && provider == Provider::Office365)
}

/// The providers that show `spec` whatever the grants, when it needs a grant for others.
fn grant_not_needed(spec: &FieldSpec, device_code: bool) -> Vec<Provider> {
    let Some(needs) = spec.needs_grant else {
        return Vec::new();
    };
    let mut providers = needs.not_needed_for.to_vec();
    if device_code && needs.grant == FieldId::GrantModernAuth {
        providers.push(DEVICE_CODE_PROVIDER);
    }
    providers
}

fn providers_attr(providers: impl IntoIterator<Item = Provider>) -> String {
    providers
        .into_iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The form's values as strings (checkboxes as "on"), from saved settings.
pub(super) fn values_from_settings(
    settings: &CalendarSettings,
) -> (HashMap<String, String>, HashMap<String, bool>) {
    let view = settings.view();
    let json = serde_json::to_value(&view).unwrap_or(Value::Null);
    let mut values = HashMap::new();
    let mut set = HashMap::new();
    if let Value::Object(map) = json {
        for (k, v) in map {
            if let Some(secret) = k.strip_suffix("_set") {
                set.insert(secret.to_string(), v.as_bool().unwrap_or(false));
                continue;
            }
            match v {
                Value::Object(rules) if k == "status_rules" => {
                    for (member, mv) in rules {
                        let s = match mv {
                            Value::Bool(true) => "on".to_string(),
                            Value::Bool(false) => continue,
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        values.insert(format!("status_rules.{member}"), s);
                    }
                }
                Value::Bool(true) => {
                    values.insert(k, "on".to_string());
                }
                Value::Bool(false) | Value::Null => {}
                Value::String(s) => {
                    values.insert(k, s);
                }
                other => {
                    values.insert(k, other.to_string());
                }
            }
        }
    }
    (values, set)
}

fn rows_for(
    spec: &FieldSpec,
    shown: Shown<'_>,
    set: &HashMap<String, bool>,
    errors: &BTreeMap<String, String>,
) -> Vec<FieldRow> {
    let values = shown.values;
    let grant = spec
        .needs_grant
        .and_then(|n| fields().iter().find(|f| f.id == n.grant))
        .map(|f| f.name.to_string())
        .unwrap_or_default();
    let value = |name: &str| values.get(name).cloned().unwrap_or_default();
    let base = FieldRow {
        name: spec.name.to_string(),
        label: spec.label.to_string(),
        help: spec.help.to_string(),
        widget: "text",
        value: value(spec.name),
        checked: values.contains_key(spec.name),
        options: Vec::new(),
        error: errors.get(spec.name).cloned(),
        providers: providers_attr(
            Provider::ALL
                .iter()
                .copied()
                .filter(|p| offered_for(spec, *p)),
        ),
        grant,
        grant_not_needed: providers_attr(grant_not_needed(spec, shown.device_code)),
        // A field with an error is never hidden.
        shown: shown.shows(spec) || errors.contains_key(spec.name),
        is_set: set.get(spec.name).copied().unwrap_or(false),
        placeholder: String::new(),
    };
    let select = |name: &str, choices: &[&str], current: &str| -> Vec<Opt> {
        choices
            .iter()
            .map(|c| Opt {
                value: (*c).to_string(),
                label: choice_label(name, c),
                selected: *c == current,
            })
            .collect()
    };
    match spec.kind {
        FieldKind::Choice { choices } => {
            let current = base.value.clone();
            vec![FieldRow {
                widget: "select",
                options: select(spec.name, choices, &current),
                ..base
            }]
        }
        FieldKind::Bool => vec![FieldRow {
            widget: "checkbox",
            ..base
        }],
        FieldKind::Seconds { min, max, .. } => vec![FieldRow {
            widget: "number",
            placeholder: format!("{min}–{max}"),
            ..base
        }],
        FieldKind::Secret => vec![FieldRow {
            widget: "secret",
            value: String::new(),
            ..base
        }],
        FieldKind::SecretPem => vec![FieldRow {
            widget: "secret_textarea",
            value: String::new(),
            ..base
        }],
        FieldKind::Pem => vec![FieldRow {
            widget: "textarea",
            placeholder: "-----BEGIN CERTIFICATE-----".to_string(),
            ..base
        }],
        FieldKind::Guid => vec![FieldRow {
            placeholder: "00000000-0000-0000-0000-000000000000".to_string(),
            ..base
        }],
        FieldKind::GuidOrDomain => vec![FieldRow {
            placeholder: "GUID or contoso.onmicrosoft.com".to_string(),
            ..base
        }],
        FieldKind::Url => vec![FieldRow {
            placeholder: "https://".to_string(),
            ..base
        }],
        FieldKind::Text => vec![base],
        FieldKind::StatusRules => {
            let tentative = value("status_rules.tentative");
            let elsewhere = value("status_rules.working_elsewhere");
            vec![
                FieldRow {
                    name: "status_rules.tentative".to_string(),
                    label: "Tentative events show as".to_string(),
                    widget: "select",
                    options: select("", &["tentative", "busy", "free"], &tentative),
                    help: spec.help.to_string(),
                    ..base.clone()
                },
                FieldRow {
                    name: "status_rules.working_elsewhere".to_string(),
                    label: "Working elsewhere shows as".to_string(),
                    widget: "select",
                    options: select("", &["working_elsewhere", "free", "busy"], &elsewhere),
                    help: String::new(),
                    error: None,
                    ..base.clone()
                },
                FieldRow {
                    name: "status_rules.ignore_all_day_free".to_string(),
                    label: "Ignore all-day events marked free".to_string(),
                    widget: "checkbox",
                    checked: values.contains_key("status_rules.ignore_all_day_free"),
                    help: String::new(),
                    error: None,
                    ..base
                },
            ]
        }
    }
}

pub(super) fn groups(
    shown: Shown<'_>,
    set: &HashMap<String, bool>,
    errors: &BTreeMap<String, String>,
) -> Vec<Group> {
    GROUPS
        .iter()
        .map(|(title, advanced, ids)| Group {
            title,
            advanced: *advanced,
            rows: fields()
                .iter()
                .filter(|f| ids.contains(&f.id))
                .flat_map(|f| rows_for(f, shown, set, errors))
                .collect(),
            device_code_slot: *title == "Authentication",
        })
        .collect()
}

/// The submitted form as a settings update, for the fields shown for its provider and grants
/// (`device_code`: the page offers the device-code sign-in). Other fields are left as they are
/// (their inputs may still be in the page, hidden).
pub(super) fn update_from_form(
    form: &HashMap<String, String>,
    provider: Provider,
    device_code: bool,
) -> (Value, BTreeMap<String, String>) {
    let shown = Shown {
        provider,
        values: form,
        device_code,
    };
    let mut update = Map::new();
    let mut errors = BTreeMap::new();
    let text = |name: &str| form.get(name).cloned().unwrap_or_default();
    for spec in fields() {
        if spec.id == FieldId::ExchangeVersion && provider == Provider::Office365 {
            update.insert(spec.name.into(), json!(OFFICE365_VERSION));
            continue;
        }
        if !shown.shows(spec) {
            continue;
        }
        let value = match spec.kind {
            FieldKind::Bool => json!(form.contains_key(spec.name)),
            FieldKind::Secret | FieldKind::SecretPem => {
                if form.contains_key(&format!("clear_{}", spec.name)) {
                    Value::Null
                } else {
                    match form.get(spec.name) {
                        Some(v) if !v.is_empty() => json!(v),
                        _ => continue,
                    }
                }
            }
            FieldKind::Seconds { .. } => match text(spec.name).trim().parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    errors.insert(
                        spec.name.to_string(),
                        "expected a whole number of seconds".to_string(),
                    );
                    continue;
                }
            },
            FieldKind::StatusRules => json!({
                "tentative": text("status_rules.tentative"),
                "working_elsewhere": text("status_rules.working_elsewhere"),
                "ignore_all_day_free": form.contains_key("status_rules.ignore_all_day_free"),
            }),
            // Browsers send a textarea's line breaks as CRLF; the stored PEM keeps plain LF.
            _ => json!(text(spec.name).replace("\r\n", "\n")),
        };
        update.insert(spec.name.into(), value);
    }
    (Value::Object(update), errors)
}

/// The values to show again after a refused save: what was typed, never a secret.
pub(super) fn echo(form: &HashMap<String, String>) -> HashMap<String, String> {
    form.iter()
        .filter(|(k, _)| {
            calgate_settings::field(k).is_none_or(|f| !f.secret) && k.as_str() != super::CSRF_FIELD
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entra_app_ids_show_only_where_a_sign_in_uses_them() {
        let tenant = calgate_settings::field("tenant_id").expect("tenant_id");
        let basic = HashMap::from([("grant_basic_auth".to_string(), "on".to_string())]);
        let modern = HashMap::from([("grant_modern_auth".to_string(), "on".to_string())]);
        let shows = |provider, values, device_code| {
            Shown {
                provider,
                values,
                device_code,
            }
            .shows(tenant)
        };
        assert!(!shows(Provider::Exchange, &basic, true));
        assert!(shows(Provider::Exchange, &modern, false));
        assert!(!shows(Provider::Office365, &basic, false));
        assert!(shows(Provider::Office365, &modern, false));
        assert!(
            shows(Provider::Office365, &basic, true),
            "the device-code sign-in uses them"
        );
        assert!(shows(Provider::Microsoft365, &basic, false));
        let (update, _) = update_from_form(&basic, Provider::Exchange, true);
        assert!(update.get("tenant_id").is_none(), "a hidden field is kept");
    }
}
