//! Every rule of SPEC §3 in one place: a settings update plus the current settings give either
//! new settings with warnings, or field errors. Nothing here touches the network; identifiers
//! and URLs are checked locally so an administrator sees a mistake before any sign-in is tried.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::domain;
use crate::fields::{self, FieldId};
use crate::model::{
    CalendarSettings, MAX_NOTIFICATION_SWEEP_S, MAX_PRESENCE_INTERVAL_S, MIN_NOTIFICATION_SWEEP_S,
    MIN_PRESENCE_INTERVAL_S, Provider, default_authority_host, default_graph_endpoint,
};
use crate::pem;
use crate::target::{self, Target};
use crate::update::{CalendarSettingsUpdate, Patch};

/// The API's error code for a refused settings update (HTTP 422).
pub const INVALID_SETTINGS_CODE: &str = "invalid_settings";
/// A field's code when a stored secret would go to a server other than the one it was
/// entered for: the secret must be entered again with the new address.
pub const SECRET_REENTRY_CODE: &str = "secret_reentry_required";
pub const MIN_REFRESH_INTERVAL_S: u32 = 10;
pub const MAX_REFRESH_INTERVAL_S: u32 = 86_400;
/// Below this a save warns of throttling and lockouts.
pub const RECOMMENDED_MIN_REFRESH_INTERVAL_S: u32 = 60;

/// The longest secret or username accepted; longer input is a paste accident.
const MAX_SECRET_LEN: usize = 16 * 1024;
const MAX_USERNAME_LEN: usize = 256;

/// A stable warning code: the same spelling in the API, the portal and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    BothAuthEnabled,
    WindowsAuthOrder,
    BasicAuthExchangeOnline,
    EwsOnlineRetirement,
    RefreshIntervalLow,
    InsecureHttp,
    EwsUrlUnusualPath,
    LocalTarget,
}

impl WarningCode {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::BothAuthEnabled => "both_auth_enabled",
            WarningCode::WindowsAuthOrder => "windows_auth_order",
            WarningCode::BasicAuthExchangeOnline => "basic_auth_exchange_online",
            WarningCode::EwsOnlineRetirement => "ews_online_retirement",
            WarningCode::RefreshIntervalLow => "refresh_interval_low",
            WarningCode::InsecureHttp => "insecure_http",
            WarningCode::EwsUrlUnusualPath => "ews_url_unusual_path",
            WarningCode::LocalTarget => "local_target",
        }
    }
}

/// A saved-but-noteworthy condition: `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

/// Field name → what is wrong with it. Messages never quote a submitted value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(transparent)]
#[error("{}", self.summary())]
pub struct FieldErrors {
    messages: BTreeMap<String, String>,
    /// Stable codes for the problems that have one.
    #[serde(skip)]
    codes: BTreeMap<String, &'static str>,
}

