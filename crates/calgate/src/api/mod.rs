//! The REST API under `/api/v1`: JSON in and out, errors as `{code, message, fields?}` with
//! stable codes.

pub mod directories;
pub mod health;
pub mod notifications;
pub mod openapi;
pub mod people;
pub mod routing;
pub mod settings;
pub mod signin;
pub mod sources;
pub mod stream;
pub mod tokens;

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API error: an HTTP status and a stable code, a plain message, and per-field messages for
/// validation errors.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Seconds for a `Retry-After` header.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
            retry_after: None,
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API token is required (Authorization: Bearer …)",
        )
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token's role does not allow that",
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut resp = (self.status, Json(self)).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        resp
    }
}

/// The longest message kept from a framework rejection (they can quote the offending input).
const REJECTION_MESSAGE_MAX: usize = 300;

/// The largest API request body: the framework's own limit for JSON bodies (2 MiB).
pub const API_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// The largest watch-list upload (`PUT /api/v1/people`): room for about 800 000 people in one
/// request, so an organisation's whole directory goes in at once.
pub const WATCH_LIST_BODY_LIMIT: u64 = 32 * 1024 * 1024;

/// The longest request target (path and query) the gateway reads.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most headers, and header bytes, a request may carry.
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The body limit for a request.
pub fn body_limit(method: &axum::http::Method, path: &str) -> u64 {
    if (method == axum::http::Method::PUT && path == "/api/v1/people")
        || (method == axum::http::Method::POST && path == "/api/v1/people/import")
    {
        WATCH_LIST_BODY_LIMIT
    } else {
        API_BODY_LIMIT
    }
}

/// Gives every error answer under `/api/` the API's JSON shape. The framework itself refuses
/// some requests before a handler runs (body too large, not JSON, wrong content type, a path
/// that is not UTF-8) and answers those in plain text; integrators must get `{code, message}`
/// for them like for every other error. A body announced larger than [`API_BODY_LIMIT`] is
/// refused before a byte of it is read, rather than after reading the first 2 MiB.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    if let Some(refusal) = oversized_head(&request) {
        return refusal.into_response();
    }
    let limit = body_limit(request.method(), request.uri().path());
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if api && announced.is_some_and(|n| n > limit) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body exceeds {limit} bytes"),
        )
        .into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let code = match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut message: String = text.trim().chars().take(REJECTION_MESSAGE_MAX).collect();
    if message.is_empty() {
        message = status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_string();
    }
    let mut answer = ApiError::new(status, code, message).into_response();
    // Keep what the refusal said beyond its body (`Allow`, `Retry-After`…).
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// 414 or 431 for a request target or header block beyond the gateway's limits, in the API's
/// JSON shape wherever the request was going (the HTTP layer's own, larger limits answer in
/// plain text).
fn oversized_head(request: &axum::extract::Request) -> Option<ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target exceeds {MAX_URI_BYTES} bytes"),
        ));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "a request may carry at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes of them"
            ),
        ));
    }
    None
}

/// Any path no route claims: 404, in JSON under `/api/`.
pub async fn no_route(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found("no such API path").into_response()
    } else {
        (StatusCode::NOT_FOUND, "no such page").into_response()
    }
}

/// A store failure as an API error: the message names the problem (a full disk, say) but never
/// a secret, which store errors never hold. Input the store refuses is the caller's mistake
/// (422), not an unavailable store: a client told 503 would retry the same request for ever.
/// A 422 for an id in a path that is refused (`code` names which kind of id), with the problem
/// as the `id` field's error.
pub fn refused_id(code: &'static str, what: &str, problem: String) -> ApiError {
    let mut e = ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        code,
        format!("the {what} id is refused: {problem}"),
    );
    e.fields.insert("id".into(), problem);
    e
}

pub fn store_error(e: calgate_store::StoreError) -> ApiError {
    if let calgate_store::StoreError::InvalidInput { .. } = &e {
        tracing::info!(error = %e, "input refused by the store");
        return ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            e.to_string(),
        );
    }
    tracing::error!(error = %e, "store operation failed");
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        format!("the database refused the operation: {e}"),
    )
}

impl From<calgate_store::StoreError> for ApiError {
    fn from(e: calgate_store::StoreError) -> ApiError {
        store_error(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-route server behind the middleware, on loopback.
    async fn serve() -> String {
        async fn echo(Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
            Json(v)
        }
        let routes = axum::Router::new()
            .route("/api/v1/echo", axum::routing::put(echo))
            .route("/portal/echo", axum::routing::put(echo))
            .layer(axum::middleware::from_fn(json_errors));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, routes).await;
        });
        format!("http://{addr}")
    }

    async fn put(url: &str, content_type: &str, body: Vec<u8>) -> (u16, String, String) {
        let resp = reqwest::Client::new()
            .put(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("answered");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, resp.text().await.unwrap_or_default())
    }

    #[tokio::test]
    async fn framework_rejections_under_api_get_the_json_error_shape() {
        let base = serve().await;
        let url = format!("{base}/api/v1/echo");
        let (status, ct, body) = put(&url, "application/json", b"[{".to_vec()).await;
        assert_eq!(status, 400);
        assert!(ct.starts_with("application/json"), "{ct}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(v["code"], "bad_request");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));

        let (status, _, body) = put(&url, "text/plain", b"{}".to_vec()).await;
        assert_eq!(status, 415);
        assert!(body.contains("\"unsupported_media_type\""), "{body}");

        // Announced beyond the limit: refused before the body is read.
        let big = vec![b' '; usize::try_from(API_BODY_LIMIT).expect("fits") + 1];
        let (status, _, body) = put(&url, "application/json", big).await;
        assert_eq!(status, 413);
        assert!(body.contains("\"body_too_large\""), "{body}");

        // Successes pass through untouched.
        let (status, _, body) = put(&url, "application/json", b"[1]".to_vec()).await;
        assert_eq!((status, body.as_str()), (200, "[1]"));
    }

    #[tokio::test]
    async fn pages_keep_their_own_answers() {
        let base = serve().await;
        let (status, ct, _) = put(
            &format!("{base}/portal/echo"),
            "application/json",
            b"[{".to_vec(),
        )
        .await;
        assert_eq!(status, 400);
        assert!(!ct.starts_with("application/json"), "{ct}");
    }
}
