//! The control API under `/_sim/` (JSON): the ground truth tests compare with, and the knobs
//! they turn (SPEC §5.1). Addresses in paths are matched case-insensitively.
//!
//! - `GET /_sim/people`; `POST /_sim/people` (a person with a mailbox, listed in the
//!   directory); `PATCH /_sim/people/{smtp}` (name, phones, enabled, mail listed, extension
//!   attributes); `DELETE /_sim/people/{smtp}[?permanent=true]` (each a change `/users/delta`
//!   reports); `GET /_sim/groups`
//! - `GET/PUT /_sim/mailboxes/{smtp}/events` (PUT on an unknown address
//!   creates a scripted mailbox); `GET/PUT/DELETE /_sim/mailboxes/{smtp}/oof`;
//!   `PUT /_sim/mailboxes/{smtp}/access`
//! - `PUT /_sim/accounts/{upn}/password`, `GET /_sim/accounts/{upn}`
//! - `GET/PUT /_sim/policy` (PUT takes any subset of the fields)
//! - `GET/DELETE /_sim/stats`, `GET /_sim/responses` (bodies kept when `record_responses` > 0)
//! - Graph subscriptions (`subscriptions.rs`): `GET /_sim/graph/subscriptions`,
//!   `POST /_sim/graph/subscriptions/{id}/lifecycle`; a `PUT …/events` notifies the mailbox's
//!   subscribers

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use calgate_core::{BusyType, CalendarEvent, OutOfOffice};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::state::{RecordedResponse, SimState};
use crate::stats::StatsSnapshot;
use crate::subscriptions::EventChange;
use crate::tenant::{FreeBusyAccess, Group, Mailbox, Member, Tenant};

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/_sim/people", get(people).post(post_person))
        .route(
            "/_sim/people/{smtp}",
            axum::routing::patch(patch_person).delete(delete_person),
        )
        .route("/_sim/groups", get(groups))
        .route(
            "/_sim/mailboxes/{smtp}/events",
            get(get_events).put(put_events),
        )
        .route(
            "/_sim/mailboxes/{smtp}/oof",
            get(get_oof).put(put_oof).delete(delete_oof),
        )
        .route("/_sim/mailboxes/{smtp}/access", put(put_access))
        .route(
            "/_sim/mailboxes/{smtp}/presence",
            get(get_presence).put(put_presence),
        )
        .route("/_sim/accounts/{upn}/password", put(put_password))
        .route("/_sim/accounts/{upn}", get(get_account))
        .route("/_sim/policy", get(get_policy).put(put_policy))
        .route("/_sim/stats", get(stats).delete(reset_stats))
        .route("/_sim/responses", get(responses))
}

/// A control-API error: `{"code": …, "message": …}`.
#[derive(Debug, Serialize)]
struct ApiError {
    code: &'static str,
    message: String,
}

pub(crate) fn error(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
) -> Response {
    (
        status,
        Json(ApiError {
            code,
            message: message.into(),
        }),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such {what}"),
    )
}

/// One entry of `GET /_sim/people`.
#[derive(Debug, Serialize)]
struct PersonView<'a> {
    id: &'a str,
    email: &'a str,
    name: &'a str,
    time_zone: &'a str,
    iana_time_zone: &'a str,
    is_room: bool,
    free_busy_access: FreeBusyAccess,
    account_enabled: bool,
    /// Whether Graph lists the address as `mail`.
    mail_listed: bool,
    /// The first business phone.
    extension: Option<&'a str>,
}

impl<'a> PersonView<'a> {
    fn of(p: &'a crate::tenant::Person) -> PersonView<'a> {
        PersonView {
            id: &p.id,
            email: &p.email,
            name: &p.name,
            time_zone: &p.time_zone,
            iana_time_zone: &p.iana_time_zone,
            is_room: p.is_room,
            free_busy_access: p.free_busy_access,
            account_enabled: p.directory.account_enabled,
            mail_listed: p.directory.mail_listed,
            extension: p.directory.business_phones.first().map(String::as_str),
        }
    }
}

async fn people(State(state): State<Arc<SimState>>) -> Response {
    let tenant = state.tenant();
    let list: Vec<PersonView> = tenant.people.iter().map(PersonView::of).collect();
    Json(list).into_response()
}

fn yes() -> bool {
    true
}

/// `POST /_sim/people`: a person with an empty mailbox, listed in the directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPersonJson {
    email: String,
    #[serde(default)]
    name: Option<String>,
    /// The first business phone.
    #[serde(default)]
    extension: Option<String>,
    #[serde(default)]
    mobile_phone: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    /// Whether Graph lists the address as `mail`.
    #[serde(default = "yes")]
    mail: bool,
    /// `extensionAttributeN` by N (1–15).
    #[serde(default)]
    extension_attributes: BTreeMap<u8, String>,
    #[serde(default)]
    department: Option<String>,
    /// Groups the person is a direct member of.
    #[serde(default)]
    groups: Vec<String>,
}