impl FieldErrors {
    /// Records a problem; the first message for a field wins.
    pub fn insert(&mut self, field: &str, message: impl Into<String>) {
        self.messages
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// Records a problem with a stable code (see [`FieldErrors::code`]).
    pub fn insert_coded(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        if !self.messages.contains_key(field) {
            self.codes.insert(field.to_string(), code);
        }
        self.insert(field, message);
    }

    /// The stable code of a field's problem, when it has one.
    pub fn code(&self, field: &str) -> Option<&'static str> {
        self.codes.get(field).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.messages.get(field).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.messages.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// One line for the API's `message` and for logs.
    pub fn summary(&self) -> String {
        self.summary_with("the settings were not saved")
    }

    /// One line saying `what` (e.g. "the routing") was not saved, and which fields are invalid.
    pub fn summary_of(&self, what: &str) -> String {
        self.summary_with(&format!("{what} was not saved"))
    }

    fn summary_with(&self, lead: &str) -> String {
        let names: Vec<&str> = self.messages.keys().map(String::as_str).collect();
        match names.len() {
            1 => format!("{lead}: {} is invalid", names.join("")),
            _ => format!("{lead}: {} are invalid", names.join(", ")),
        }
    }

    /// The body of the API's 422 answer: `{"code": "invalid_settings", "message", "fields",
    /// "field_codes"?}`.
    pub fn api_body(&self) -> Value {
        self.api_body_as(INVALID_SETTINGS_CODE, &self.summary())
    }

    /// The 422 body under another `code` and `message` (routing, sources), same shape.
    pub fn api_body_as(&self, code: &str, message: &str) -> Value {
        let mut body = serde_json::json!({
            "code": code,
            "message": message,
            "fields": self.messages,
        });
        if !self.codes.is_empty() {
            body["field_codes"] = serde_json::json!(self.codes);
        }
        body
    }
}

/// Reads a JSON update and validates it against `current` in one step.
pub fn validate_json(
    update: &Value,
    current: &CalendarSettings,
) -> Result<(CalendarSettings, Vec<Warning>), FieldErrors> {
    validate(&CalendarSettingsUpdate::from_json(update)?, current)
}

/// Applies `update` to `current` and checks every rule of SPEC §3 on the result. Absent fields
/// keep their current value; cleared secrets are dropped.
pub fn validate(
    update: &CalendarSettingsUpdate,
    current: &CalendarSettings,
) -> Result<(CalendarSettings, Vec<Warning>), FieldErrors> {
    let mut s = current.clone();
    let mut errors = FieldErrors::default();
    let mut warnings = Vec::new();

    // Plain values.
    if let Some(p) = update.provider {
        s.provider = p;
    }
    if let Some(b) = update.grant_basic_auth {
        s.grant_basic_auth = b;
    }
    if let Some(b) = update.grant_modern_auth {
        s.grant_modern_auth = b;
    }
    if let Some(b) = update.grant_windows_auth {
        s.grant_windows_auth = b;
    }
    if let Some(v) = update.exchange_version {
        s.exchange_version = v;
    }
    if let Some(p) = update.privacy {
        s.privacy = p;
    }
    if let Some(b) = update.allow_insecure_http {
        s.allow_insecure_http = b;
    }
    if let Some(rules) = update.status_rules {
        if let Some(t) = rules.tentative {
            s.status_rules.tentative = t;
        }
        if let Some(w) = rules.working_elsewhere {
            s.status_rules.working_elsewhere = w;
        }
        if let Some(i) = rules.ignore_all_day_free {
            s.status_rules.ignore_all_day_free = i;
        }
    }
    if let Some(b) = update.presence {
        s.presence = b;
    }
    apply_seconds(
        update.presence_interval_s,
        (MIN_PRESENCE_INTERVAL_S, MAX_PRESENCE_INTERVAL_S),
        "presence_interval_s",
        &mut s.presence_interval_s,
        &mut errors,
    );
    apply_seconds(
        update.refresh_interval_s,
        (MIN_REFRESH_INTERVAL_S, MAX_REFRESH_INTERVAL_S),
        "refresh_interval_s",
        &mut s.refresh_interval_s,
        &mut errors,
    );
    if let Some(b) = update.change_notifications {
        s.change_notifications = b;
    }
    apply_seconds(
        update.notification_sweep_s,
        (MIN_NOTIFICATION_SWEEP_S, MAX_NOTIFICATION_SWEEP_S),
        "notification_sweep_s",
        &mut s.notification_sweep_s,
        &mut errors,
    );

    // Identifiers, checked locally.
    match &update.tenant_id {
        Patch::Keep => {}
        Patch::Clear => s.tenant_id = None,
        Patch::Set(raw) => match domain::guid(raw).or_else(|| domain::domain_name(raw)) {
            Some(t) => s.tenant_id = Some(t),
            None => errors.insert(
                "tenant_id",
                "must be the tenant's GUID or one of its domain names (contoso.onmicrosoft.com)",
            ),
        },
    }
    match &update.client_id {
        Patch::Keep => {}
        Patch::Clear => s.client_id = None,
        Patch::Set(raw) => match domain::guid(raw) {
            Some(c) => s.client_id = Some(c),
            None => errors.insert(
                "client_id",
                "must be a GUID such as 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
            ),
        },
    }
    match &update.username {
        Patch::Keep => {}
        Patch::Clear => s.username = None,
        Patch::Set(raw) => {
            if raw.chars().count() > MAX_USERNAME_LEN {
                errors.insert(
                    "username",
                    format!("must be at most {MAX_USERNAME_LEN} characters"),
                );
            } else if raw.chars().any(char::is_control) {
                errors.insert("username", "must not contain control characters");
            } else {
                s.username = Some(raw.clone());
            }
        }
    }

    // Secrets: the values are never quoted back.
    apply_secret(&mut s.password, &update.password, "password", &mut errors);
    apply_secret(
        &mut s.client_secret,
        &update.client_secret,
        "client_secret",
        &mut errors,
    );
    apply_secret(
        &mut s.client_certificate_pem,
        &update.client_certificate_pem,
        "client_certificate_pem",
        &mut errors,
    );
    if let Patch::Set(pem_text) = &update.client_certificate_pem
        && let Err(message) = check_client_certificate(pem_text)
    {
        errors.insert("client_certificate_pem", message);
    }
    match &update.extra_ca_pem {
        Patch::Keep => {}
        Patch::Clear => s.extra_ca_pem = None,
        Patch::Set(text) => match check_ca_bundle(text) {
            Ok(()) => s.extra_ca_pem = Some(text.clone()),
            Err(message) => errors.insert("extra_ca_pem", message),
        },
    }

    // URLs: parsed here, then checked against allow_insecure_http as finally set.
    match &update.ews_url {
        Patch::Keep => {}
        Patch::Clear => s.ews_url = None,
        Patch::Set(raw) => match parse_url(raw) {
            Ok(u) => s.ews_url = Some(u),
            Err(message) => errors.insert("ews_url", message),
        },
    }
    match &update.authority_host {
        Patch::Keep => {}
        Patch::Clear => s.authority_host = default_authority_host(),
        Patch::Set(raw) => match parse_url(raw) {
            Ok(u) => s.authority_host = u,
            Err(message) => errors.insert("authority_host", message),
        },
    }
    match &update.graph_endpoint {
        Patch::Keep => {}
        Patch::Clear => s.graph_endpoint = default_graph_endpoint(),
        Patch::Set(raw) => match parse_url(raw) {
            Ok(u) => s.graph_endpoint = u,
            Err(message) => errors.insert("graph_endpoint", message),
        },
    }
    match &update.notification_url {
        Patch::Keep => {}
        Patch::Clear => s.notification_url = None,
        Patch::Set(raw) => match parse_url(raw).and_then(base_url) {
            Ok(u) => s.notification_url = Some(u),
            Err(message) => errors.insert("notification_url", message),
        },
    }
    if s.change_notifications
        && s.provider == Provider::Microsoft365
        && s.notification_url.is_none()
        && errors.get("notification_url").is_none()
    {
        errors.insert(
            "notification_url",
            "is required for change notifications (this gateway's public address, such as \
             https://calgate.contoso.com)",
        );
    }
    check_schemes(&s, &mut errors, &mut warnings);
    check_secret_binding(current, &mut s, update, &mut errors);
    if let Some(url) = &s.ews_url {
        let path = url.path();
        if s.provider.uses_ews() && !path.to_ascii_lowercase().ends_with("/ews/exchange.asmx") {
            warnings.push(Warning {
                code: WarningCode::EwsUrlUnusualPath,
                message: format!(
                    "The EWS URL's path {path} does not end in /EWS/Exchange.asmx. It is saved; \
                     check that it is the Exchange Web Services endpoint."
                ),
            });
        }
    }

    check_provider_rules(&s, &mut errors, &mut warnings);

    if s.refresh_interval_s < RECOMMENDED_MIN_REFRESH_INTERVAL_S
        && errors.get("refresh_interval_s").is_none()
    {
        warnings.push(Warning {
            code: WarningCode::RefreshIntervalLow,
            message: format!(
                "A refresh interval of {} s is below {RECOMMENDED_MIN_REFRESH_INTERVAL_S} s: \
                 Exchange may throttle calgate, and with a wrong password the service account can \
                 be locked out within seconds.",
                s.refresh_interval_s
            ),
        });
    }

    if errors.is_empty() {
        Ok((s, warnings))
    } else {
        Err(errors)
    }
}

/// Sets `slot` from whole seconds within `min..=max`, or records the field's range error.
fn apply_seconds(
    value: Option<i64>,
    (min, max): (u32, u32),
    name: &str,
    slot: &mut u32,
    errors: &mut FieldErrors,
) {
    let Some(n) = value else { return };
    match u32::try_from(n) {
        Ok(n) if (min..=max).contains(&n) => *slot = n,
        _ => errors.insert(name, format!("must be between {min} and {max} seconds")),
    }
}

/// A base URL for notifications: no query, its path ends without a slash (the endpoint's path
/// is appended).
fn base_url(mut url: Url) -> Result<Url, String> {
    if url.query().is_some() {
        return Err("must not contain a ?query".to_string());
    }
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

fn apply_secret(
    slot: &mut Option<SecretString>,
    patch: &Patch<SecretString>,
    name: &str,
    errors: &mut FieldErrors,
) {
    match patch {
        Patch::Keep => {}
        Patch::Clear => *slot = None,
        Patch::Set(value) => {
            if value.expose_secret().len() > MAX_SECRET_LEN {
                errors.insert(name, format!("must be at most {MAX_SECRET_LEN} bytes"));
            } else {
                *slot = Some(value.clone());
            }
        }
    }
}

fn check_client_certificate(pem_text: &SecretString) -> Result<(), String> {
    let summary = pem::summarize(pem_text.expose_secret()).map_err(|p| p.message().to_string())?;
    if summary.encrypted_keys > 0 {
        return Err("the private key is encrypted; paste it without a passphrase".to_string());
    }
    if summary.certificates == 0 {
        return Err("no certificate found (-----BEGIN CERTIFICATE-----)".to_string());
    }
    if summary.private_keys == 0 {
        return Err("no private key found (-----BEGIN PRIVATE KEY-----)".to_string());
    }
    Ok(())
}

fn check_ca_bundle(text: &str) -> Result<(), String> {
    let summary = pem::summarize(text).map_err(|p| p.message().to_string())?;
    if summary.private_keys + summary.encrypted_keys > 0 {
        return Err("holds a private key; paste only the CA certificates".to_string());
    }
    if summary.certificates == 0 {
        return Err("no certificate found (-----BEGIN CERTIFICATE-----)".to_string());
    }
    Ok(())
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let url =
        Url::parse(raw).map_err(|_| "must be an absolute URL such as https://…".to_string())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must start with https://".to_string());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials belong in their own (encrypted) fields, never inside a URL.
        return Err("must not contain a user name or password".to_string());
    }
    if url.fragment().is_some() {
        return Err("must not contain a #fragment".to_string());
    }
    Ok(url)
}

/// `http://` only with `allow_insecure_http`, and then with a warning — for the URLs that the
/// chosen provider actually uses.
fn check_schemes(s: &CalendarSettings, errors: &mut FieldErrors, warnings: &mut Vec<Warning>) {
    let urls = [
        (FieldId::EwsUrl, s.ews_url.as_ref()),
        (FieldId::AuthorityHost, Some(&s.authority_host)),
        (FieldId::GraphEndpoint, Some(&s.graph_endpoint)),
        (
            FieldId::NotificationUrl,
            s.notification_url
                .as_ref()
                .filter(|_| s.change_notifications),
        ),
    ];
    let mut insecure = Vec::new();
    let mut local = Vec::new();
    for (id, url) in urls {
        let spec = fields::spec(id);
        let Some(url) = url else { continue };
        if !spec.applies_to(s.provider) || errors.get(spec.name).is_some() {
            continue;
        }
        if id == FieldId::AuthorityHost && !uses_entra(s) {
            continue;
        }
        match target::classify(url) {
            Target::Metadata => {
                errors.insert(
                    spec.name,
                    "must not point at a link-local address or a cloud metadata service",
                );
                continue;
            }
            Target::ThisMachine => local.push(spec.label),
            Target::Ordinary => {}
        }
        if url.scheme() != "http" {
            continue;
        }
        if s.allow_insecure_http {
            insecure.push(spec.label);
        } else {
            errors.insert(
                spec.name,
                "must use https:// (http:// needs allow_insecure_http)",
            );
        }
    }
    if !local.is_empty() {
        warnings.push(Warning {
            code: WarningCode::LocalTarget,
            message: format!(
                "{} point{} at this machine itself (loopback). Saved; make sure that is meant, \
                 such as a local proxy or a test lab.",
                local.join(", "),
                if local.len() == 1 { "s" } else { "" }
            ),
        });
    }
    if !insecure.is_empty() {
        warnings.push(Warning {
            code: WarningCode::InsecureHttp,
            message: format!(
                "{} use{} plain http://: the password, tokens and calendar data travel \
                 unencrypted. Use it only in a test lab.",
                insecure.join(", "),
                if insecure.len() == 1 { "s" } else { "" }
            ),
        });
    }
}

/// Which kind of stored secret, for [`check_secret_binding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretKind {
    /// The service account's password: Basic to EWS, or Entra's password grant.
    Password,
    /// The app's secret or certificate: to Entra; what they buy goes to Graph or EWS.
    App,
}

