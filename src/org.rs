//! What the org says about itself: objects, limits, the user, API versions.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::rest::{self, CallRequest, Json};
use crate::session::Session;
use serde_json::Value;

fn get_json(t: &mut dyn Transport, s: &Session, path: String) -> Result<Json, Error> {
    Ok(rest::execute(t, s, &CallRequest::new(Method::Get, path))?.into())
}

/// Every object of the org (`/sobjects`), as JSON.
pub fn describe_global(t: &mut dyn Transport, s: &Session) -> Result<Json, Error> {
    get_json(t, s, format!("{}/sobjects", s.data_path()))
}

/// One object's metadata with its fields (`/sobjects/{name}/describe`), as
/// JSON.
pub fn describe_sobject(t: &mut dyn Transport, s: &Session, sobject: &str) -> Result<Json, Error> {
    let name = crate::records::api_name("sobject", sobject)?;
    get_json(t, s, format!("{}/sobjects/{name}/describe", s.data_path()))
}

/// The org's limits (`/limits`), as JSON.
pub fn limits(t: &mut dyn Transport, s: &Session) -> Result<Json, Error> {
    get_json(t, s, format!("{}/limits", s.data_path()))
}

/// The session user's OpenID Connect profile (`/services/oauth2/userinfo`),
/// as JSON.
pub fn userinfo(t: &mut dyn Transport, s: &Session) -> Result<Json, Error> {
    get_json(t, s, "/services/oauth2/userinfo".into())
}

/// One entry of the org's API versions list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersion {
    /// The version, e.g. `66.0`.
    pub version: String,
    /// The release's name, e.g. `Spring '26`.
    pub label: String,
    /// Its resource path, e.g. `/services/data/v66.0`.
    pub url: String,
}

/// The API versions the org serves, oldest first.
pub fn api_versions(t: &mut dyn Transport, s: &Session) -> Result<Vec<ApiVersion>, Error> {
    let resp = rest::execute(t, s, &CallRequest::new(Method::Get, "/services/data/"))?;
    let list = resp.json()?;
    let entries = list.as_array().ok_or_else(|| {
        Error::unexpected(
            resp.status,
            None,
            "the versions list is not a JSON array",
            resp.body.as_bytes(),
        )
    })?;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut versions: Vec<ApiVersion> = entries
        .iter()
        .map(|v| ApiVersion {
            version: text(v, "version"),
            label: text(v, "label"),
            url: text(v, "url"),
        })
        .filter(|v| !v.version.is_empty())
        .collect();
    versions.sort_by_key(|v| version_key(&v.version));
    Ok(versions)
}

/// `62.0` -> (62, 0), so 100.0 sorts after 99.0.
pub fn version_key(v: &str) -> (u32, u32) {
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
}

/// Runs a SOSL search (`FIND {Acme} RETURNING Account(Id, Name)`) and
/// returns the `searchRecords` JSON array.
pub fn search(t: &mut dyn Transport, s: &Session, sosl: &str) -> Result<Json, Error> {
    if !sosl.trim_start().to_ascii_uppercase().starts_with("FIND") {
        return Err(Error::request(
            "sosl",
            "must start with FIND, e.g. FIND {Acme} RETURNING Account(Id, Name)",
        ));
    }
    let mut req = CallRequest::new(Method::Get, format!("{}/search", s.data_path()));
    req.query.push(("q".into(), sosl.trim().to_string()));
    let resp = rest::execute(t, s, &req)?;
    // Current versions wrap the list in `searchRecords`; old ones sent it bare.
    let found = |list: Value| Json {
        body: list.to_string(),
        limit_info: resp.limit_info.clone(),
    };
    match resp.json()? {
        Value::Object(mut o) => match o.remove("searchRecords") {
            Some(list @ Value::Array(_)) => Ok(found(list)),
            _ => Err(Error::unexpected(
                resp.status,
                None,
                "search answered without `searchRecords`",
                resp.body.as_bytes(),
            )),
        },
        list @ Value::Array(_) => Ok(found(list)),
        _ => Err(Error::unexpected(
            resp.status,
            None,
            "search answered with neither a list nor an object",
            resp.body.as_bytes(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_sort_numerically() {
        assert!(super::version_key("100.0") > super::version_key("99.0"));
        assert!(super::version_key("62.0") > super::version_key("9.0"));
    }
}
