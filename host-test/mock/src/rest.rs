//! The gate in front of every `/services/data/vNN.N/…` call: API version,
//! bearer session, and the `Sforce-Limit-Info` usage header on every answer.

use crate::errors;
use crate::state::{Shared, API_MAX};
use crate::versions::{ApiVersion, MAX_VERSION, MIN_VERSION};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `v62.0` → `ApiVersion("62.0")`; anything else is not a version segment.
fn parse_version(seg: &str) -> Option<(ApiVersion, u32)> {
    let v = seg.strip_prefix('v')?;
    let (major, minor) = v.split_once('.')?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !ok(major) || !ok(minor) {
        return None;
    }
    Some((ApiVersion(v.to_string()), major.parse().ok()?))
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    // Old clients send `OAuth <token>`; Salesforce still takes it.
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
}

/// Marks a composite subrequest: checked like any call, but neither counted
/// nor given its own `Sforce-Limit-Info` (the composite call carries both).
#[derive(Clone, Copy)]
pub(crate) struct Internal;

pub(crate) async fn guard(State(st): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let segment = match req.uri().path().strip_prefix("/services/data/") {
        Some(rest) => rest.split('/').next().unwrap_or("").to_string(),
        None => return next.run(req).await,
    };
    // The version list itself is public and unmetered.
    if segment.is_empty() {
        return next.run(req).await;
    }
    let internal = req.extensions().get::<Internal>().is_some();
    let used = if internal {
        st.api_usage()
    } else {
        st.count_api_call()
    };
    let mut resp = match parse_version(&segment) {
        None => errors::not_found().into_response(),
        Some((_, major)) if major < MIN_VERSION => errors::rest(
            StatusCode::GONE,
            "NOT_FOUND",
            format!("API version {segment} has been retired and is no longer available. Use version {MIN_VERSION}.0 or later."),
        )
        .into_response(),
        Some((_, major)) if major > MAX_VERSION => errors::not_found().into_response(),
        Some((version, _)) => {
            if !bearer(&req).is_some_and(|t| st.session_valid(t)) {
                errors::invalid_session().into_response()
            } else if st.knobs.session_refused() {
                errors::session_refused().into_response()
            } else {
                req.extensions_mut().insert(version);
                next.run(req).await
            }
        }
    };
    if internal {
        return resp;
    }
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{API_MAX}")) {
        resp.headers_mut().insert("sforce-limit-info", v);
    }
    resp
}
