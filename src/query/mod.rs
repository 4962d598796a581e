//! SOQL queries: one page, the next page, or every page up to a cap (never a
//! silent truncation).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::limits::LimitInfo;
use crate::rest::{self, CallRequest};
use crate::session::Session;
use serde_json::Value;

mod page;
pub use page::{parse_page, records_json, QueryPage, Record};

#[derive(Clone, Copy, Debug, Default)]
pub struct QueryOptions {
    pub include_deleted: bool,
    pub batch_size: Option<u32>,
    pub follow_children: bool,
}

#[derive(Clone, Debug)]
pub struct QueryResult {
    pub records: Vec<Record>,
    pub total_size: u64,
    pub pages: u32,
    pub truncated: bool,
    pub next_records_url: Option<String>,
    pub limit_info: Option<LimitInfo>,
}

fn with_options(mut req: CallRequest, opts: &QueryOptions) -> Result<CallRequest, Error> {
    if let Some(n) = opts.batch_size {
        if !(200..=2000).contains(&n) {
            return Err(Error::request(
                "batch-size",
                format!("{n} is outside 200..2000"),
            ));
        }
        req.headers
            .push(("Sforce-Query-Options".into(), format!("batchSize={n}")));
    }
    Ok(req)
}

fn first_request(session: &Session, soql: &str, opts: &QueryOptions) -> Result<CallRequest, Error> {
    if soql.trim().is_empty() {
        return Err(Error::request("soql", "is empty"));
    }
    let resource = if opts.include_deleted {
        "queryAll"
    } else {
        "query"
    };
    let mut req = CallRequest::new(Method::Get, format!("{}/{resource}", session.data_path()));
    req.query.push(("q".into(), soql.trim().to_string()));
    with_options(req, opts)
}

/// A `nextRecordsUrl`, or a bare locator such as `01gD0000002HU6KIAW-2000`.
fn more_request(session: &Session, next: &str, opts: &QueryOptions) -> Result<CallRequest, Error> {
    let next = next.trim();
    let path = if next.starts_with('/') || next.starts_with("http") {
        next.to_string()
    } else if !next.is_empty() && next.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        let resource = if opts.include_deleted {
            "queryAll"
        } else {
            "query"
        };
        format!("{}/{resource}/{next}", session.data_path())
    } else {
        return Err(Error::request(
            "next-records-url",
            "is neither a nextRecordsUrl nor a query locator",
        ));
    };
    with_options(CallRequest::new(Method::Get, path), opts)
}

pub fn query(
    t: &mut dyn Transport,
    s: &Session,
    soql: &str,
    opts: &QueryOptions,
) -> Result<QueryPage, Error> {
    let mut page = parse_page(rest::execute(t, s, &first_request(s, soql, opts)?)?)?;
    follow_children(t, s, opts, &mut page)?;
    Ok(page)
}

pub fn query_more(
    t: &mut dyn Transport,
    s: &Session,
    next: &str,
    opts: &QueryOptions,
) -> Result<QueryPage, Error> {
    let mut page = parse_page(rest::execute(t, s, &more_request(s, next, opts)?)?)?;
    follow_children(t, s, opts, &mut page)?;
    Ok(page)
}

/// Completes child-relationship subqueries (`"Contacts": {"done": false,
/// "nextRecordsUrl": ...}`) in place, when asked to.
fn follow_children(
    t: &mut dyn Transport,
    s: &Session,
    opts: &QueryOptions,
    page: &mut QueryPage,
) -> Result<(), Error> {
    if !opts.follow_children {
        return Ok(());
    }
    let plain = QueryOptions {
        follow_children: false,
        ..*opts
    };
    for raw in &mut page.records {
        // Only a record with an unfinished subquery is taken apart.
        if !raw.get().contains("\"nextRecordsUrl\"") {
            continue;
        }
        let Ok(mut record) = serde_json::from_str::<Value>(raw.get()) else {
            continue;
        };
        let Some(fields) = record.as_object_mut() else {
            continue;
        };
        for child in fields.values_mut() {
            let Some(nested) = child.as_object_mut() else {
                continue;
            };
            while nested.get("done") == Some(&Value::Bool(false)) {
                let Some(next) = nested
                    .get("nextRecordsUrl")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                else {
                    break;
                };
                let more = query_more(t, s, &next, &plain)?;
                if more.next_records_url.as_deref() == Some(next.as_str()) {
                    return Err(Error::unexpected(
                        200,
                        None,
                        "a child nextRecordsUrl points at the same page again",
                        b"",
                    ));
                }
                if let Some(Value::Array(list)) = nested.get_mut("records") {
                    list.extend(
                        more.records
                            .iter()
                            .filter_map(|r| serde_json::from_str::<Value>(r.get()).ok()),
                    );
                }
                nested.insert("done".into(), Value::Bool(more.done));
                match more.next_records_url {
                    Some(n) => nested.insert("nextRecordsUrl".into(), Value::String(n)),
                    None => nested.remove("nextRecordsUrl"),
                };
            }
        }
        if let Ok(completed) = serde_json::value::to_raw_value(&record) {
            *raw = completed;
        }
    }
    Ok(())
}

