//! sObject Tree (`/composite/tree/{SObject}`): records with their children,
//! nested under child relationship names (`"Contacts": {"records": […]}`),
//! created in one call, all or nothing. Each record names its
//! `attributes.type` and a `referenceId` that its result comes back under.
//!
//! The documented limits are checked before anything is sent (REST API
//! guide, "sObject Tree" and "sObject Tree Request Body"): at most 200
//! records in all, 5 levels, 5 different objects; root records of the URL's
//! object; referenceIds unique, of letters, digits and `_`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{ApiErrorItem, Error};
use crate::http::{Method, Transport};
use crate::limits::{self, LimitInfo};
use crate::records::api_name;
use crate::rest::{self, CallRequest};
use crate::secret::Redactor;
use crate::session::Session;
use alloc::collections::BTreeSet;
use serde_json::Value;

/// Records per request, every level counted.
pub const MAX_RECORDS: usize = 200;
/// Levels of nesting, the roots being the first.
pub const MAX_LEVELS: usize = 5;
/// Different objects per request.
pub const MAX_TYPES: usize = 5;

/// The result for one record, under its `referenceId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeRecordResult {
    /// The `attributes.referenceId` the record was sent with.
    pub reference_id: String,
    /// The new record's id, when it was created.
    pub id: Option<String>,
    /// Why the record was refused (its `statusCode` is in `error_code`).
    pub errors: Vec<ApiErrorItem>,
}

/// What one tree request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeResult {
    /// True when nothing was created: `results` then lists only the records
    /// that were refused, with their errors.
    pub has_errors: bool,
    /// On success one entry per record (roots first, then each level), on
    /// failure one per refused record.
    pub results: Vec<TreeRecordResult>,
    /// The API usage reported with the answer.
    pub limit_info: Option<LimitInfo>,
}

/// What the walk over the records has counted so far.
#[derive(Default)]
struct Census {
    records: usize,
    types: BTreeSet<String>,
    reference_ids: BTreeSet<String>,
}

fn refuse(message: String) -> Error {
    Error::request("records-json", message)
}

/// A child relationship's value: `{"records": [...]}` and nothing else.
fn children(value: &Value) -> Option<&Vec<Value>> {
    let map = value.as_object()?;
    match (map.len(), map.get("records")) {
        (1, Some(Value::Array(list))) => Some(list),
        _ => None,
    }
}

/// Checks one level of records (and, through their child relationships,
/// the levels below); `root` is the URL's object on the first level.
fn walk(
    list: &[Value],
    level: usize,
    root: Option<&str>,
    at: &str,
    c: &mut Census,
) -> Result<(), Error> {
    if level > MAX_LEVELS {
        return Err(refuse(format!(
            "{at}: records nest more than {MAX_LEVELS} levels deep"
        )));
    }
    for (i, record) in list.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let map = record
            .as_object()
            .ok_or_else(|| refuse(format!("{at} is not an object")))?;
        let attributes = &map.get("attributes").cloned().unwrap_or(Value::Null);
        let ty = attributes["type"].as_str().ok_or_else(|| {
            refuse(format!("{at} needs `attributes.type`, e.g. {{\"type\": \"Account\", \"referenceId\": \"ref1\"}}"))
        })?;
        api_name("records-json", ty)?;
        if let Some(root) = root {
            if !ty.eq_ignore_ascii_case(root) {
                return Err(refuse(format!(
                    "{at} is a {ty}; the top-level records must be {root}, the object of the call"
                )));
            }
        }
        let r = attributes["referenceId"].as_str().unwrap_or_default();
        let valid = r.starts_with(|c: char| c.is_ascii_alphanumeric())
            && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid || !c.reference_ids.insert(r.to_string()) {
            return Err(refuse(format!(
                "{at}: `attributes.referenceId` `{r}` must be unique in the request, of letters, \
                 digits and _, starting with a letter or digit"
            )));
        }
        c.records += 1;
        c.types.insert(ty.to_ascii_lowercase());
        for (key, value) in map {
            if let Some(list) = children(value) {
                walk(list, level + 1, None, &format!("{at}.{key}.records"), c)?;
            }
        }
    }
    Ok(())
}

/// Parses `records_json` and checks it against the limits and rules.
pub fn parse_records(sobject: &str, records_json: &str) -> Result<Value, Error> {
    let sobject = api_name("sobject", sobject)?;
    let list = match serde_json::from_str::<Value>(records_json) {
        Ok(Value::Array(list)) if !list.is_empty() => list,
        Ok(_) => {
            return Err(refuse(
                "must be a non-empty JSON array of record objects".into(),
            ))
        }
        Err(e) => return Err(refuse(format!("is not valid JSON ({e})"))),
    };
    let mut census = Census::default();
    walk(&list, 1, Some(sobject), "records", &mut census)?;
    if census.records > MAX_RECORDS {
        return Err(refuse(format!(
            "{} records in all; a tree request takes at most {MAX_RECORDS}",
            census.records
        )));
    }
    if census.types.len() > MAX_TYPES {
        return Err(refuse(format!(
            "{} different objects; a tree request takes at most {MAX_TYPES}",
            census.types.len()
        )));
    }
    Ok(serde_json::json!({ "records": list }))
}

