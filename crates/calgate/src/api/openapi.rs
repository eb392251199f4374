//! `GET /api/v1/openapi.json`: the API described for integrators.
//!
//! Written by hand with `serde_json::json!` rather than derived: the API is small, the person
//! record and the settings are shaped by SPEC §5.1 rather than by Rust types, and a test checks
//! that every path here is routed.

use axum::Json;
use serde_json::{Value, json};

/// The shape of a source id.
const SOURCE_ID_PATTERN: &str = "^[a-z0-9-]{1,32}$";

fn error_ref() -> Value {
    json!({"$ref": "#/components/schemas/Error"})
}

fn json_body(schema: Value) -> Value {
    json!({"content": {"application/json": {"schema": schema}}})
}

/// A required JSON request body: the handlers refuse a request without one (415).
fn request_body(schema: Value) -> Value {
    merge(json!({"required": true}), json_body(schema))
}

/// An error answer in the API's `{code, message, fields?}` shape.
fn error(description: &str) -> Value {
    merge(json!({"description": description}), json_body(error_ref()))
}

/// Adds `extra` answers to `responses` (an operation's own entries win).
fn with(mut responses: Value, extra: &Value) -> Value {
    if let (Some(r), Some(e)) = (responses.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            r.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    responses
}

/// The document.
pub fn document() -> Value {
    // Every operation behind a token: the token is checked against the database first.
    let errors = json!({
        "401": error("missing or unknown API token"),
        "403": error("the token's role does not allow this"),
        "503": error("the database refused the operation (a full disk, say)")
    });
    let with_errors = |responses: Value| with(responses, &errors);
    // Every operation with a JSON body: the framework's refusals, in the API's error shape.
    let body_errors = json!({
        "400": error("the body is not JSON"),
        "413": error("the body is larger than 2 MiB"),
        "415": error("the body is not sent as application/json"),
        "422": error("the body does not have the documented shape")
    });
    let with_body_errors = |responses: Value| with(with_errors(responses), &body_errors);
    let origin = json!({"type": "string", "description": "where the person came from: `manual`, `import` or the id of the directory that syncs it"});
    let person_summary = json!({"type": "object", "required": ["email", "status"], "properties": {
        "email": {"type": "string"}, "name": {"type": ["string", "null"]}, "extension": {"type": ["string", "null"]},
        "origin": origin.clone(),
        "source": {"type": "string", "description": "the id of the calendar source that serves this person"},
        "status": {"$ref": "#/components/schemas/Status"},
        "presence": {"$ref": "#/components/schemas/Presence"},
        "freshness": {"type": "string", "enum": ["pending", "fresh", "stale", "error"]},
        "as_of": {"type": ["string", "null"], "format": "date-time"},
        "error": {"type": "object", "description": "what the source answered for this mailbox when it failed", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}});
    // One server-sent event: `snapshot` first (and after a client fell behind), then `status`.
    let status_ref = json!({"$ref": "#/components/schemas/Status"});
    let presence_ref = json!({"$ref": "#/components/schemas/Presence"});
    let event = |name: &str, data: Value| {
        json!({"type": "object", "required": ["event", "data"], "properties": {
            "event": {"const": name},
            "id": {"type": "string", "pattern": "^([0-9a-f]{16}-[0-9]+)?$", "description": "EPOCH-SEQ; on a snapshot only its last part carries one, its first an empty one"},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data}}})
    };
    let stream_event = json!({"oneOf": [
        event("snapshot", json!({"type": "object", "required": ["seq", "part", "more", "people"], "properties": {
            "seq": {"type": "integer", "minimum": 0},
            "part": {"type": "integer", "minimum": 0, "description": "0 for the first part of a snapshot"},
            "more": {"type": "boolean", "description": "true until the snapshot's last part"},
            "people": {"type": "array", "items": {"type": "object", "required": ["email", "status"], "properties": {
                "email": {"type": "string"}, "status": status_ref, "presence": presence_ref}}}}})),
        event("status", json!({"type": "object", "required": ["email", "status", "at"], "description": "a change of the person's status or of their Teams presence", "properties": {
            "email": {"type": "string"}, "status": status_ref, "presence": presence_ref, "at": {"type": "string", "format": "date-time"}}}))
    ]});
    let test_request = json!({"type": "object", "properties": {
        "mailbox": {"type": "string", "format": "email", "description": "default: the first watched person the source serves"},
        "settings": {"$ref": "#/components/schemas/Settings", "description": "settings to test instead of the saved ones, applied over them like PUT; never saved"}}});
    let dir_id = json!({"name": "id", "in": "path", "required": true, "description": "the directory id: 1 to 32 of a-z, 0-9 and -, not manual or import", "schema": {"type": "string", "pattern": SOURCE_ID_PATTERN}});
    let source_id = json!({"name": "id", "in": "path", "required": true, "description": "the source id: 1 to 32 of a-z, 0-9 and -", "schema": {"type": "string", "pattern": SOURCE_ID_PATTERN}});
    let test_answer = json!({"type": "object", "required": ["ok", "mailbox", "provider", "elapsed_ms"], "properties": {
        "ok": {"type": "boolean"}, "mailbox": {"type": "string"}, "provider": {"type": "string"},
        "status": {"$ref": "#/components/schemas/Status"}, "events_today": {"type": "integer", "minimum": 0},
        "code": {"type": "string"}, "message": {"type": "string"}, "elapsed_ms": {"type": "integer", "minimum": 0}}});
    let directory_paths = directory_paths(&dir_id, &with_errors, &with_body_errors);
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "calgate",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Calendar availability for telephone attendant consoles. Send `Authorization: Bearer TOKEN`; console tokens read, admin tokens also change the watch list and settings."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "State": {"type": "string", "enum": ["free", "tentative", "busy", "oof", "working_elsewhere", "unknown"]},
                "Status": {"type": "object", "properties": {
                    "state": {"$ref": "#/components/schemas/State"},
                    "since": {"type": ["string", "null"], "format": "date-time"},
                    "until": {"type": ["string", "null"], "format": "date-time"},
                    "next_free": {"type": ["string", "null"], "format": "date-time"},
                    "event": {"type": ["object", "null"], "properties": {
                        "subject": {"type": ["string", "null"]}, "location": {"type": ["string", "null"]}, "private": {"type": "boolean"}}},
                    "unknown_reason": {"type": "string", "description": "a stable code: NO_DATA, STALE, OUTSIDE_WINDOW, SOURCE_NO_DATA or the source's error code"},
                    "unknown_words": {"type": "string", "description": "the reason in words"}}},
                "Presence": {"type": "object", "required": ["availability", "activity", "as_of"], "description": "Microsoft Teams presence beside the calendar status, for people of a Graph source with presence on (absent otherwise); it never changes the status, and PresenceUnknown is unknown, never available", "properties": {
                    "availability": {"type": "string", "description": "Graph's value: Available, AvailableIdle, Away, BeRightBack, Busy, BusyIdle, DoNotDisturb, Offline, PresenceUnknown, or one Graph adds later"},
                    "activity": {"type": "string", "description": "Graph's value: InACall, InAConferenceCall, InAMeeting, Presenting, Away, Available, Offline, OffWork, OutOfOffice, PresenceUnknown…"},
                    "as_of": {"type": "string", "format": "date-time", "description": "when it was read"}}},
                "PersonInput": {"type": "object", "required": ["email"], "properties": {
                    "email": {"type": "string", "format": "email", "description": "at most 256 characters unless a name is given"},
                    "name": {"type": ["string", "null"], "maxLength": 256, "description": "printable characters"},
                    "extension": {"type": ["string", "null"], "maxLength": 32, "description": "printable characters"}}},
                "Person": {"type": "object", "properties": {
                    "email": {"type": "string"}, "name": {"type": ["string", "null"]}, "extension": {"type": ["string", "null"]},
                    "origin": origin,
                    "source": {"type": "string", "description": "the id of the calendar source that serves this person"},
                    "status": {"$ref": "#/components/schemas/Status"},
                    "presence": {"$ref": "#/components/schemas/Presence"},
                    "today": {"type": "array", "items": {"type": "object"}},
                    "out_of_office": {"type": ["object", "null"]},
                    "working_hours": {"type": ["object", "null"]},
                    "as_of": {"type": ["string", "null"], "format": "date-time"},
                    "freshness": {"type": "string", "enum": ["pending", "fresh", "stale", "error"]}}},
                "Health": {"type": "object", "properties": {
                    "source": {"type": "object", "properties": {
                        "state": {"type": "string", "enum": ["starting", "ok", "degraded", "throttled", "auth_failed", "unreachable", "misconfigured", "disabled"]},
                        "code": {"type": ["string", "null"]}, "message": {"type": ["string", "null"]},
                        "since": {"type": "string", "format": "date-time"},
                        "next_attempt": {"type": ["string", "null"], "format": "date-time"},
                        "last_success": {"type": ["string", "null"], "format": "date-time"},
                        "likely_causes": {"type": "array", "items": {"type": "string"}, "description": "with auth_failed: the usual causes of a refused service account"}}},
                    "sources": {"type": "array", "description": "every configured source by id, the default source (`default`) included", "items": {"type": "object", "required": ["id", "state", "since"], "properties": {
                        "id": {"type": "string"},
                        "state": {"type": "string", "enum": ["starting", "ok", "degraded", "throttled", "auth_failed", "unreachable", "misconfigured", "disabled"]},
                        "code": {"type": ["string", "null"]}, "message": {"type": ["string", "null"]},
                        "since": {"type": "string", "format": "date-time"},
                        "next_attempt": {"type": ["string", "null"], "format": "date-time"},
                        "last_success": {"type": ["string", "null"], "format": "date-time"}}}},
                    "mailboxes": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "store": {"type": "object", "description": "whether the data directory takes writes", "properties": {
                        "state": {"type": "string", "enum": ["ok", "disk_full", "error"]},
                        "message": {"type": "string"}}},
                    "instances": {"type": "array", "description": "on PostgreSQL only: the live gateways sharing the database", "items": {"type": "object", "required": ["id", "address", "leases", "heartbeat_at", "this"], "properties": {
                        "id": {"type": "string"}, "address": {"type": "string"},
                        "leases": {"type": "integer", "description": "shard leases held"},
                        "heartbeat_at": {"type": "string", "format": "date-time"},
                        "this": {"type": "boolean", "description": "the gateway that answered"}}}},
                    "database": {"type": "object", "description": "on PostgreSQL only", "required": ["reachable"], "properties": {
                        "reachable": {"type": "boolean"}}}}},
                "DeviceCode": {"type": "object", "required": ["state"], "properties": {
                    "state": {"type": "string", "enum": ["none", "pending", "done", "expired", "declined", "failed"]},
                    "user_code": {"type": "string"}, "verification_uri": {"type": "string"}, "message": {"type": "string"},
                    "expires_at": {"type": "string", "format": "date-time"}, "interval": {"type": "integer"},
                    "username": {"type": "string"}, "code": {"type": "string"}}},
                "Settings": {"type": "object", "description": "SPEC §5.1; secrets are write-only and read back as `*_set` flags."},
                "Token": {"type": "object", "required": ["id", "label", "role", "created_at"], "properties": {
                    "id": {"type": "string", "format": "uuid"}, "label": {"type": "string"},
                    "role": {"type": "string", "enum": ["admin", "console"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "last_used_at": {"type": ["string", "null"], "format": "date-time"}}},
                "SourceHealth": {"type": "object", "required": ["state", "since"], "properties": {
                    "state": {"type": "string", "enum": ["starting", "ok", "degraded", "throttled", "auth_failed", "unreachable", "misconfigured", "disabled"]},
                    "code": {"type": ["string", "null"]}, "message": {"type": ["string", "null"]},
                    "since": {"type": "string", "format": "date-time"},
                    "next_attempt": {"type": ["string", "null"], "format": "date-time"},
                    "last_success": {"type": ["string", "null"], "format": "date-time"}}},
                "Source": {"type": "object", "required": ["id", "display_name", "settings"], "properties": {
                    "id": {"type": "string", "pattern": SOURCE_ID_PATTERN},
                    "display_name": {"type": "string"},
                    "settings": {"$ref": "#/components/schemas/Settings"},
                    "health": {"oneOf": [{"$ref": "#/components/schemas/SourceHealth"}, {"type": "null"}]}}},
                "SourceSaved": {"type": "object", "required": ["id", "display_name", "settings", "warnings"], "properties": {
                    "id": {"type": "string"}, "display_name": {"type": "string"},
                    "settings": {"$ref": "#/components/schemas/Settings"},
                    "warnings": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}},
                "Routing": {"type": "object", "additionalProperties": false, "description": "a mailbox's own route beats its domain's, which beats the default; every route names a configured source", "properties": {
                    "default": {"type": "string", "pattern": SOURCE_ID_PATTERN},
                    "domains": {"type": "object", "additionalProperties": {"type": "string", "pattern": SOURCE_ID_PATTERN}},
                    "mailboxes": {"type": "object", "additionalProperties": {"type": "string", "pattern": SOURCE_ID_PATTERN}}}},
                "SettingsAnswer": {"type": "object", "properties": {
                    "settings": {"$ref": "#/components/schemas/Settings"},
                    "warnings": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/health": {"get": {"summary": "The calendar source's health and mailbox freshness counts",
                "responses": with_errors(json!({"200": merge(json!({"description": "health"}), json_body(json!({"$ref": "#/components/schemas/Health"})))}))}},
            "/api/v1/people": {
                "get": {"summary": "Watched people matching a query (email, name or extension)",
                    "parameters": [{"name": "query", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "description": "at most this many (default 100; taken as 1 to 10 000)",
                            "schema": {"type": "integer", "minimum": 0, "maximum": u64::MAX}},
                        {"name": "freshness", "in": "query", "description": "only people whose data is in this state (the failing mailboxes: `error`)",
                            "schema": {"type": "string", "enum": ["pending", "fresh", "stale", "error"]}}],
                    "responses": with_errors(json!({"200": merge(json!({"description": "people with their status"}), json_body(json!({"type": "array", "items": person_summary}))),
                        "400": error("the query string cannot be read (limit not a whole number, an unknown freshness, say)")}))},
                "put": {"summary": "Bulk upsert of the watch list (admin)",
                    "requestBody": request_body(json!({"type": "array", "items": {"$ref": "#/components/schemas/PersonInput"}})),
                    "responses": with_body_errors(json!({"200": merge(json!({"description": "saved"}), json_body(json!({"type": "object", "required": ["upserted", "watched"], "properties": {
                            "upserted": {"type": "integer", "minimum": 0}, "watched": {"type": "integer", "minimum": 0}}}))),
                        "422": error("invalid entries (`invalid_people`, with a message per field); nothing saved")}))}},
            "/api/v1/people/{email}": {
                "parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {"summary": "One person's record (refreshed on demand when old)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "the record"}), json_body(json!({"$ref": "#/components/schemas/Person"}))), "404": error("not watched")}))},
                "delete": {"summary": "Stop watching a person (admin)",
                    "responses": with_errors(json!({"204": {"description": "removed"}, "404": error("not watched")}))}},
            "/api/v1/stream": {"get": {"summary": "Server-sent events: a `snapshot` in parts, then one `status` event per change; resumable with Last-Event-ID",
                "parameters": [{"name": "Last-Event-ID", "in": "header", "required": false, "description": "resume after this event (an id this gateway gave out); anything else starts with a snapshot", "schema": {"type": "string"}},
                    {"name": "people", "in": "query", "required": false, "description": "only these people (comma-separated addresses, at most 5 000)", "schema": {"type": "string"}},
                    {"name": "query", "in": "query", "required": false, "description": "only the people this search finds when the stream opens (as `GET /api/v1/people?query=`)", "schema": {"type": "string"}}],
                "responses": with_errors(json!({"200": {"description": "the event stream; `schema` describes each event (OpenAPI 3.1), its `data` being JSON",
                    "content": {"text/event-stream": {"schema": stream_event}}},
                    "400": error("the selection names more than 5 000 people"),
                    "503": error("as many streams are open as the gateway serves (`stream_clients_full`, with Retry-After), or the database refused")}))}},
            "/api/v1/tokens": {
                "get": {"summary": "Live API tokens, oldest first (admin); never their secrets",
                    "responses": with_errors(json!({"200": merge(json!({"description": "tokens"}), json_body(json!({"type": "array", "items": {"$ref": "#/components/schemas/Token"}})))}))},
                "post": {"summary": "Create an API token (admin); the answer holds its secret, shown once",
                    "requestBody": request_body(json!({"type": "object", "required": ["label", "role"], "properties": {
                        "label": {"type": "string", "minLength": 1, "maxLength": 128}, "role": {"type": "string", "enum": ["admin", "console"]}}})),
                    "responses": with_body_errors(json!({"201": merge(json!({"description": "created"}), json_body(json!({"type": "object", "required": ["token", "secret"], "properties": {
                        "token": {"$ref": "#/components/schemas/Token"}, "secret": {"type": "string"}}}))),
                        "422": error("no label, or a label the store refuses (`invalid_input`)")}))}},
            "/api/v1/tokens/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "description": "the token's id, or 8 or more of its first characters", "schema": {"type": "string"}}],
                "delete": {"summary": "Revoke a token (admin): its API use and its page sessions end at once",
                    "responses": with_errors(json!({"204": {"description": "revoked"}, "400": error("an ambiguous id prefix, or the token's value instead of its id"), "404": error("no live token with that id"), "409": error("the token names itself (`revoking_own_token`)")}))}},
            "/api/v1/settings/calendar": {
                "get": {"summary": "The calendar integration settings (admin)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "settings"}), json_body(json!({"$ref": "#/components/schemas/SettingsAnswer"})))}))},
                "put": {"summary": "Validate, save and apply settings (admin); answers warnings",
                    "requestBody": request_body(json!({"$ref": "#/components/schemas/Settings"})),
                    "responses": with_body_errors(json!({"200": merge(json!({"description": "saved"}), json_body(json!({"$ref": "#/components/schemas/SettingsAnswer"}))), "422": error("invalid_settings with field errors (and `field_codes`, e.g. `secret_reentry_required` when an address moved to another server without its secret entered again); nothing saved")}))}},
            "/api/v1/settings/calendar/test": {"post": {"summary": "Test the saved settings, or the body's unsaved ones, against one mailbox (admin)",
                "requestBody": request_body(test_request.clone()),
                "responses": with_body_errors(json!({"200": merge(json!({"description": "what happened: ok with a sample status, or a code and message"}), json_body(test_answer.clone())),
                    "422": error("the mailbox is not an email address (`invalid_request`), the body's settings are invalid (`invalid_settings`), or the body does not have the documented shape"),
                    "429": error("more than 6 tests in a minute (`too_many_tests`, with Retry-After)")}))}},
            "/api/v1/source/retry": {"post": {"summary": "Retry now (admin): one immediate attempt with the current credentials, also while the lockout guard holds them",
                "responses": with_errors(json!({"200": merge(json!({"description": "how many sign-ins may try once"}), json_body(json!({"type": "object", "properties": {"credentials": {"type": "integer"}}})))}))}},
            "/api/v1/sources": {"get": {"summary": "Every calendar source with its settings and health, `default` first (admin)",
                "responses": with_errors(json!({"200": merge(json!({"description": "sources"}), json_body(json!({"type": "array", "items": {"$ref": "#/components/schemas/Source"}})))}))}},
            "/api/v1/sources/{id}": {
                "parameters": [source_id.clone()],
                "put": {"summary": "Create or replace a source (admin): the settings object of `/api/v1/settings/calendar` with an optional `display_name`; absent fields keep their values",
                    "requestBody": request_body(json!({"$ref": "#/components/schemas/Settings"})),
                    "responses": with_body_errors(json!({"200": merge(json!({"description": "replaced"}), json_body(json!({"$ref": "#/components/schemas/SourceSaved"}))),
                        "201": merge(json!({"description": "created"}), json_body(json!({"$ref": "#/components/schemas/SourceSaved"}))),
                        "422": error("an id outside [a-z0-9-]{1,32} (`invalid_source_id`), or invalid settings (`invalid_settings` with field errors); nothing saved")}))},
                "delete": {"summary": "Remove a source and its sealed secrets (admin); `default` is reset to unconfigured",
                    "responses": with_errors(json!({"204": {"description": "removed"}, "404": error("no such source"),
                        "409": error("the routing table still names it (`source_in_use`)"),
                        "422": error("an id outside [a-z0-9-]{1,32} (`invalid_source_id`)")}))}},
            "/api/v1/sources/{id}/test": {"parameters": [source_id.clone()],
                "post": {"summary": "Test a source's saved settings, or the body's unsaved ones, against one mailbox (admin)",
                "requestBody": request_body(test_request.clone()),
                "responses": with_body_errors(json!({"200": merge(json!({"description": "what happened"}), json_body(test_answer.clone())),
                    "404": error("no such source"),
                    "422": error("an id outside [a-z0-9-]{1,32}, the mailbox is not an email address, or the body does not have the documented shape"),
                    "429": error("more than 6 tests in a minute (`too_many_tests`, with Retry-After)")}))}},
            "/api/v1/sources/{id}/retry": {"parameters": [source_id],
                "post": {"summary": "Retry now for one source (admin)",
                "responses": with_errors(json!({"200": merge(json!({"description": "how many sign-ins may try once"}), json_body(json!({"type": "object", "properties": {"credentials": {"type": "integer"}}}))),
                    "404": error("no such source"), "422": error("an id outside [a-z0-9-]{1,32}")}))}},
            "/api/v1/routing": {
                "get": {"summary": "Which source serves which mailboxes (admin)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "the routing table"}), json_body(json!({"$ref": "#/components/schemas/Routing"})))}))},
                "put": {"summary": "Replace the routing table (admin); mailboxes move to their new source at once",
                    "requestBody": request_body(json!({"$ref": "#/components/schemas/Routing"})),
                    "responses": with_body_errors(json!({"200": merge(json!({"description": "saved, as stored (lower-cased, domains without @)"}), json_body(json!({"$ref": "#/components/schemas/Routing"}))),
                        "422": error("a route to an unknown source, a malformed domain or address (`invalid_routing`, with field errors), or the body does not have the documented shape; nothing saved")}))}},
            "/api/v1/signin/device-code": {
                "post": {"summary": "Start a device-code sign-in to Entra ID for the saved tenant and app (admin); polling runs in the background",
                    "responses": with_errors(json!({"201": merge(json!({"description": "the code to enter and where"}), json_body(json!({"$ref": "#/components/schemas/DeviceCode"}))), "409": error("tenant or client ID not saved, or the saved connection settings are unusable"), "422": error("Entra ID refused"), "502": error("Entra ID could not be reached or failed")}))},
                "get": {"summary": "The device-code sign-in's state (admin)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "state"}), json_body(json!({"$ref": "#/components/schemas/DeviceCode"})))}))},
                "delete": {"summary": "Forget the device-code sign-in (admin); EWS goes back to the stored service account",
                    "responses": with_errors(json!({"204": {"description": "forgotten"}}))}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/api/v1/notifications/graph": notification_endpoint("Where Microsoft Graph posts change notifications for calgate's subscriptions (open: a notification is acted on only when its subscription id and clientState are calgate's own)", "graphChangeNotifications"),
            "/api/v1/notifications/graph/lifecycle": notification_endpoint("Where Microsoft Graph posts lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed) for calgate's subscriptions", "graphLifecycleNotifications")
        }
    });
    if let Some(paths) = doc.get_mut("paths") {
        *paths = merge(paths.take(), directory_paths);
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas") {
        *schemas = merge(schemas.take(), directory_schemas());
    }
    doc
}

/// The directory sync's schemas (kept apart: one `json!` of the whole document would pass the
/// macro's recursion limit).
fn directory_schemas() -> Value {
    json!({
                "Directory": {"type": "object", "required": ["kind"], "description": "a directory the watch list is synced from; absent fields take their defaults", "properties": {
                    "kind": {"type": "string", "enum": ["graph", "ldap"]},
                    "name": {"type": "string", "maxLength": 64},
                    "sync_interval_s": {"type": "integer", "minimum": 300, "maximum": 604_800, "description": "default 3600"},
                    "max_removal_share": {"type": "number", "minimum": 0, "maximum": 1, "description": "default 0.2: a sync that would remove more of the directory's people is held"},
                    "attributes": {"type": "object", "required": ["email", "name", "extension"], "properties": {
                        "email": {"type": "string"}, "name": {"type": "string"}, "extension": {"type": "string"},
                        "source": {"type": ["string", "null"], "description": "an attribute naming the source a person's mailbox is read from"}}},
                    "source": {"type": "string", "description": "graph: the id of the Graph source whose app credentials are used"},
                    "group_id": {"type": "string", "description": "graph: only this group's (transitive) members"},
                    "url": {"type": "string", "description": "ldap: ldaps://host[:port] or ldap://host[:port]"},
                    "starttls": {"type": "boolean"}, "allow_insecure_ldap": {"type": "boolean"},
                    "bind_dn": {"type": "string"}, "bind_password": {"type": ["string", "null"], "description": "write-only; absent or empty keeps the stored one, null removes it"},
                    "base_dn": {"type": "string"}, "filter": {"type": "string", "description": "default: Active Directory's people with mail that are not disabled"},
                    "extra_ca_pem": {"type": "string"}}},
                "DirectoryView": {"type": "object", "required": ["id", "kind", "bind_password_set", "syncing"], "properties": {
                    "id": {"type": "string"}, "kind": {"type": "string", "enum": ["graph", "ldap"]},
                    "bind_password_set": {"type": "boolean"}, "syncing": {"type": "boolean"}, "delta_saved": {"type": "boolean"},
                    "last_sync": {"oneOf": [{"$ref": "#/components/schemas/SyncOutcome"}, {"type": "null"}]}}},
                "SyncOutcome": {"type": "object", "required": ["status", "added", "updated", "removed", "unchanged", "held", "warnings"], "properties": {
                    "status": {"type": "string", "enum": ["ok", "held", "failed"]},
                    "at": {"type": "string", "format": "date-time"}, "trigger": {"type": "string", "enum": ["admin", "schedule"]},
                    "dry_run": {"type": "boolean"}, "delta_read": {"type": "boolean"},
                    "added": {"type": "integer", "minimum": 0}, "updated": {"type": "integer", "minimum": 0},
                    "removed": {"type": "integer", "minimum": 0}, "unchanged": {"type": "integer", "minimum": 0},
                    "held": {"type": "integer", "minimum": 0, "description": "removals waiting for confirmation"},
                    "warnings": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
                    "error": {"type": ["object", "null"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                    "duration_ms": {"type": "integer", "minimum": 0},
                    "preview": {"type": "object", "description": "a dry run's or held sync's first changes"}}}
    })
}

/// The directory sync's and the import's paths.
fn directory_paths(
    dir_id: &Value,
    with_errors: &dyn Fn(Value) -> Value,
    with_body_errors: &dyn Fn(Value) -> Value,
) -> Value {
    json!({
            "/api/v1/directories": {"get": {"summary": "Every directory the watch list is synced from, with its last sync (admin)",
                "responses": with_errors(json!({"200": merge(json!({"description": "directories"}), json_body(json!({"type": "array", "items": {"$ref": "#/components/schemas/DirectoryView"}})))}))}},
            "/api/v1/directories/{id}": {
                "parameters": [dir_id.clone()],
                "put": {"summary": "Create or replace a directory (admin); the first sync is started by hand (or after one interval)", "operationId": "putDirectory",
                    "requestBody": request_body(json!({"$ref": "#/components/schemas/Directory"})),
                    "responses": with_body_errors(json!({"200": merge(json!({"description": "replaced"}), json_body(json!({"$ref": "#/components/schemas/DirectoryView"}))),
                        "201": merge(json!({"description": "created"}), json_body(json!({"$ref": "#/components/schemas/DirectoryView"}))),
                        "422": error("a refused id (`invalid_directory_id`) or configuration (`invalid_directory`, with field errors); nothing saved")}))},
                "delete": {"summary": "Remove a directory and its bind password (admin); its people stay watched, as manual ones",
                    "responses": with_errors(json!({"204": {"description": "removed"}, "404": error("no such directory"), "422": error("a refused id")}))}},
            "/api/v1/directories/{id}/sync": {"parameters": [dir_id.clone(),
                    {"name": "dry_run", "in": "query", "description": "answer what would change, change nothing", "schema": {"type": "boolean"}},
                    {"name": "confirm_removals", "in": "query", "description": "remove even more than the directory's share (confirms a held sync)", "schema": {"type": "boolean"}}],
                "post": {"summary": "Sync now (admin), after a running sync of the same directory ends; `status` tells ok, held or failed (nothing changed)",
                "responses": with_errors(json!({"200": merge(json!({"description": "the outcome"}), json_body(json!({"$ref": "#/components/schemas/SyncOutcome"}))),
                    "400": error("the query string cannot be read"), "404": error("no such directory"), "422": error("a refused id")}))}},
            "/api/v1/directories/{id}/test": {"parameters": [dir_id],
                "post": {"summary": "Bind and read the first ten people, mapped, changing nothing (admin)",
                "responses": with_errors(json!({"200": merge(json!({"description": "the first people, or the warnings that explain why none"}), json_body(json!({"type": "object", "required": ["ok", "people", "warnings"], "properties": {
                        "ok": {"type": "boolean"},
                        "people": {"type": "array", "items": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "extension": {"type": ["string", "null"]}, "source": {"type": ["string", "null"]}}}},
                        "warnings": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}))),
                    "404": error("no such directory"), "422": error("a refused id")}))}},
            "/api/v1/people/import": {"post": {"summary": "Import a CSV (admin): RFC 4180, UTF-8 with or without BOM, `,` `;` or tab separated, an optional header naming email, name and extension in any order; the valid rows are watched (origin `import`) and the bad ones answered by line", "operationId": "importPeople",
                "parameters": [{"name": "dry_run", "in": "query", "description": "only check", "schema": {"type": "boolean"}}],
                "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": with_errors(json!({"200": merge(json!({"description": "what was imported"}), json_body(json!({"type": "object", "required": ["valid", "imported", "errors"], "properties": {
                        "valid": {"type": "integer", "minimum": 0}, "imported": {"type": "integer", "minimum": 0}, "watched": {"type": ["integer", "null"]},
                        "errors": {"type": "array", "items": {"type": "object", "required": ["line", "code", "message"], "properties": {"line": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}}}}}}))),
                    "400": error("the query string cannot be read"), "413": error("the body is larger than the watch list's limit"),
                    "415": error("not sent as text/csv"), "422": error("the CSV is not UTF-8")}))}}
    })
}

/// An endpoint Microsoft Graph posts to: the validation handshake, or a notification
/// collection answered 202 at once.
fn notification_endpoint(summary: &str, operation_id: &str) -> Value {
    let text = |description: &str| json!({"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}});
    json!({"post": {"summary": summary, "operationId": operation_id, "security": [],
        "parameters": [{"name": "validationToken", "in": "query", "description": "Graph's validation handshake: answered with the token as text/plain while calgate is making a subscription", "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"value": {"type": "array", "items": {"type": "object", "properties": {
            "subscriptionId": {"type": "string"}, "clientState": {"type": "string"}, "changeType": {"type": "string"},
            "resource": {"type": "string"}, "lifecycleEvent": {"type": "string"}, "tenantId": {"type": "string"},
            "subscriptionExpirationDateTime": {"type": "string"}}}}}}}}},
        "responses": {
            "200": text("the validation token, echoed"),
            "202": {"description": "taken in: notifications of calgate's subscriptions with their clientState are acted on, the others dropped and counted"},
            "400": error("not a notification collection, or an unusable validation token"),
            "403": error("a validation request while no subscription is being made"),
            "413": error("more than 512 KiB")}}})
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object()) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

/// The handler.
pub async fn openapi() -> Json<Value> {
    Json(document())
}