/// Follows every page until done or `max_records`. The cap trims the last
/// page and sets `truncated`; `next_records_url` is kept only when the stop
/// fell on a page boundary, so a caller can resume exactly.
pub fn query_all_pages(
    t: &mut dyn Transport,
    s: &Session,
    soql: &str,
    opts: &QueryOptions,
    max_records: Option<u64>,
) -> Result<QueryResult, Error> {
    let max = max_records.unwrap_or(u64::MAX);
    let mut page = query(t, s, soql, opts)?;
    let mut result = QueryResult {
        records: Vec::new(),
        total_size: page.total_size,
        pages: 0,
        truncated: false,
        next_records_url: None,
        limit_info: None,
    };
    loop {
        result.pages += 1;
        result.limit_info = page.limit_info.take();
        let room = usize::try_from(max - result.records.len() as u64).unwrap_or(usize::MAX);
        let trimmed = page.records.len() > room;
        page.records.truncate(room);
        result.records.append(&mut page.records);
        let next = page.next_records_url.take();
        if trimmed || (next.is_some() && result.records.len() as u64 >= max) {
            result.truncated = true;
            result.next_records_url = if trimmed { None } else { next };
            return Ok(result);
        }
        let Some(next) = next else {
            return Ok(result);
        };
        let following = query_more(t, s, &next, opts)?;
        if following.next_records_url.as_deref() == Some(next.as_str()) {
            return Err(Error::unexpected(
                200,
                None,
                "nextRecordsUrl points at the same page again",
                b"",
            ));
        }
        page = following;
    }
}

#[cfg(test)]
mod tests {
    use super::page::tree;
    use super::*;
    use crate::http::HttpResponse;

    /// Answers each request with the next scripted body and records the paths.
    use crate::http::testing::Scripted;

    /// 200 JSON answers, in order.
    fn script(bodies: &[&str]) -> Scripted {
        Scripted::new(
            bodies
                .iter()
                .map(|b| {
                    Ok(HttpResponse {
                        status: 200,
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: b.as_bytes().to_vec(),
                    })
                })
                .collect(),
        )
    }

    use crate::session::fixture as session;

    #[test]
    fn child_pages_are_followed_when_asked() {
        let parent = r#"{"totalSize":1,"done":true,"records":[{"Id":"001A","Contacts":{"totalSize":3,"done":false,
            "nextRecordsUrl":"/services/data/v62.0/query/01gC-1","records":[{"Id":"003A"}]}}]}"#;
        let more1 = r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gC-2","records":[{"Id":"003B"}]}"#;
        let more2 = r#"{"totalSize":3,"done":true,"records":[{"Id":"003C"}]}"#;
        let mut t = script(&[parent, more1, more2]);
        let opts = QueryOptions {
            follow_children: true,
            ..Default::default()
        };
        let page = query(
            &mut t,
            &session(),
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            &opts,
        )
        .unwrap();
        let record = tree(&page.records[0]);
        let contacts = &record["Contacts"];
        assert_eq!(contacts["done"], true);
        assert!(contacts.get("nextRecordsUrl").is_none());
        let ids: Vec<&str> = contacts["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["003A", "003B", "003C"]);
        assert_eq!(t.paths[1], "/services/data/v62.0/query/01gC-1");

        let mut t = script(&[parent]);
        let page = query(
            &mut t,
            &session(),
            "SELECT Id FROM Account",
            &QueryOptions::default(),
        )
        .unwrap();
        assert_eq!(
            tree(&page.records[0])["Contacts"]["done"],
            false,
            "not followed unless asked"
        );
    }

    #[test]
    fn a_page_without_a_way_forward_is_an_error() {
        let mut t = script(&[r#"{"totalSize":5,"done":false,"records":[]}"#]);
        assert!(matches!(
            query(
                &mut t,
                &session(),
                "SELECT Id FROM Account",
                &QueryOptions::default()
            ),
            Err(Error::Unexpected { .. })
        ));
    }

    #[test]
    fn a_quoted_2xx_body_never_shows_a_token() {
        let mut t = script(&[r#"{"records": "00D000000000001!AQxyz.token" "#]);
        let err = query(
            &mut t,
            &session(),
            "SELECT Id FROM Account",
            &QueryOptions::default(),
        )
        .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("!AQxyz"), "{shown}");
    }
}
