//! `Sforce-Limit-Info`: `api-usage=25/15000; per-app-api-usage=17/250(appName=x)`.

#[allow(unused_imports)]
use crate::prelude::*;

/// A used/max counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Used so far.
    pub used: u64,
    /// The limit.
    pub max: u64,
}

/// The counter of one connected app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppUsage {
    /// Used so far by the app.
    pub used: u64,
    /// The app's limit.
    pub max: u64,
    /// The app's name, as the server sent it.
    pub app_name: String,
}

/// The parsed `Sforce-Limit-Info` header: the org's API usage reported with
/// an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitInfo {
    /// `api-usage`: the org's API requests in the last 24 hours.
    pub api_usage: Option<Usage>,
    /// `per-app-api-usage`: the calling app's requests, when the org caps
    /// them.
    pub per_app_api_usage: Option<AppUsage>,
    /// `api-bursts`, when the server reports it.
    pub api_bursts: Option<Usage>,
}

fn counter(value: &str) -> Option<Usage> {
    let (used, max) = value.trim().split_once('/')?;
    Some(Usage {
        used: used.trim().parse().ok()?,
        max: max.trim().parse().ok()?,
    })
}

/// Parses the header. Unknown or malformed parts are skipped; `None` when
/// nothing was understood.
pub fn parse(header: &str) -> Option<LimitInfo> {
    let mut info = LimitInfo::default();
    for part in header.split([';', ',']) {
        let Some((name, value)) = part.split_once('=') else {
            continue;
        };
        match name.trim() {
            // A malformed repeat must not wipe a good value: `or`.
            "api-usage" => info.api_usage = counter(value).or(info.api_usage),
            "api-bursts" => info.api_bursts = counter(value).or(info.api_bursts),
            "per-app-api-usage" => {
                // `17/250(appName=x)`: split_once('=') above stopped at the
                // first `=`, so the app name is still inside `value`.
                let (counts, rest) = value.split_once('(').unwrap_or((value, ""));
                let name = rest
                    .trim_end()
                    .trim_end_matches(')')
                    .strip_prefix("appName=")
                    .unwrap_or("");
                let parsed = counter(counts).map(|u| AppUsage {
                    used: u.used,
                    max: u.max,
                    app_name: name.to_string(),
                });
                info.per_app_api_usage = parsed.or(info.per_app_api_usage.take());
            }
            _ => {}
        }
    }
    (info != LimitInfo::default()).then_some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_repeat_keeps_the_good_value() {
        let info = parse("api-usage=1/2; api-usage=x").unwrap();
        assert_eq!(info.api_usage, Some(Usage { used: 1, max: 2 }));
    }

    #[test]
    fn three_known_forms() {
        assert_eq!(
            parse("api-usage=18/5000").unwrap().api_usage,
            Some(Usage {
                used: 18,
                max: 5000
            })
        );
        let both =
            parse("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)")
                .unwrap();
        assert_eq!(
            both.per_app_api_usage,
            Some(AppUsage {
                used: 17,
                max: 250,
                app_name: "sample-connected-app".into()
            })
        );
        let bursts = parse("api-usage=110018/100000; api-bursts=1/750").unwrap();
        assert_eq!(bursts.api_bursts, Some(Usage { used: 1, max: 750 }));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for junk in [
            "",
            "api-usage",
            "api-usage=/",
            "api-usage=99999999999999999999999/1",
            "=;=;(",
            "per-app-api-usage=((",
        ] {
            assert_eq!(parse(junk), None, "{junk}");
        }
    }
}
