//! `/services/oauth2/revoke`: a refresh token takes its family's refresh and
//! access tokens with it, an access token only itself; 200 with no body on
//! success (help.salesforce.com xcloud.remoteaccess_revoke_token; Mobile SDK
//! guide "Revoking OAuth Tokens"). POST `token=` in a form body; GET `?token=`
//! is accepted too, as the help page also documents a GET form.

use crate::errors::{self, oauth, ApiError};
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;

pub(crate) async fn revoke(
    State(st): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let find = |raw: &[u8]| {
        form_urlencoded::parse(raw)
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    };
    let token = find(&body).or_else(|| raw.as_deref().and_then(|q| find(q.as_bytes())));
    if token.is_some_and(|t| st.revoke(t.trim())) {
        return Ok(errors::empty(StatusCode::OK));
    }
    // The docs list two 400 answers, `unsupported_token_type` ("Token type not
    // supported") and `invalid_token` ("Token was invalid"), without saying
    // which an unknown or already revoked token gets. The mock answers the
    // former; which one a real org sends here is not confirmed.
    Err(oauth(
        "unsupported_token_type",
        "this token type is not supported",
    ))
}
