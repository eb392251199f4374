//! The settings form's inputs, built row by row from the settings crate's field table (labels,
//! help, the providers and grants each field applies to), and the submitted form read back as a
//! settings update for the one validator the API uses too.

use std::collections::{BTreeMap, HashMap};

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use calgate_settings::{CalendarSettings, FieldId, FieldKind, FieldSpec, Provider, fields};

use super::text::choice_label;
use crate::i18n::{self, Lang, t};

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
    /// The title in the reader's language.
    pub title: String,
    pub advanced: bool,
    pub rows: Vec<FieldRow>,
    /// The Office 365 device-code sign-in goes at the end of the authentication group.
    pub device_code_slot: bool,
}

/// The group that ends with the device-code sign-in.
const AUTH_GROUP: &str = "set-group-auth";

/// The groups of the form, in order, by field: the catalogue key of the title, whether the group
/// is folded away as advanced, and its fields.
const GROUPS: &[(&str, bool, &[FieldId])] = &[
    ("set-group-provider", false, &[FieldId::Provider]),
    (
        AUTH_GROUP,
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
        "set-group-exchange",
        false,
        &[FieldId::ExchangeVersion, FieldId::EwsUrl],
    ),
    (
        "set-group-refresh",
        false,
        &[
            FieldId::RefreshIntervalS,
            FieldId::Presence,
            FieldId::PresenceIntervalS,
            FieldId::ChangeNotifications,
            FieldId::NotificationUrl,
            FieldId::NotificationSweepS,
            FieldId::Privacy,
            FieldId::StatusRules,
        ],
    ),
    (
        "set-group-advanced",
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

/// The catalogue key of a field's label or help (`set-tenant-id-label`); `part` is `label` or
/// `help`.
pub(super) fn field_key(name: &str, part: &str) -> String {
    format!("set-{}-{part}", name.replace('_', "-"))
}

/// A field's label in the reader's language (the settings crate's English label when the
/// catalogue lacks it).
pub(super) fn field_label(spec: &FieldSpec) -> String {
    let key = field_key(spec.name, "label");
    let text = t(&key);
    if text == key {
        spec.label.to_string()
    } else {
        text
    }
}

/// A field's help in the reader's language (as [`field_label`]).
fn field_help(spec: &FieldSpec) -> String {
    let key = field_key(spec.name, "help");
    let text = t(&key);
    if text == key {
        spec.help.to_string()
    } else {
        text
    }
}

/// The catalogue keys of the field errors the validator words in plain English only, by their
/// English text (`set-err-*` in the English catalogue; a test feeds the validator the usual
/// mistakes and checks each message is found here).
fn error_keys() -> &'static HashMap<String, String> {
    static KEYS: OnceLock<HashMap<String, String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (ids, _) = i18n::message_ids(Lang::En);
        ids.into_iter()
            .filter(|id| id.starts_with("set-err-"))
            .map(|id| (i18n::text_in(Lang::En, &id, &[]), id))
            .collect()
    })
}