/// `PATCH /_sim/people/{smtp}`: any subset; an empty string clears a phone or attribute.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonPatchJson {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    extension: Option<String>,
    #[serde(default)]
    mobile_phone: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    mail: Option<bool>,
    #[serde(default)]
    extension_attributes: BTreeMap<u8, String>,
    #[serde(default)]
    department: Option<String>,
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn bad_extension_attribute(attrs: &BTreeMap<u8, String>) -> Option<Response> {
    attrs.keys().find(|n| !(1..=15).contains(*n)).map(|n| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_person",
            format!("extensionAttribute{n} does not exist (1–15)"),
        )
    })
}

async fn post_person(
    State(state): State<Arc<SimState>>,
    body: Result<Json<NewPersonJson>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(new) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_person",
                e.body_text(),
            );
        }
    };
    let email = new.email.trim().to_ascii_lowercase();
    if email
        .split_once('@')
        .is_none_or(|(l, d)| l.is_empty() || d.is_empty())
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
            "not an SMTP address",
        );
    }
    if let Some(refusal) = bad_extension_attribute(&new.extension_attributes) {
        return refusal;
    }
    let mut tenant = state.tenant_mut();
    if tenant.find(&email).is_some() {
        return error(
            StatusCode::CONFLICT,
            "exists",
            "a person with this address exists",
        );
    }
    if let Some(g) = new.groups.iter().find(|g| tenant.group(g).is_none()) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_person",
            format!("no group {g}"),
        );
    }
    let mut person = Tenant::scripted_person(&email);
    if let Some(name) = new.name.as_deref().and_then(non_empty) {
        person.name = name;
    }
    let d = &mut person.directory;
    d.account_enabled = new.enabled;
    d.mail_listed = new.mail;
    d.business_phones = new
        .extension
        .as_deref()
        .and_then(non_empty)
        .into_iter()
        .collect();
    d.mobile_phone = new.mobile_phone.as_deref().and_then(non_empty);
    d.department = new.department.as_deref().and_then(non_empty);
    for (n, v) in &new.extension_attributes {
        let slot = usize::from(*n)
            .checked_sub(1)
            .and_then(|i| d.extension_attributes.get_mut(i));
        if let Some(slot) = slot {
            *slot = non_empty(v);
        }
    }
    state
        .accounts
        .set_password(&person.email, &state.people_password);
    tenant.push(person, Mailbox::default());
    let id = tenant
        .person(&email)
        .map(|p| p.id.clone())
        .unwrap_or_default();
    for g in &mut tenant.groups {
        if new
            .groups
            .iter()
            .any(|want| want.eq_ignore_ascii_case(&g.id))
        {
            g.members.push(Member::User { id: id.clone() });
        }
    }
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"id": id, "email": email})),
    )
        .into_response()
}

