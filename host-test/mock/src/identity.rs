//! `GET /services/oauth2/userinfo` (and the identity URL path `/id/{org}/{user}`):
//! who the bearer token belongs to. n8n's JWT credential tests with this call.

use crate::state::{identity_url, Shared, ORG_ID, USER_ID};
use crate::token::instance_url;
use crate::{errors, Listener};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::json;
use std::sync::Arc;

pub(crate) async fn userinfo(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    req: Request,
) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if !token.is_some_and(|t| st.session_valid(t)) {
        return bad_token();
    }
    let base = instance_url(&st, &listener);
    let username = &st.credentials.username;
    let body = json!({
        "sub": identity_url(), "user_id": USER_ID, "organization_id": ORG_ID,
        "preferred_username": username, "nickname": "integration", "name": "Integration User",
        "email": username, "email_verified": true, "given_name": "Integration",
        "family_name": "User", "zoneinfo": "Europe/Paris", "active": true,
        "user_type": "STANDARD", "language": "en_US", "locale": "en_US",
        "utcOffset": 3_600_000, "updated_at": "2026-01-01T00:00:00Z",
        "is_app_installed": true, "is_salesforce_integration_user": false,
        "urls": {
            "rest": format!("{base}/services/data/v{{version}}/"),
            "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
            "query": format!("{base}/services/data/v{{version}}/query/"),
            "custom_domain": base,
        },
    });
    errors::json(StatusCode::OK, &body)
}

/// The identity service answers an expired or invalid token with 403 and
/// plain text, not JSON and not 401 (SalesforceMobileSDK-iOS #3398;
/// SalesforceMobileSDK-Android PR #2430).
fn bad_token() -> Response {
    let mut resp = Response::new(Body::from("Bad_OAuth_Token"));
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}