fn parse_answer(
    status: u16,
    value: &Value,
    body: &[u8],
    limit_info: Option<LimitInfo>,
) -> Result<TreeResult, Error> {
    let bad =
        |why: &str| Error::unexpected(status, None, format!("sObject Tree answer: {why}"), body);
    let has_errors = value["hasErrors"]
        .as_bool()
        .ok_or_else(|| bad("no `hasErrors`"))?;
    let results = value["results"]
        .as_array()
        .ok_or_else(|| bad("no `results` array"))?
        .iter()
        .map(|r| TreeRecordResult {
            reference_id: r["referenceId"].as_str().unwrap_or_default().to_string(),
            id: r["id"].as_str().map(str::to_string),
            errors: r["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(rest::error_item).collect())
                .unwrap_or_default(),
        })
        .collect();
    Ok(TreeResult {
        has_errors,
        results,
        limit_info,
    })
}

/// Creates the records of `records_json` with their children in one call,
/// all or nothing. A refusal by Salesforce is a result with `has_errors`
/// (its 400 carries the records' errors), not an error.
pub fn create_tree(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    records_json: &str,
) -> Result<TreeResult, Error> {
    let body = parse_records(sobject, records_json)?;
    let path = format!(
        "{}/composite/tree/{}",
        s.data_path(),
        api_name("sobject", sobject)?
    );
    let mut req = CallRequest::new(Method::Post, path);
    req.body = Some(body.to_string());
    let http = rest::build(s, &req)?;
    let resp = crate::retry::send(t, &http, &s.limits.retry)?;
    if resp.status == 400 {
        if let Ok(value) = serde_json::from_slice::<Value>(&resp.body) {
            if value.get("hasErrors").is_some() {
                let limit_info = resp.header("sforce-limit-info").and_then(limits::parse);
                return parse_answer(400, &value, &resp.body, limit_info);
            }
        }
    }
    let ok = rest::interpret(resp, &Redactor::new().with_session(s))?;
    parse_answer(ok.status, &ok.json()?, ok.body.as_bytes(), ok.limit_info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::Scripted;
    use crate::http::HttpResponse;
    use serde_json::json;

    fn record(ty: &str, r: &str) -> Value {
        json!({"attributes": {"type": ty, "referenceId": r}, "Name": r})
    }

    fn message(result: Result<Value, Error>) -> String {
        match result {
            Err(Error::InvalidRequest { field, message }) => {
                assert_eq!(field, "records-json");
                message
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_tree_within_the_limits_passes() {
        let mut root = record("Account", "a1");
        root["Contacts"] = json!({"records": [record("Contact", "c1"), record("Contact", "c2")]});
        let body = parse_records(
            "Account",
            &json!([root, record("Account", "a2")]).to_string(),
        );
        assert_eq!(body.unwrap()["records"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_limits_and_rules_are_checked_before_sending() {
        let many: Vec<Value> = (0..201)
            .map(|i| record("Account", &format!("r{i}")))
            .collect();
        let m = message(parse_records("Account", &Value::Array(many).to_string()));
        assert!(m.contains("201 records"), "{m}");

        let mut deep = record("Account", "l6");
        for level in (1..6).rev() {
            let mut parent = record("Account", &format!("l{level}"));
            parent["ChildAccounts"] = json!({"records": [deep]});
            deep = parent;
        }
        let m = message(parse_records("Account", &json!([deep]).to_string()));
        assert!(m.contains("more than 5 levels"), "{m}");

        let mut wide = record("Account", "a");
        let kids: Vec<Value> = ["B__c", "C__c", "D__c", "E__c", "F__c"]
            .iter()
            .map(|t| record(t, &t.to_lowercase().replace("__", "_")))
            .collect();
        wide["Kids"] = json!({ "records": kids });
        let m = message(parse_records("Account", &json!([wide]).to_string()));
        assert!(m.contains("6 different objects"), "{m}");

        let m = message(parse_records(
            "Account",
            &json!([record("Contact", "c")]).to_string(),
        ));
        assert!(m.contains("must be Account"), "{m}");
        let twice = json!([record("Account", "x"), record("Account", "x")]);
        assert!(message(parse_records("Account", &twice.to_string())).contains("unique"));
        let untyped = json!([{"attributes": {"referenceId": "x"}, "Name": "A"}]);
        assert!(message(parse_records("Account", &untyped.to_string())).contains("attributes.type"));
        assert!(message(parse_records("Account", "[]")).contains("non-empty"));
    }

    #[test]
    fn a_400_with_the_records_errors_is_a_result_not_an_error() {
        let body = json!({"hasErrors": true, "results": [{"referenceId": "c1", "errors": [
            {"statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid", "fields": ["Email"]}]}]});
        let mut t = Scripted::new(vec![Ok(HttpResponse {
            status: 400,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })]);
        let s = crate::session::fixture();
        let records = json!([record("Account", "a1")]).to_string();
        let out = create_tree(&mut t, &s, "Account", &records).unwrap();
        assert!(out.has_errors);
        assert_eq!(out.results[0].reference_id, "c1");
        assert_eq!(out.results[0].errors[0].error_code, "INVALID_EMAIL_ADDRESS");
        assert_eq!(t.paths, ["/services/data/v62.0/composite/tree/Account"]);

        let plain = json!([{"errorCode": "INVALID_TYPE", "message": "no"}]);
        let mut t = Scripted::new(vec![Ok(HttpResponse {
            status: 400,
            headers: vec![],
            body: plain.to_string().into_bytes(),
        })]);
        let err = create_tree(&mut t, &s, "Account", &records).unwrap_err();
        assert!(matches!(err, Error::Api { status: 400, .. }), "{err:?}");
    }
}