async fn patch_person(
    State(state): State<Arc<SimState>>,
    Path(smtp): Path<String>,
    body: Result<Json<PersonPatchJson>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(patch) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_person",
                e.body_text(),
            );
        }
    };
    if let Some(refusal) = bad_extension_attribute(&patch.extension_attributes) {
        return refusal;
    }
    let mut tenant = state.tenant_mut();
    let Some(p) = tenant.person_mut(&smtp) else {
        return not_found("person");
    };
    if let Some(name) = patch.name.as_deref().and_then(non_empty) {
        p.name = name;
    }
    let d = &mut p.directory;
    if let Some(ext) = &patch.extension {
        d.business_phones = non_empty(ext).into_iter().collect();
    }
    if let Some(m) = &patch.mobile_phone {
        d.mobile_phone = non_empty(m);
    }
    if let Some(e) = patch.enabled {
        d.account_enabled = e;
    }
    if let Some(m) = patch.mail {
        d.mail_listed = m;
    }
    if let Some(dep) = &patch.department {
        d.department = non_empty(dep);
    }
    for (n, v) in &patch.extension_attributes {
        let slot = usize::from(*n)
            .checked_sub(1)
            .and_then(|i| d.extension_attributes.get_mut(i));
        if let Some(slot) = slot {
            *slot = non_empty(v);
        }
    }
    tenant.touch(&smtp);
    match tenant.person(&smtp) {
        Some(p) => Json(PersonView::of(p)).into_response(),
        None => not_found("person"),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DeleteQuery {
    #[serde(default)]
    permanent: bool,
}

async fn delete_person(
    State(state): State<Arc<SimState>>,
    Path(smtp): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    match state.tenant_mut().remove(&smtp, q.permanent) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found("person"),
    }
}

async fn groups(State(state): State<Arc<SimState>>) -> Json<Vec<Group>> {
    Json(state.tenant().groups.clone())
}

/// An event as the control API shows and takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventJson {
    pub start: Timestamp,
    pub end: Timestamp,
    pub busy_type: BusyType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub all_day: bool,
    #[serde(default)]
    pub recurring: bool,
    #[serde(default)]
    pub meeting: bool,
}

impl From<&CalendarEvent> for EventJson {
    fn from(e: &CalendarEvent) -> EventJson {
        EventJson {
            start: e.start,
            end: e.end,
            busy_type: e.busy_type,
            subject: e.subject.as_deref().map(str::to_owned),
            location: e.location.as_deref().map(str::to_owned),
            private: e.is_private,
            all_day: e.is_all_day,
            recurring: e.is_recurring,
            meeting: e.is_meeting,
        }
    }
}

impl From<EventJson> for CalendarEvent {
    fn from(e: EventJson) -> CalendarEvent {
        CalendarEvent {
            start: e.start,
            end: e.end,
            busy_type: e.busy_type,
            subject: e.subject.map(Into::into),
            location: e.location.map(Into::into),
            is_private: e.private,
            is_all_day: e.all_day,
            is_recurring: e.recurring,
            is_meeting: e.meeting,
        }
    }
}

async fn get_events(State(state): State<Arc<SimState>>, Path(smtp): Path<String>) -> Response {
    let tenant = state.tenant();
    match tenant.mailbox(&smtp) {
        Some(m) => Json(m.events.iter().map(EventJson::from).collect::<Vec<_>>()).into_response(),
        None => not_found("mailbox"),
    }
}

async fn put_events(
    State(state): State<Arc<SimState>>,
    Path(smtp): Path<String>,
    body: Result<Json<Vec<EventJson>>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(list) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_events",
                e.body_text(),
            );
        }
    };
    if let Some(bad) = list.iter().position(|e| e.end <= e.start) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_events",
            format!("event {bad} ends before it starts"),
        );
    }
    if !smtp.contains('@') {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
            "not an SMTP address",
        );
    }
    let mut events: Vec<CalendarEvent> = list.into_iter().map(CalendarEvent::from).collect();
    events.sort_by_key(|e| (e.start, e.end));
    let mut tenant = state.tenant_mut();
    match tenant.mailbox_mut(&smtp) {
        Some(m) => {
            let (change, index) = EventChange::between(&m.events, &events);
            m.events = events;
            drop(tenant);
            // Graph tells the mailbox's subscribers; a new scripted mailbox has none.
            crate::subscriptions::events_changed(&state, &smtp, change, index);
        }
        None => {
            let person = Tenant::scripted_person(&smtp.to_ascii_lowercase());
            state
                .accounts
                .set_password(&person.email, &state.people_password);
            tenant.push(
                person,
                Mailbox {
                    events,
                    oof: None,
                    presence: None,
                },
            );
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Out-of-office as the control API takes it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct OofJson {
    message: String,
    #[serde(default)]
    start: Option<Timestamp>,
    #[serde(default)]
    end: Option<Timestamp>,
}

async fn get_oof(State(state): State<Arc<SimState>>, Path(smtp): Path<String>) -> Response {
    let tenant = state.tenant();
    match tenant.mailbox(&smtp) {
        Some(m) => Json(m.oof.clone()).into_response(),
        None => not_found("mailbox"),
    }
}

async fn put_oof(
    State(state): State<Arc<SimState>>,
    Path(smtp): Path<String>,
    body: Result<Json<OofJson>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(oof) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_oof",
                e.body_text(),
            );
        }
    };
    let mut tenant = state.tenant_mut();
    match tenant.mailbox_mut(&smtp) {
        Some(m) => {
            m.oof = Some(OutOfOffice {
                message: Some(oof.message),
                start: oof.start,
                end: oof.end,
            });
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("mailbox"),
    }
}

