//! `GET /api/v1/openapi.json`: the API described for integrators.
//!
//! Written by hand with `serde_json::json!` rather than derived: the API is small, the person
//! record and the settings are shaped by SPEC §5.1 rather than by Rust types, and a test checks
//! that every path here is routed.

use axum::Json;
use serde_json::{Value, json};

fn error_ref() -> Value {
    json!({"$ref": "#/components/schemas/Error"})
}

fn json_body(schema: Value) -> Value {
    json!({"content": {"application/json": {"schema": schema}}})
}

/// The document.
pub fn document() -> Value {
    let errors = json!({
        "401": {"description": "missing or unknown API token", "content": {"application/json": {"schema": error_ref()}}},
        "403": {"description": "the token's role does not allow this", "content": {"application/json": {"schema": error_ref()}}}
    });
    let with_errors = |mut responses: Value| {
        if let (Some(r), Some(e)) = (responses.as_object_mut(), errors.as_object()) {
            for (k, v) in e {
                r.insert(k.clone(), v.clone());
            }
        }
        responses
    };
    json!({
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
                    "unknown_reason": {"type": "string"}}},
                "PersonInput": {"type": "object", "required": ["email"], "properties": {
                    "email": {"type": "string"}, "name": {"type": ["string", "null"]}, "extension": {"type": ["string", "null"]}}},
                "Person": {"type": "object", "properties": {
                    "email": {"type": "string"}, "name": {"type": ["string", "null"]}, "extension": {"type": ["string", "null"]},
                    "status": {"$ref": "#/components/schemas/Status"},
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
                    "mailboxes": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "store": {"type": "object", "description": "whether the data directory takes writes", "properties": {
                        "state": {"type": "string", "enum": ["ok", "disk_full", "error"]},
                        "message": {"type": "string"}}}}},
                "DeviceCode": {"type": "object", "required": ["state"], "properties": {
                    "state": {"type": "string", "enum": ["none", "pending", "done", "expired", "declined", "failed"]},
                    "user_code": {"type": "string"}, "verification_uri": {"type": "string"}, "message": {"type": "string"},
                    "expires_at": {"type": "string", "format": "date-time"}, "interval": {"type": "integer"},
                    "username": {"type": "string"}, "code": {"type": "string"}}},
                "Settings": {"type": "object", "description": "SPEC §5.1; secrets are write-only and read back as `*_set` flags."},
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
                    "parameters": [{"name": "query", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": with_errors(json!({"200": {"description": "people with their status"}}))},
                "put": {"summary": "Bulk upsert of the watch list (admin)",
                    "requestBody": json_body(json!({"type": "array", "items": {"$ref": "#/components/schemas/PersonInput"}})),
                    "responses": with_errors(json!({"200": {"description": "saved"}, "422": merge(json!({"description": "invalid entries; nothing saved"}), json_body(error_ref()))}))}},
            "/api/v1/people/{email}": {
                "parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {"summary": "One person's record (refreshed on demand when old)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "the record"}), json_body(json!({"$ref": "#/components/schemas/Person"}))), "404": {"description": "not watched"}}))},
                "delete": {"summary": "Stop watching a person (admin)",
                    "responses": with_errors(json!({"204": {"description": "removed"}, "404": {"description": "not watched"}}))}},
            "/api/v1/stream": {"get": {"summary": "Server-sent events: `snapshot`, then one `status` event per change; resumable with Last-Event-ID",
                "responses": with_errors(json!({"200": {"description": "text/event-stream"}}))}},
            "/api/v1/settings/calendar": {
                "get": {"summary": "The calendar integration settings (admin)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "settings"}), json_body(json!({"$ref": "#/components/schemas/SettingsAnswer"})))}))},
                "put": {"summary": "Validate, save and apply settings (admin); answers warnings",
                    "requestBody": json_body(json!({"$ref": "#/components/schemas/Settings"})),
                    "responses": with_errors(json!({"200": merge(json!({"description": "saved"}), json_body(json!({"$ref": "#/components/schemas/SettingsAnswer"}))), "422": merge(json!({"description": "invalid_settings with field errors"}), json_body(error_ref()))}))}},
            "/api/v1/settings/calendar/test": {"post": {"summary": "Test the saved settings against one mailbox (admin)",
                "requestBody": json_body(json!({"type": "object", "required": ["mailbox"], "properties": {"mailbox": {"type": "string"}}})),
                "responses": with_errors(json!({"200": {"description": "what happened: ok with a sample status, or a code and message"}}))}},
            "/api/v1/source/retry": {"post": {"summary": "Retry now (admin): one immediate attempt with the current credentials, also while the lockout guard holds them",
                "responses": with_errors(json!({"200": merge(json!({"description": "how many sign-ins may try once"}), json_body(json!({"type": "object", "properties": {"credentials": {"type": "integer"}}})))}))}},
            "/api/v1/signin/device-code": {
                "post": {"summary": "Start a device-code sign-in to Entra ID for the saved tenant and app (admin); polling runs in the background",
                    "responses": with_errors(json!({"201": merge(json!({"description": "the code to enter and where"}), json_body(json!({"$ref": "#/components/schemas/DeviceCode"}))), "409": merge(json!({"description": "tenant or client ID not saved"}), json_body(error_ref())), "422": merge(json!({"description": "Entra ID refused"}), json_body(error_ref()))}))},
                "get": {"summary": "The device-code sign-in's state (admin)",
                    "responses": with_errors(json!({"200": merge(json!({"description": "state"}), json_body(json!({"$ref": "#/components/schemas/DeviceCode"})))}))},
                "delete": {"summary": "Forget the device-code sign-in (admin); EWS goes back to the stored service account",
                    "responses": with_errors(json!({"204": {"description": "forgotten"}}))}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        }
    })
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
