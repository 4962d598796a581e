//! The OAuth 2.0 device flow on `/services/oauth2/token`, in Salesforce's
//! form: start with `response_type=device_code`, poll with
//! `grant_type=device&code=<device_code>` (salesforce-facts.md §2.6;
//! forcedotcom/sfdx-core src/deviceOauthService.ts). The polling errors
//! follow RFC 8628 §3.5. Salesforce's `error_description` texts for them are
//! not documented anywhere we could read; the ones below are our own wording.

use crate::errors::{oauth, ApiError};
use crate::state::{lock, random_string, Shared, ALNUM};
use crate::token::{success, Params};
use crate::Listener;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const USER_CODE_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Approved,
    Denied,
}

struct Device {
    user_code: String,
    started: Instant,
    last_poll: Option<Instant>,
    status: Status,
}

/// Device codes handed out and not yet redeemed, by device code.
#[derive(Default)]
pub(crate) struct Devices {
    codes: HashMap<String, Device>,
}

impl Devices {
    /// The user's answer on the verification page; false if no live code has
    /// this user code or it was answered already.
    pub(crate) fn answer(&mut self, user_code: &str, approve: bool, lifetime: Duration) -> bool {
        let device = self.codes.values_mut().find(|d| {
            d.user_code == user_code
                && d.status == Status::Pending
                && d.started.elapsed() < lifetime
        });
        match device {
            Some(d) => {
                d.status = if approve {
                    Status::Approved
                } else {
                    Status::Denied
                };
                true
            }
            None => false,
        }
    }
}

/// `response_type=device_code`: a device code for the client to poll with
/// and a user code for the person to type in at `verification_uri`.
pub(crate) fn start(st: &Shared, listener: &Listener, p: &Params) -> Result<Response, ApiError> {
    p.check_client(&st.credentials, false)?;
    let device_code = random_string(64, ALNUM);
    let user_code = random_string(8, USER_CODE_CHARS);
    let device = Device {
        user_code: user_code.clone(),
        started: Instant::now(),
        last_poll: None,
        status: Status::Pending,
    };
    lock(&st.devices).codes.insert(device_code.clone(), device);
    // Whole seconds, rounded up, so a client never polls sooner than allowed.
    let interval = st.knobs.device_interval().as_millis().div_ceil(1000);
    let body = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{}/setup/connect", listener.base_url),
        "interval": interval,
    });
    Ok(crate::errors::json(StatusCode::OK, &body))
}

/// `grant_type=device`: pending, slow down, denied, expired, or the tokens
/// (with a new refresh-token family). A redeemed code is gone; a denied or
/// expired one keeps saying so.
pub(crate) fn poll(st: &Shared, listener: &Listener, p: &Params) -> Result<Response, ApiError> {
    p.check_client(&st.credentials, false)?;
    let code = p.get("code").unwrap_or("");
    let interval = st.knobs.device_interval();
    let lifetime = st.knobs.device_code_lifetime();
    let mut devices = lock(&st.devices);
    let Some(device) = devices.codes.get_mut(code) else {
        // RFC 6749 §5.2: an invalid, used or unknown grant is `invalid_grant`.
        return Err(oauth("invalid_grant", "invalid device code"));
    };
    if device.started.elapsed() >= lifetime {
        return Err(oauth("expired_token", "device code expired"));
    }
    let too_soon = device.last_poll.is_some_and(|t| t.elapsed() < interval);
    device.last_poll = Some(Instant::now());
    if too_soon {
        return Err(oauth("slow_down", "polling too frequently"));
    }
    match device.status {
        Status::Pending => Err(oauth("authorization_pending", "authorization pending")),
        Status::Denied => Err(oauth("access_denied", "end-user denied authorization")),
        Status::Approved => {
            devices.codes.remove(code);
            drop(devices);
            let (refresh_token, family) = st.new_refresh_family();
            Ok(success(st, listener, Some(family), Some(&refresh_token)))
        }
    }
}