/// The origins `s` sends a secret of `kind` to (or what it buys).
fn destinations(s: &CalendarSettings, kind: SecretKind) -> Vec<url::Origin> {
    let ews = s.provider.uses_ews();
    let entra = uses_entra(s);
    let mut out = Vec::new();
    let mut add = |on: bool, url: Option<&Url>| {
        if let Some(url) = url.filter(|_| on) {
            out.push(url.origin());
        }
    };
    match kind {
        SecretKind::Password => {
            add(ews, s.ews_url.as_ref());
            add(ews && entra, Some(&s.authority_host));
        }
        SecretKind::App => {
            add(entra, Some(&s.authority_host));
            add(
                s.provider == Provider::Microsoft365,
                Some(&s.graph_endpoint),
            );
            add(ews && s.grant_modern_auth, s.ews_url.as_ref());
        }
    }
    out
}

/// Every origin the settings name.
fn all_origins(s: &CalendarSettings) -> Vec<url::Origin> {
    let mut out = vec![s.authority_host.origin(), s.graph_endpoint.origin()];
    out.extend(s.ews_url.as_ref().map(Url::origin));
    out
}

/// A stored secret goes only to the servers it was entered for, as a browser's saved password
/// does. A kept secret that the new settings would send to an origin the current settings did
/// not send it to must be entered again in the same update; a kept secret the new settings do
/// not use is dropped when the addresses move, so it cannot follow to a new server later unasked.
fn check_secret_binding(
    current: &CalendarSettings,
    new: &mut CalendarSettings,
    update: &CalendarSettingsUpdate,
    errors: &mut FieldErrors,
) {
    let moved = all_origins(current) != all_origins(new);
    let secrets = [
        (
            "password",
            "password",
            SecretKind::Password,
            current.password.is_some() && matches!(update.password, Patch::Keep),
        ),
        (
            "client_secret",
            "client secret",
            SecretKind::App,
            current.client_secret.is_some() && matches!(update.client_secret, Patch::Keep),
        ),
        (
            "client_certificate_pem",
            "client certificate",
            SecretKind::App,
            current.client_certificate_pem.is_some()
                && matches!(update.client_certificate_pem, Patch::Keep),
        ),
    ];
    for (field, what, kind, kept) in secrets {
        if !kept || !moved {
            continue;
        }
        let mut entered_for = destinations(current, kind);
        if entered_for.is_empty() {
            entered_for = all_origins(current);
        }
        let going_to = destinations(new, kind);
        if going_to.iter().any(|o| !entered_for.contains(o)) {
            errors.insert_coded(
                field,
                SECRET_REENTRY_CODE,
                format!(
                    "the server changed: enter the {what} again (a saved {what} is only sent to \
                     the server it was entered for)"
                ),
            );
        } else if going_to.is_empty() {
            let slot = match kind {
                SecretKind::Password => &mut new.password,
                SecretKind::App if field == "client_secret" => &mut new.client_secret,
                SecretKind::App => &mut new.client_certificate_pem,
            };
            *slot = None;
        }
    }
}

