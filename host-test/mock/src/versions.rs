//! `/services/data/` (the version list) and `/services/data/vNN.N/` (the resource map).

use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use crate::errors;

/// Oldest and newest versions served: 21.0–30.0 were retired in Summer '25
/// (help.salesforce.com article 005321531); 68.0 (Winter '27) is the newest GA
/// version (REST guide, "Discovery resource").
pub(crate) const MIN_VERSION: u32 = 31;
pub(crate) const MAX_VERSION: u32 = 68;

/// The request's API version as written in the URL without the `v`, e.g. `"62.0"`.
#[derive(Clone, Debug)]
pub(crate) struct ApiVersion(pub String);

impl ApiVersion {
    pub(crate) fn major(&self) -> u32 {
        self.0
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// Three releases a year; v20.0 was Winter '11.
fn label(v: u32) -> String {
    let i = v - 20;
    let season = ["Winter", "Spring", "Summer"][(i % 3) as usize];
    format!("{season} '{:02}", 11 + i / 3)
}

/// Unauthenticated, and without `Sforce-Limit-Info`, like the real one.
pub(crate) async fn list() -> Response {
    let versions: Vec<_> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| {
            json!({
                "label": label(v),
                "url": format!("/services/data/v{v}.0"),
                "version": format!("{v}.0"),
            })
        })
        .collect();
    errors::json(StatusCode::OK, &versions)
}

pub(crate) async fn resources(Extension(v): Extension<ApiVersion>) -> Response {
    let base = format!("/services/data/v{}", v.0);
    let map: serde_json::Map<_, _> = [
        "sobjects",
        "query",
        "queryAll",
        "search",
        "limits",
        "composite",
        "tooling",
        "recent",
        "analytics",
        "connect",
        "jobs",
    ]
    .iter()
    .map(|r| (r.to_string(), json!(format!("{base}/{r}"))))
    .collect();
    errors::json(StatusCode::OK, &map)
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_follow_the_release_train() {
        assert_eq!(super::label(62), "Winter '25");
        assert_eq!(super::label(59), "Winter '24");
        assert_eq!(super::label(64), "Summer '25");
        assert_eq!(super::label(68), "Winter '27");
    }
}
