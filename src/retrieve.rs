//! sObject Collections retrieve: many records of one object by id in one
//! request (`/composite/sobjects/{SObject}`), one slot per id in the order
//! given, `null` where an id matches no record the user can see.
//!
//! A short request goes as a GET (retried like every idempotent call); a
//! longer one as a POST with the ids in the body, which Salesforce accepts
//! for up to 2,000 ids. More ids are sent in chunks of 2,000, in order.
//! (REST API guide, "Get Records Using sObject Collections" and "Get Records
//! With a Request Body Using sObject Collections".)

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::limits::LimitInfo;
use crate::records::{api_name, record_id};
use crate::rest::{self, CallRequest};
use crate::session::Session;
use serde_json::{json, Value};

/// Ids per request: the POST form's documented maximum.
pub const CHUNK: usize = 2_000;

/// The longest request target (path and query) sent as a GET. Salesforce
/// refuses URIs over 16,384 bytes with 414 and recommends staying under
/// 2,000 (REST API guide, "Request URI length"; about 100 18-character ids
/// with a few fields). Anything longer goes as a POST.
pub const GET_TARGET_MAX: usize = 2_000;

/// The records read, one slot per id, and the API usage last reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retrieved {
    /// Each record as JSON object text, or `None` for an id that matched
    /// no record the user can see; in the order of the ids given.
    pub records: Vec<Option<String>>,
    /// The API usage reported by the last request.
    pub limit_info: Option<LimitInfo>,
}

/// Checks the arguments: an API name, 15/18-character ids, at least one
/// field (Salesforce requires `fields`).
fn checked<'a>(
    sobject: &'a str,
    ids: &'a [String],
    fields: &'a [String],
) -> Result<(&'a str, Vec<&'a str>, Vec<&'a str>), Error> {
    let sobject = api_name("sobject", sobject)?;
    if ids.is_empty() {
        return Err(Error::request("ids", "name at least one record id"));
    }
    let ids = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            record_id(id).map_err(|_| {
                Error::request(
                    "ids",
                    format!("item {i}: `{id}` is not a 15 or 18 character Salesforce id"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if fields.is_empty() {
        return Err(Error::request(
            "fields",
            "name at least one field (Salesforce requires the list), e.g. Id, Name",
        ));
    }
    let fields = fields
        .iter()
        .map(|f| api_name("fields", f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((sobject, ids, fields))
}

/// The request for one chunk: a GET while its target stays within
/// [`GET_TARGET_MAX`], else a POST with the ids in the body.
fn request(s: &Session, path: &str, ids: &[&str], fields: &[&str]) -> Result<CallRequest, Error> {
    let mut get = CallRequest::new(Method::Get, path);
    get.query.push(("ids".into(), ids.join(",")));
    get.query.push(("fields".into(), fields.join(",")));
    let url = rest::build(s, &get)?.url;
    let target = url.path().len() + url.query().map_or(0, |q| q.len() + 1);
    if target <= GET_TARGET_MAX {
        return Ok(get);
    }
    let mut post = CallRequest::new(Method::Post, path);
    post.body = Some(json!({ "ids": ids, "fields": fields }).to_string());
    Ok(post)
}

/// One chunk's answer: an array with one record or `null` per id.
fn parse(resp: &rest::CallResponse, expected: usize) -> Result<Vec<Option<String>>, Error> {
    let bad = |why: &str| {
        Error::unexpected(
            resp.status,
            None,
            format!("collections retrieve answer: {why}"),
            resp.body.as_bytes(),
        )
    };
    let value = resp.json()?;
    let list = value.as_array().ok_or_else(|| bad("not a JSON array"))?;
    if list.len() != expected {
        return Err(bad(&format!("{} slots for {expected} ids", list.len())));
    }
    list.iter()
        .map(|slot| match slot {
            Value::Null => Ok(None),
            Value::Object(_) => Ok(Some(slot.to_string())),
            _ => Err(bad("a slot is neither a record nor null")),
        })
        .collect()
}

/// Reads `fields` of the records of `sobject` with these ids; more than
/// [`CHUNK`] ids are read in several requests, in order. Nothing is
/// written, so a failing request fails the whole call.
pub fn retrieve(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    ids: &[String],
    fields: &[String],
) -> Result<Retrieved, Error> {
    let (sobject, ids, fields) = checked(sobject, ids, fields)?;
    let path = format!("{}/composite/sobjects/{sobject}", s.data_path());
    let mut records = Vec::with_capacity(ids.len());
    let mut limit_info = None;
    for chunk in ids.chunks(CHUNK) {
        let resp = rest::execute(t, s, &request(s, &path, chunk, &fields)?)?;
        records.extend(parse(&resp, chunk.len())?);
        limit_info = resp.limit_info.or(limit_info);
    }
    Ok(Retrieved {
        records,
        limit_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::Scripted;
    use crate::http::HttpResponse;

    fn session() -> Session {
        crate::session::fixture()
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("001{i:0>12}AAA")).collect()
    }

    fn answer(n: usize) -> HttpResponse {
        let slots: Vec<Value> = (0..n)
            .map(|i| match i % 3 {
                2 => Value::Null,
                _ => json!({"attributes": {"type": "Account"}, "Id": format!("001{i:0>12}AAA")}),
            })
            .collect();
        HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Value::Array(slots).to_string().into_bytes(),
        }
    }

    #[test]
    fn a_short_request_is_a_get_and_a_long_one_a_post() {
        let s = session();
        let path = format!("{}/composite/sobjects/Account", s.data_path());
        let few = ids(3);
        let few: Vec<&str> = few.iter().map(String::as_str).collect();
        let get = request(&s, &path, &few, &["Id", "Name"]).unwrap();
        assert_eq!(get.method, Method::Get);
        assert!(get.body.is_none());
        let many = ids(200);
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let post = request(&s, &path, &many, &["Id", "Name"]).unwrap();
        assert_eq!(post.method, Method::Post);
        assert!(post.query.is_empty());
        let body: Value = serde_json::from_str(post.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["ids"].as_array().unwrap().len(), 200);
        assert_eq!(body["fields"], json!(["Id", "Name"]));
    }

    #[test]
    fn more_than_2000_ids_are_chunked_in_order_with_nulls_in_place() {
        let s = session();
        let mut t = Scripted::new(vec![Ok(answer(2000)), Ok(answer(500))]);
        let out = retrieve(&mut t, &s, "Account", &ids(2500), &["Id".into()]).unwrap();
        assert_eq!(out.records.len(), 2500);
        assert!(out.records[2].is_none() && out.records[2002].is_none());
        assert!(out.records[2001]
            .as_deref()
            .unwrap()
            .contains("001000000000001AAA"));
        assert_eq!(t.sent, 2, "two POSTs");
        assert!(t.bodies.iter().all(|b| b.starts_with('{')));
    }

    #[test]
    fn bad_arguments_and_a_short_answer_are_refused() {
        let s = session();
        let mut t = Scripted::new(vec![]);
        let err = retrieve(&mut t, &s, "Account", &ids(1), &[]).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "fields"));
        let mut bad = ids(2);
        bad[1] = "nope".into();
        let err = retrieve(&mut t, &s, "Account", &bad, &["Id".into()]).unwrap_err();
        assert!(err.to_string().contains("item 1"), "{err}");
        assert_eq!(t.sent, 0);
        let mut t = Scripted::new(vec![Ok(answer(2))]);
        let err = retrieve(&mut t, &s, "Account", &ids(3), &["Id".into()]).unwrap_err();
        assert!(matches!(err, Error::Unexpected { .. }), "{err:?}");
    }
}
