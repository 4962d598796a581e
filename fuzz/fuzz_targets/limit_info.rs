//! `limits::parse`: the `Sforce-Limit-Info` header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salesforce_connector::limits::{self, LimitInfo};

/// The header as Salesforce writes it.
fn render(i: &LimitInfo) -> String {
    let mut parts = Vec::new();
    if let Some(u) = i.api_usage {
        parts.push(format!("api-usage={}/{}", u.used, u.max));
    }
    if let Some(a) = &i.per_app_api_usage {
        parts.push(format!(
            "per-app-api-usage={}/{}(appName={})",
            a.used, a.max, a.app_name
        ));
    }
    if let Some(b) = i.api_bursts {
        parts.push(format!("api-bursts={}/{}", b.used, b.max));
    }
    parts.join("; ")
}

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let info = limits::parse(header);
    if let Some(i) = &info {
        assert_ne!(*i, LimitInfo::default(), "Some(nothing understood)");
        if let Some(a) = &i.per_app_api_usage {
            assert!(!a.app_name.contains([';', ',']), "{:?}", a.app_name);
        }
        let rendered = render(i);
        assert_eq!(
            limits::parse(&rendered).as_ref(),
            Some(i),
            "rendered as {rendered:?}"
        );
    }
    // Unknown parts are skipped, wherever they are.
    assert_eq!(limits::parse(&format!("{header}; x-unknown=1/2")), info);
    assert_eq!(limits::parse(&format!("x-unknown=1/2, {header}")), info);
});
