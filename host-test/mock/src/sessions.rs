//! Issued OAuth tokens: access tokens (sessions) and refresh tokens grouped
//! in families, with refresh-token rotation, reuse detection and revocation.
//!
//! A family is what one authorization produced: its refresh tokens (one
//! after another when rotation is on) and every access token they minted.
//! Salesforce revokes the whole family when a used refresh token comes back:
//! "results in the immediate revocation of the current refresh token and all
//! associated access tokens" (help.salesforce.com article 005316711).

use crate::state::{random_string, ALNUM, ORG_ID};
use std::collections::HashMap;
use std::time::Instant;

const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

/// One authorization's tokens; see the module comment.
pub(crate) type Family = u64;

struct Access {
    issued: Instant,
    /// The `expire_all_sessions` epoch it was issued in.
    epoch: u64,
    family: Option<Family>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    Active,
    /// Presented once with rotation on; presenting it again is reuse.
    Used,
    Revoked,
}

struct Refresh {
    family: Family,
    state: RefreshState,
}

/// Why a refresh token was not accepted.
pub(crate) enum Refused {
    /// Never issued (or mistyped).
    Unknown,
    /// Used or revoked before; its family is revoked now.
    Reused,
}

#[derive(Default)]
pub(crate) struct Tokens {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    next_family: Family,
    reuses: usize,
    revocations: usize,
}

impl Tokens {
    /// Mint an access token, in `family` when a refresh token stands behind it.
    pub(crate) fn issue_access(
        &mut self,
        issued: Instant,
        epoch: u64,
        family: Option<Family>,
    ) -> String {
        let token = format!("{}!AQ{}", &ORG_ID[..15], random_string(96, TOKEN_CHARS));
        let access = Access {
            issued,
            epoch,
            family,
        };
        self.access.insert(token.clone(), access);
        token
    }

    /// When `token` was issued and in which epoch, if it is still live.
    pub(crate) fn access(&self, token: &str) -> Option<(Instant, u64)> {
        self.access.get(token).map(|a| (a.issued, a.epoch))
    }

    /// A new family and its first refresh token.
    pub(crate) fn new_family(&mut self) -> (String, Family) {
        let token = format!("5Aep861mock{}", random_string(70, ALNUM));
        let family = self.register(&token);
        (token, family)
    }

    /// Make `token` the first refresh token of a new family.
    pub(crate) fn register(&mut self, token: &str) -> Family {
        let family = self.next_family;
        self.next_family += 1;
        let entry = Refresh {
            family,
            state: RefreshState::Active,
        };
        self.refresh.insert(token.to_string(), entry);
        family
    }

    /// The refresh-token grant: the family to mint an access token in and,
    /// with `rotate`, the family's next refresh token (the presented one is used up).
    pub(crate) fn redeem(
        &mut self,
        token: &str,
        rotate: bool,
    ) -> Result<(Family, Option<String>), Refused> {
        let Some(entry) = self.refresh.get_mut(token) else {
            return Err(Refused::Unknown);
        };
        let family = entry.family;
        if entry.state != RefreshState::Active {
            self.reuses += 1;
            self.revoke_family(family);
            return Err(Refused::Reused);
        }
        if !rotate {
            return Ok((family, None));
        }
        entry.state = RefreshState::Used;
        let next = format!("5Aep861mock{}", random_string(70, ALNUM));
        let fresh = Refresh {
            family,
            state: RefreshState::Active,
        };
        self.refresh.insert(next.clone(), fresh);
        Ok((family, Some(next)))
    }

    /// `/services/oauth2/revoke`: a refresh token takes its family with it,
    /// an access token only itself. False if `token` is not live.
    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        let revoked = if self.access.remove(token).is_some() {
            true
        } else {
            match self.refresh.get(token) {
                Some(r) if r.state != RefreshState::Revoked => {
                    let family = r.family;
                    self.revoke_family(family);
                    true
                }
                _ => false,
            }
        };
        if revoked {
            self.revocations += 1;
        }
        revoked
    }

    fn revoke_family(&mut self, family: Family) {
        for r in self.refresh.values_mut().filter(|r| r.family == family) {
            r.state = RefreshState::Revoked;
        }
        self.access.retain(|_, a| a.family != Some(family));
    }

    pub(crate) fn reuses(&self) -> usize {
        self.reuses
    }

    pub(crate) fn revocations(&self) -> usize {
        self.revocations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_revokes_the_family_and_its_access_tokens() {
        let mut t = Tokens::default();
        let (first, family) = t.new_family();
        let access = t.issue_access(Instant::now(), 0, Some(family));
        let other = t.issue_access(Instant::now(), 0, None);
        let (_, next) = t.redeem(&first, true).ok().unwrap();
        let next = next.unwrap();
        assert!(matches!(t.redeem(&first, true), Err(Refused::Reused)));
        assert!(t.access(&access).is_none(), "the family's access token");
        assert!(t.access(&other).is_some(), "another family's stays");
        assert!(matches!(t.redeem(&next, true), Err(Refused::Reused)));
        assert_eq!(t.reuses(), 2);
    }

    #[test]
    fn without_rotation_a_refresh_token_is_reusable() {
        let mut t = Tokens::default();
        let (rt, _) = t.new_family();
        for _ in 0..3 {
            assert!(matches!(t.redeem(&rt, false), Ok((_, None))));
        }
        assert!(t.revoke(&rt));
        assert!(matches!(t.redeem(&rt, false), Err(Refused::Reused)));
        assert!(!t.revoke(&rt), "already revoked");
        assert!(matches!(t.redeem("5Aepnope", false), Err(Refused::Unknown)));
    }
}
