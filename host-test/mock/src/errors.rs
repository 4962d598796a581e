//! Salesforce's three error shapes and the JSON content type every answer uses.
//! REST errors are a JSON array; OAuth errors a flat object.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

pub(crate) const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// A JSON response with Salesforce's exact content type.
pub(crate) fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    resp
}

/// An error answer, kept small so `Result<_, ApiError>` stays cheap to pass around.
pub(crate) struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
}

impl ApiError {
    /// The first error's `errorCode`, e.g. `NOT_FOUND`.
    pub(crate) fn code(&self) -> &str {
        self.body[0]["errorCode"]
            .as_str()
            .unwrap_or("UNKNOWN_EXCEPTION")
    }

    pub(crate) fn message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or("")
    }

    /// The per-record form sObject Collections use:
    /// `{"statusCode":…,"message":…,"fields":[…]}`.
    pub(crate) fn record_error(&self) -> serde_json::Value {
        let fields = match &self.body[0]["fields"] {
            serde_json::Value::Array(a) => serde_json::Value::Array(a.clone()),
            _ => json!([]),
        };
        record_error(self.code(), self.message(), fields)
    }
}

/// `{"statusCode":…,"message":…,"fields":[…]}`, one entry of a record's `errors`.
pub(crate) fn record_error(
    code: &str,
    message: impl Into<String>,
    fields: serde_json::Value,
) -> serde_json::Value {
    json!({ "statusCode": code, "message": message.into(), "fields": fields })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json(self.status, &self.body)
    }
}

pub(crate) fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// `[{"message":…,"errorCode":…}]`, the REST API's error body.
pub(crate) fn rest(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        body: json!([{ "message": message.into(), "errorCode": code }]),
    }
}

/// REST error that names the offending fields, e.g. REQUIRED_FIELD_MISSING.
pub(crate) fn rest_fields(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    fields: &[String],
) -> ApiError {
    ApiError {
        status,
        body: json!([{ "message": message.into(), "errorCode": code, "fields": fields }]),
    }
}

pub(crate) fn not_found() -> ApiError {
    rest(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

pub(crate) fn invalid_session() -> ApiError {
    rest(
        StatusCode::UNAUTHORIZED,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    )
}

/// A live session the REST API refuses for good: no `api` scope, IP or
/// high-assurance policy, API Access Control. Logging in again gets the same
/// kind of session (jsforce PR #1301; tsmztech/mcp-server-salesforce #8).
pub(crate) fn session_refused() -> ApiError {
    rest(
        StatusCode::UNAUTHORIZED,
        "INVALID_SESSION_ID",
        "This session is not valid for use with the REST API",
    )
}

/// `{"error":…,"error_description":…}` with 400, the OAuth endpoints' error body.
pub(crate) fn oauth(error: &str, description: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        body: json!({ "error": error, "error_description": description }),
    }
}

pub(crate) fn method_not_allowed() -> ApiError {
    rest(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "HTTP Method not allowed for this resource",
    )
}
