//! The identity URL: `https://login.salesforce.com/id/{orgId}/{userId}`.

#[allow(unused_imports)]
use crate::prelude::*;

fn is_sf_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The org id (`00D…`) and user id (`005…`) in an identity URL.
pub fn parse(id_url: &str) -> Option<(String, String)> {
    let path = id_url.split(['?', '#']).next()?;
    let mut parts = path.rsplit('/');
    let user = parts.next()?;
    let org = parts.next()?;
    (parts.next()? == "id" && is_sf_id(org) && is_sf_id(user))
        .then(|| (org.to_string(), user.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids() {
        assert_eq!(
            super::parse("https://login.salesforce.com/id/00D58000000arpqEAA/00558000000yFyDAAU"),
            Some(("00D58000000arpqEAA".into(), "00558000000yFyDAAU".into()))
        );
        assert_eq!(super::parse("https://x/id/00D/005"), None);
        assert_eq!(super::parse(""), None);
        assert_eq!(super::parse("/"), None);
    }
}