/// A field error in the reader's language: the validator's message, translated when the
/// catalogue knows its English text, else as it is.
pub(super) fn error_words(message: &str) -> String {
    match error_keys().get(message) {
        Some(key) => t(key),
        None => message.to_string(),
    }
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
        label: field_label(spec),
        help: field_help(spec),
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
            placeholder: t("set-tenant-id-placeholder"),
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
                    label: t("set-rule-tentative"),
                    widget: "select",
                    options: select("", &["tentative", "busy", "free"], &tentative),
                    help: field_help(spec),
                    ..base.clone()
                },
                FieldRow {
                    name: "status_rules.working_elsewhere".to_string(),
                    label: t("set-rule-elsewhere"),
                    widget: "select",
                    options: select("", &["working_elsewhere", "free", "busy"], &elsewhere),
                    help: String::new(),
                    error: None,
                    ..base.clone()
                },
                FieldRow {
                    name: "status_rules.ignore_all_day_free".to_string(),
                    label: t("set-rule-all-day-free"),
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
        .map(|(key, advanced, ids)| Group {
            title: t(key),
            advanced: *advanced,
            rows: fields()
                .iter()
                .filter(|f| ids.contains(&f.id))
                .flat_map(|f| rows_for(f, shown, set, errors))
                .collect(),
            device_code_slot: *key == AUTH_GROUP,
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
                    errors.insert(spec.name.to_string(), t("set-err-whole-seconds"));
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

    /// One line, single spaces: a catalogue may wrap a long text.
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn every_field_has_a_label_and_help_and_english_says_what_the_field_table_says() {
        let (english, _) = i18n::message_ids(Lang::En);
        for spec in fields() {
            for (part, table) in [("label", spec.label), ("help", spec.help)] {
                let key = field_key(spec.name, part);
                assert!(english.contains(&key), "en settings.ftl lacks {key}");
                assert_eq!(
                    flat(&i18n::text_in(Lang::En, &key, &[])),
                    flat(table),
                    "{key} differs from the field table"
                );
                for lang in [Lang::It, Lang::De, Lang::Fr, Lang::Es] {
                    let text = i18n::text_in(lang, &key, &[]);
                    assert!(!text.trim().is_empty(), "{key} is empty in {}", lang.code());
                }
            }
        }
    }

    /// A PEM block around a minimal DER sequence.
    fn pem(label: &str) -> String {
        format!("-----BEGIN {label}-----\nMAMCAQE=\n-----END {label}-----\n")
    }

    /// The field errors the validator gives for the usual mistakes.
    fn usual_mistakes() -> Vec<String> {
        let valid_exchange = json!({
            "provider": "exchange",
            "grant_basic_auth": true,
            "username": "svc@contoso.com",
            "password": "Passw0rd-Passw0rd",
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
        });
        let current =
            calgate_settings::validate_json(&valid_exchange, &CalendarSettings::default())
                .map(|(settings, _)| settings)
                .unwrap_or_else(|e| panic!("{e}"));
        let key = pem("PRIVATE KEY");
        let cert = pem("CERTIFICATE");
        let updates = [
            json!({"refresh_interval_s": 5}),
            json!({"refresh_interval_s": "soon"}),
            json!({"presence_interval_s": 5}),
            json!({"notification_sweep_s": 5}),
            json!({"notification_url": "https://calgate.contoso.com/?a=b"}),
            json!({"provider": "microsoft365", "tenant_id": "contoso.onmicrosoft.com",
                   "client_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "client_secret": "s3cret",
                   "change_notifications": true}),
            json!({"tenant_id": "not a tenant!", "client_id": "nope"}),
            json!({"provider": "microsoft365"}),
            json!({"provider": "exchange", "grant_modern_auth": true}),
            json!({"provider": "exchange"}),
            json!({"provider": "exchange", "grant_windows_auth": true}),
            json!({"username": "x".repeat(300)}),
            json!({"username": "a\u{1}b"}),
            json!({"provider": "exchange", "grant_windows_auth": true, "username": "\\svc"}),
            json!({"provider": "exchange", "grant_windows_auth": true, "username": "CONTOSO\\"}),
            json!({"provider": "exchange", "grant_windows_auth": true, "username": "svc"}),
            json!({"provider": "office365", "grant_basic_auth": false, "grant_modern_auth": false}),
            json!({"provider": "microsoft365", "grant_basic_auth": true}),
            json!({"provider": "office365", "grant_windows_auth": true}),
            json!({"ews_url": "not a url"}),
            json!({"ews_url": "ftp://mail.contoso.com/EWS/Exchange.asmx"}),
            json!({"ews_url": "https://svc:pw@mail.contoso.com/EWS/Exchange.asmx"}),
            json!({"ews_url": "https://mail.contoso.com/EWS/Exchange.asmx#top"}),
            json!({"ews_url": "http://mail.contoso.com/EWS/Exchange.asmx"}),
            json!({"ews_url": "https://169.254.169.254/EWS/Exchange.asmx"}),
            json!({"ews_url": "file:///etc/passwd"}),
            json!({"client_certificate_pem": format!("{cert}{}", pem("ENCRYPTED PRIVATE KEY"))}),
            json!({"client_certificate_pem": key}),
            json!({"client_certificate_pem": cert}),
            json!({"extra_ca_pem": format!("{cert}{key}")}),
            json!({"extra_ca_pem": "no pem here"}),
            json!({"extra_ca_pem": "-----BEGIN CERTIFICATE-----\nMAMCAQE="}),
            json!({"extra_ca_pem": "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----"}),
            json!({"extra_ca_pem": "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----"}),
        ];
        let mut messages: Vec<String> = updates
            .iter()
            .filter_map(|u| calgate_settings::validate_json(u, &CalendarSettings::default()).err())
            .flat_map(|e| e.iter().map(|(_, m)| m.to_string()).collect::<Vec<_>>())
            .collect();
        // A saved secret that would go to another server must be entered again.
        let moved = json!({"ews_url": "https://other.contoso.com/EWS/Exchange.asmx"});
        if let Err(e) = calgate_settings::validate_json(&moved, &current) {
            messages.extend(e.iter().map(|(_, m)| m.to_string()));
        }
        let graph = json!({
            "provider": "microsoft365",
            "tenant_id": "contoso.onmicrosoft.com",
            "client_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
            "client_secret": "s3cret",
            "client_certificate_pem": format!("{cert}{key}"),
        });
        let graph = calgate_settings::validate_json(&graph, &CalendarSettings::default())
            .map(|(settings, _)| settings)
            .unwrap_or_else(|e| panic!("{e}"));
        let moved = json!({"graph_endpoint": "https://graph.contoso.com"});
        if let Err(e) = calgate_settings::validate_json(&moved, &graph) {
            messages.extend(e.iter().map(|(_, m)| m.to_string()));
        }
        for name in ["x".repeat(65), "a\u{7}b".to_string()] {
            messages.extend(calgate_settings::check_display_name(&name).err());
        }
        let form = HashMap::from([("refresh_interval_s".to_string(), "soon".to_string())]);
        let (_, errors) = update_from_form(&form, Provider::Exchange, true);
        messages.extend(errors.into_values());
        messages.sort();
        messages.dedup();
        messages
    }

    #[test]
    fn the_field_errors_a_user_meets_are_in_the_catalogue_and_every_catalogued_one_occurs() {
        let messages = usual_mistakes();
        let unknown: Vec<&String> = messages
            .iter()
            .filter(|m| !error_keys().contains_key(*m))
            .collect();
        assert!(
            unknown.is_empty(),
            "field errors without a key: {unknown:#?}"
        );
        // Every catalogued message is still what the validator says (not a stale copy).
        let stale: Vec<(&String, &String)> = error_keys()
            .iter()
            .filter(|(english, _)| !messages.contains(english))
            .collect();
        assert!(stale.is_empty(), "set-err-* no validator gives: {stale:#?}");
        for (english, key) in error_keys() {
            for lang in [Lang::It, Lang::De, Lang::Fr, Lang::Es] {
                assert_ne!(
                    &i18n::text_in(lang, key, &[]),
                    english,
                    "{key} is not translated in {}",
                    lang.code()
                );
            }
        }
    }
}