async fn delete_oof(State(state): State<Arc<SimState>>, Path(smtp): Path<String>) -> Response {
    let mut tenant = state.tenant_mut();
    match tenant.mailbox_mut(&smtp) {
        Some(m) => {
            m.oof = None;
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("mailbox"),
    }
}

/// A person's Teams presence, as Graph spells the values (any string is kept, as Graph may
/// add values).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceJson {
    availability: String,
    activity: String,
}

async fn get_presence(State(state): State<Arc<SimState>>, Path(smtp): Path<String>) -> Response {
    let tenant = state.tenant();
    match tenant.mailbox(&smtp) {
        Some(m) => {
            let (availability, activity) = m.presence();
            Json(PresenceJson {
                availability: availability.to_owned(),
                activity: activity.to_owned(),
            })
            .into_response()
        }
        None => not_found("mailbox"),
    }
}

async fn put_presence(
    State(state): State<Arc<SimState>>,
    Path(smtp): Path<String>,
    body: Result<Json<PresenceJson>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(p) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_presence",
                e.body_text(),
            );
        }
    };
    if p.availability.trim().is_empty() || p.activity.trim().is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_presence",
            "availability and activity must not be empty",
        );
    }
    let mut tenant = state.tenant_mut();
    match tenant.mailbox_mut(&smtp) {
        Some(m) => {
            m.presence = Some((p.availability, p.activity));
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("mailbox"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessJson {
    free_busy_access: FreeBusyAccess,
}

async fn put_access(
    State(state): State<Arc<SimState>>,
    Path(smtp): Path<String>,
    body: Result<Json<AccessJson>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(access) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_access",
                e.body_text(),
            );
        }
    };
    let mut tenant = state.tenant_mut();
    match tenant.person_mut(&smtp) {
        Some(p) => {
            p.free_busy_access = access.free_busy_access;
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("mailbox"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordJson {
    password: String,
}

// Hand-written: the password never reaches a log line.
impl std::fmt::Debug for PasswordJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordJson { password: <redacted> }")
    }
}

async fn put_password(
    State(state): State<Arc<SimState>>,
    Path(upn): Path<String>,
    body: Result<Json<PasswordJson>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(p) = match body {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_password",
                "expected {\"password\": \"…\"}",
            );
        }
    };
    state.accounts.set_password(&upn, &p.password);
    // Entra revokes a user's refresh tokens when the password changes.
    crate::entra::revoke_refresh_tokens(&state, &upn);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_account(State(state): State<Arc<SimState>>, Path(upn): Path<String>) -> Response {
    match state.accounts.view(&upn, Timestamp::now()) {
        Some(v) => Json(v).into_response(),
        None => not_found("account"),
    }
}

async fn get_policy(State(state): State<Arc<SimState>>) -> Json<Policy> {
    Json(state.policy())
}

async fn put_policy(
    State(state): State<Arc<SimState>>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(patch) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_policy",
                e.body_text(),
            );
        }
    };
    let merged = match state.policy().merged(&patch) {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_policy",
                e.to_string(),
            );
        }
    };
    if let Err(e) = state.set_policy(merged.clone()) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_policy",
            e.to_string(),
        );
    }
    // A new throttling policy starts every credential's budget afresh.
    state.reset_budgets();
    Json(merged).into_response()
}

async fn stats(State(state): State<Arc<SimState>>) -> Json<StatsSnapshot> {
    Json(state.stats.snapshot(state.accounts.lockouts()))
}

async fn reset_stats(State(state): State<Arc<SimState>>) -> StatusCode {
    state.stats.reset();
    StatusCode::NO_CONTENT
}

async fn responses(State(state): State<Arc<SimState>>) -> Json<Vec<RecordedResponse>> {
    Json(state.recorded_responses())
}
