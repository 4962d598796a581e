//! `rest::interpret` on any status, headers and body, and `rest::error_item`
//! on any JSON the body holds.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use fuzz_common::*;
use libfuzzer_sys::fuzz_target;
use salesforce_connector::error::Error;
use salesforce_connector::http::HttpResponse;
use salesforce_connector::limits;
use salesforce_connector::rest;
use salesforce_connector::secret::{Redactor, Secret};
use serde_json::{json, Value};

/// The session's secrets, as `rest::execute` registers them; `$r0`/`$r1`,
/// and an access token of no Salesforce shape (`$r2`).
const SECRETS: [&str; 3] = [ACCESS_TOKEN, REFRESH_TOKEN, OPAQUE_TOKEN];

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(head) = RestHead::arbitrary(&mut u) else {
        return;
    };
    let (headers, body) = split_response(&expand(u.take_rest(), &SECRETS));
    let resp = HttpResponse {
        status: head.status,
        headers,
        body,
    };
    let mut redactor = Redactor::new();
    for s in SECRETS {
        redactor.add(&Secret::new(s));
    }
    let status = resp.status;
    let success = (200..300).contains(&status);
    let limit_info = resp.header("sforce-limit-info").and_then(limits::parse);
    // Delta-seconds only: digits, nothing else (no sign, no date).
    let retry_after: Option<u32> = resp
        .header("retry-after")
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok());
    let html = resp
        .content_type()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/html"));
    let text = std::str::from_utf8(&resp.body).ok();
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();

    match &rest::interpret(resp.clone(), &redactor) {
        Ok(r) => {
            assert!(success && !html, "status {status} (html {html}) accepted");
            assert_eq!(Some(r.body.as_str()), text);
            assert_eq!(r.status, status);
            assert_eq!(r.headers, resp.headers);
            assert_eq!(r.limit_info, limit_info);
        }
        Err(e) => {
            assert_no_leak(e, &SECRETS);
            check_excerpt(e);
            if status == 401 {
                assert!(
                    matches!(e, Error::SessionExpired(_) | Error::SessionRefused { .. }),
                    "401 gave {e:?}"
                );
            }
            match e {
                Error::Unexpected { status: s, .. } => {
                    assert_eq!(*s, status);
                    if success {
                        assert!(html || text.is_none(), "a 2xx UTF-8 body was refused: {e}");
                    } else {
                        assert!(status != 401 && status != 429, "{status} gave {e:?}");
                    }
                }
                _ if success => panic!("status {status} gave {e:?}"),
                Error::Api {
                    status: s,
                    errors,
                    limit_info: l,
                } => {
                    assert_eq!(*s, status);
                    assert_ne!(status, 429);
                    assert!(!errors.is_empty());
                    // The same, but for the appName, which is server text.
                    let mut expected = limit_info.clone();
                    if let Some(app) = expected.as_mut().and_then(|i| i.per_app_api_usage.as_mut())
                    {
                        app.app_name = redactor.scrub(&app.app_name);
                    }
                    assert_eq!(*l, expected);
                    for item in errors {
                        assert_ne!(item.error_code, "INVALID_SESSION_ID");
                        assert_ne!(item.error_code, "REQUEST_LIMIT_EXCEEDED");
                    }
                }
                Error::RateLimited {
                    status: s,
                    retry_after_seconds,
                    ..
                } => {
                    assert_eq!(*s, status);
                    assert_eq!(*retry_after_seconds, retry_after);
                }
                Error::SessionExpired(_) | Error::SessionRefused { .. } => {}
                Error::MultipleChoices(_) => assert_eq!(status, 300),
                other => panic!("status {status} gave {other:?}"),
            }
        }
    }

    if let Some(v) = &parsed {
        check_error_item(v);
        if let Value::Array(items) = v {
            for item in items {
                check_error_item(item);
                // sObject Collections: `[{"success":false,"errors":[...]}]`
                if let Some(Value::Array(nested)) = item.get("errors") {
                    nested.iter().for_each(check_error_item);
                }
            }
        }
    }
});

/// `error_item` reads the first of `errorCode`, `statusCode`, `error` (a
/// string, or there is no item), the message from `message` or
/// `error_description`, and the string entries of `fields`.
fn check_error_item(v: &Value) {
    let got = rest::error_item(v);
    let Some(o) = v.as_object() else {
        assert_eq!(got, None);
        return;
    };
    let code = ["errorCode", "statusCode", "error"]
        .iter()
        .find_map(|k| o.get(*k))
        .and_then(Value::as_str);
    let Some(item) = got else {
        assert_eq!(code, None, "no item from {v}");
        return;
    };
    assert_eq!(Some(item.error_code.as_str()), code);
    let message = match o.get("message") {
        Some(m) => m.as_str(),
        None => o.get("error_description").and_then(Value::as_str),
    };
    assert_eq!(item.message, message.unwrap_or(""));
    let fields: Vec<&str> = o
        .get("fields")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(item.fields, fields);
    let again = json!({
        "errorCode": item.error_code,
        "message": item.message,
        "fields": item.fields,
    });
    assert_eq!(rest::error_item(&again).as_ref(), Some(&item));
}