/// What is wrong with a Windows user name (`DOMAIN\\user` or a UPN), if anything.
fn windows_user_problem(user: &str) -> Option<&'static str> {
    if let Some((domain, account)) = user.split_once('\\') {
        if domain.trim().is_empty() {
            return Some("the domain before \\ is empty: write DOMAIN\\user or a UPN");
        }
        if account.trim().is_empty() || account.contains('\\') {
            return Some("the user after \\ is missing: write DOMAIN\\user or a UPN");
        }
        return None;
    }
    match user.split_once('@') {
        Some((account, domain)) if !account.is_empty() && !domain.is_empty() => None,
        _ => Some("Windows authentication needs DOMAIN\\user or a UPN (user@domain)"),
    }
}

fn uses_entra(s: &CalendarSettings) -> bool {
    s.provider == Provider::Microsoft365 || s.grant_modern_auth
}

fn check_provider_rules(
    s: &CalendarSettings,
    errors: &mut FieldErrors,
    warnings: &mut Vec<Warning>,
) {
    if s.provider == Provider::Office365 && !s.grant_basic_auth && !s.grant_modern_auth {
        let message = "office365 needs modern authentication (recommended) or Basic granted";
        errors.insert("grant_modern_auth", message);
        errors.insert("grant_basic_auth", message);
    }
    if s.provider == Provider::Microsoft365 && s.grant_basic_auth {
        errors.insert(
            "grant_basic_auth",
            "Microsoft Graph does not accept Basic authentication; turn it off for microsoft365",
        );
    }

    if uses_entra(s) {
        let why = if s.provider == Provider::Microsoft365 {
            "is required for microsoft365"
        } else {
            "is required for modern authentication"
        };
        if s.tenant_id.is_none() {
            errors.insert(
                "tenant_id",
                format!("{} {why}", fields::spec(FieldId::TenantId).label),
            );
        }
        if s.client_id.is_none() {
            errors.insert(
                "client_id",
                format!("{} {why}", fields::spec(FieldId::ClientId).label),
            );
        }
    }

    if s.grant_windows_auth && s.provider != Provider::Exchange {
        errors.insert(
            "grant_windows_auth",
            "Windows authentication is for on-premises Exchange (provider exchange); Exchange \
             Online and Microsoft Graph do not offer it",
        );
    }
    let auth = s.ews_auth();
    if let Some(auth) = auth.filter(|a| a.uses_password()) {
        let which = if auth.windows && !auth.basic {
            "Windows authentication"
        } else {
            "Basic authentication"
        };
        if s.username.is_none() {
            errors.insert(
                "username",
                format!("the service account's username is required for {which}"),
            );
        }
        if s.password.is_none() {
            errors.insert(
                "password",
                format!("the service account's password is required for {which}"),
            );
        }
    }
    if let (Some(_), Some(user)) = (auth.filter(|a| a.windows), &s.username)
        && let Some(problem) = windows_user_problem(user)
    {
        errors.insert("username", problem);
    }

    if s.provider == Provider::Exchange && s.ews_url.is_none() {
        errors.insert(
            "ews_url",
            "is required for exchange (such as https://mail.contoso.com/EWS/Exchange.asmx)",
        );
    }

    if s.provider == Provider::Microsoft365 && s.graph_sign_in().is_none() {
        errors.insert(
            "client_secret",
            "app-only access needs a client secret or a client certificate (or grant modern \
             authentication for a delegated sign-in)",
        );
    }

    if s.provider.uses_ews() && s.grant_basic_auth && s.grant_modern_auth {
        warnings.push(Warning {
            code: WarningCode::BothAuthEnabled,
            message: "Both Basic and modern authentication are granted. Modern authentication is \
                      used; Basic only when the server does not offer Bearer sign-in at all, \
                      never after a credential failure."
                .to_string(),
        });
    }
    if let Some(auth) = auth.filter(|a| a.windows && a.count() > 1) {
        let order: Vec<&str> = [
            (auth.modern, "modern"),
            (auth.windows, "Windows"),
            (auth.basic, "Basic"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        warnings.push(Warning {
            code: WarningCode::WindowsAuthOrder,
            message: format!(
                "Several sign-ins are granted. They are tried in the order {}, each only when the \
                 server does not offer the one before it, never after a credential failure.",
                order.join(", then ")
            ),
        });
    }
    if s.provider == Provider::Office365 && s.grant_basic_auth {
        warnings.push(Warning {
            code: WarningCode::BasicAuthExchangeOnline,
            message:
                "Exchange Online has refused Basic authentication since Microsoft switched it \
                      off in 2022; grant modern authentication instead."
                    .to_string(),
        });
    }
    if s.provider == Provider::Office365 {
        warnings.push(Warning {
            code: WarningCode::EwsOnlineRetirement,
            message: "Exchange Online blocks EWS by default from 1 October 2026 and switches it off \
                      on 1 April 2027. Switch to the microsoft365 provider (Microsoft Graph) before \
                      then."
                .to_string(),
        });
    }
}
