//! The session an adapter keeps: logged in at the first call of an instance
//! from the environment's config, kept for as long as the host keeps the
//! instance, and renewed once when the org says it expired.

use crate::bindings::salesforce::connector::connector::{authenticate, parse_sfdx_url, renew};
use crate::bindings::salesforce::connector::tools::invoke_within;
use crate::bindings::salesforce::connector::types::{Config, Error, Session};
use crate::settings::{self, Env};
use alloc::string::String;
use core::cell::RefCell;

/// The session of this instance. A component instance runs one call at a
/// time on one thread, so a `RefCell` is enough.
struct Kept(RefCell<Option<Session>>);
// SAFETY: wasm32 components are single-threaded; no reference escapes a call.
unsafe impl Sync for Kept {}
static SESSION: Kept = Kept(RefCell::new(None));

/// This call's environment (a host may change it between calls; reading it
/// is cheap).
fn environment() -> Env {
    Env::new(crate::bindings::wasi::cli::environment::get_environment())
}

/// The config from the environment.
pub fn config(env: &Env) -> Result<Config, Error> {
    let sfdx = match (settings::grant_kind(env)?, env.get("SF_AUTH_URL")) {
        ("sfdx-url", Some(url)) => Some(parse_sfdx_url(&url).map_err(|e| named(e, "SF_AUTH_URL"))?),
        _ => None,
    };
    settings::config(env, sfdx)
}

/// An `invalid-config` from the connector, naming the variable the user sets.
fn named(e: Error, default: &str) -> Error {
    match e {
        Error::InvalidConfig(mut p) => {
            p.field = settings::variable_of(&p.field).unwrap_or(default).into();
            Error::InvalidConfig(p)
        }
        other => other,
    }
}

/// The kept session, or a new one.
fn session(config: &Config) -> Result<Session, Error> {
    if let Some(s) = SESSION.0.borrow().as_ref() {
        return Ok(s.clone());
    }
    let fresh = authenticate(config).map_err(|e| named(e, "SF_LOGIN_URL"))?;
    *SESSION.0.borrow_mut() = Some(fresh.clone());
    Ok(fresh)
}

/// Runs the connector's tool `name` with `arguments` (a JSON object's text)
/// within the environment's guardrails; an expired session is renewed once
/// and the call made again. A refused session is not renewed (the org said
/// no).
pub fn invoke(name: &str, arguments: &str) -> Result<String, Error> {
    let env = environment();
    let guardrails = settings::guardrails(&env)?;
    let config = config(&env)?;
    let current = session(&config)?;
    let connector_invoke =
        |s: &Session, name: &str, arguments: &str| invoke_within(s, &guardrails, name, arguments);
    match connector_invoke(&current, name, arguments) {
        Err(Error::SessionExpired(_)) => {
            *SESSION.0.borrow_mut() = None;
            let renewed = renew(&config, &current)?;
            *SESSION.0.borrow_mut() = Some(renewed.clone());
            connector_invoke(&renewed, name, arguments)
        }
        other => other,
    }
}
