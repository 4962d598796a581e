//! `identity::parse`: org and user ids from an identity URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salesforce_connector::identity;

fn is_sf_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

const ORG: &str = "00D58000000arpqEAA";
const USER: &str = "00558000000yFyDAAU";

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((org, user)) = identity::parse(url) {
        assert!(is_sf_id(&org) && is_sf_id(&user), "{org:?} {user:?}");
        // The ids are the last two segments of the path, after `id`.
        let path = url.split(['?', '#']).next().unwrap_or("");
        let tail = format!("id/{org}/{user}");
        assert!(path.ends_with(&tail), "{path:?}");
        let before = &path[..path.len() - tail.len()];
        assert!(before.is_empty() || before.ends_with('/'), "{path:?}");
    }
    // Any base, and any query or fragment, around a well-formed id path.
    let base = url.split(['?', '#']).next().unwrap_or("");
    let (org15, user15) = (&ORG[..15], &USER[..15]);
    for (built, org, user) in [
        (format!("{base}/id/{ORG}/{USER}"), ORG, USER),
        (format!("{base}/id/{ORG}/{USER}?{url}"), ORG, USER),
        (format!("{base}/id/{org15}/{user15}#{url}"), org15, user15),
    ] {
        assert_eq!(
            identity::parse(&built),
            Some((org.to_string(), user.to_string())),
            "{built:?}"
        );
    }
});
