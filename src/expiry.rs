//! Expired or refused: which authentication failures a renewal can fix.
//!
//! Salesforce answers both an expired token and a session it will never
//! accept for the API with `401 INVALID_SESSION_ID`; only the message tells
//! them apart. Renewing on a refusal gets the same kind of token again and
//! only burns the 3,600-logins-per-user-per-hour limit, so it is its own
//! error. (jsforce PR #1301; tsmztech/mcp-server-salesforce #8; NangoHQ/nango
//! #4344.)

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{ApiErrorItem, Error};

/// Phrases of the documented refusals ("This session is not valid for use
/// with the REST API", and the same for the API as a whole), lower case.
const REFUSALS: [&str; 1] = ["not valid for use with the"];

const REFUSED_HINT: &str = "a new login gets the same refusal: check that the connected app or \
     External Client App has the `api` OAuth scope, that the user's profile IP ranges and the \
     org's login IP ranges admit this host, that no high-assurance session policy applies to the \
     app, and that API Access Control (if on) lists the app";

/// The error for a 401, or for any answer whose errors carry
/// `INVALID_SESSION_ID`: refused when the message says so, expired otherwise.
pub fn from_errors(status: u16, errors: &[ApiErrorItem]) -> Option<Error> {
    let session = errors.iter().find(|e| e.error_code == "INVALID_SESSION_ID");
    if status != 401 && session.is_none() {
        return None;
    }
    let item = session.or(errors.first());
    let message = item.map(|e| e.message.clone()).unwrap_or_default();
    if is_refusal(&message) {
        return Some(Error::SessionRefused {
            status,
            error_code: item.map(|e| e.error_code.clone()).unwrap_or_default(),
            message,
            hint: REFUSED_HINT.into(),
        });
    }
    Some(Error::SessionExpired(message))
}

fn is_refusal(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    REFUSALS.iter().any(|r| m.contains(r))
}

/// The identity service (`/services/oauth2/userinfo`, `/id/...`) answers an
/// expired token with `403` and the plain text `Bad_OAuth_Token`, not JSON.
/// (SalesforceMobileSDK-iOS #3398; SalesforceMobileSDK-Android PR #2430.)
pub fn from_identity_text(status: u16, body: &[u8]) -> Option<Error> {
    let expired = matches!(status, 401 | 403) && body.trim_ascii() == b"Bad_OAuth_Token";
    expired.then(|| Error::SessionExpired("the identity service answered Bad_OAuth_Token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str, message: &str) -> ApiErrorItem {
        ApiErrorItem {
            error_code: code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn expired_and_refused_are_told_apart() {
        let expired = [item("INVALID_SESSION_ID", "Session expired or invalid")];
        assert!(matches!(
            from_errors(401, &expired),
            Some(Error::SessionExpired(_))
        ));
        let refused = [item(
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API",
        )];
        match from_errors(401, &refused) {
            Some(Error::SessionRefused {
                status: 401,
                error_code,
                hint,
                ..
            }) => {
                assert_eq!(error_code, "INVALID_SESSION_ID");
                assert!(hint.contains("api"), "{hint}");
            }
            other => panic!("{other:?}"),
        }
        assert!(from_errors(400, &[item("MALFORMED_QUERY", "x")]).is_none());
        assert!(matches!(
            from_errors(401, &[]),
            Some(Error::SessionExpired(_))
        ));
    }

    #[test]
    fn bad_oauth_token_text_is_an_expiry() {
        assert!(matches!(
            from_identity_text(403, b"Bad_OAuth_Token\n"),
            Some(Error::SessionExpired(_))
        ));
        assert!(from_identity_text(403, b"Forbidden").is_none());
        assert!(from_identity_text(200, b"Bad_OAuth_Token").is_none());
    }
}
