//! SOQL queries: one page, the next page, or every page up to a cap (never a
//! silent truncation).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::limits::LimitInfo;
use crate::rest::{self, CallRequest};
use crate::session::Session;
use alloc::borrow::Cow;
use serde_json::Value;

mod page;
pub use page::{parse_page, QueryPage, Records};

/// How a SOQL query runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueryOptions {
    /// Include deleted and archived rows (`/queryAll`).
    pub include_deleted: bool,
    /// Records per page (`Sforce-Query-Options: batchSize`), 200 to 2000;
    /// Salesforce may return fewer.
    pub batch_size: Option<u32>,
    /// Also fetch the remaining pages of child-relationship subqueries, so
    /// every child record is in place.
    pub follow_children: bool,
}

/// Every page of a query, up to a cap.
#[derive(Clone, Debug)]
pub struct QueryResult {
    /// Every record fetched, in order.
    pub records: Records,
    /// Rows matching the query, over all pages.
    pub total_size: u64,
    /// How many pages were fetched.
    pub pages: u32,
    /// True when the cap stopped the query before the last page: the
    /// result is incomplete.
    pub truncated: bool,
    /// Where to resume, when the stop fell on a page boundary.
    pub next_records_url: Option<String>,
    /// The API usage last reported.
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

/// Runs a SOQL query and returns its first page.
pub fn query(
    t: &mut dyn Transport,
    s: &Session,
    soql: &str,
    opts: &QueryOptions,
) -> Result<QueryPage, Error> {
    let mut page = fetch(t, s, &first_request(s, soql, opts)?)?;
    follow_children(t, s, opts, &mut page)?;
    Ok(page)
}

/// The next page, from a `nextRecordsUrl` or a bare locator.
pub fn query_more(
    t: &mut dyn Transport,
    s: &Session,
    next: &str,
    opts: &QueryOptions,
) -> Result<QueryPage, Error> {
    let mut page = fetch(t, s, &more_request(s, next, opts)?)?;
    follow_children(t, s, opts, &mut page)?;
    Ok(page)
}

/// One page. A page that is not the last must bring records: a server that
/// hands out empty pages forever would otherwise be followed forever (a
/// well-formed org never sends one).
fn fetch(t: &mut dyn Transport, s: &Session, req: &CallRequest) -> Result<QueryPage, Error> {
    let page = parse_page(rest::execute(t, s, req)?)?;
    if !page.done && page.records.is_empty() {
        return Err(Error::unexpected(
            200,
            None,
            "a query page that is not the last brought no records; the server's paging is broken",
            b"",
        ));
    }
    Ok(page)
}

/// The `nextRecordsUrl`s fetched in one call: pages that point back at one
/// already fetched (A -> B -> A) form a loop that would never end.
#[derive(Default)]
struct Seen(alloc::collections::BTreeSet<String>);

impl Seen {
    fn visit(&mut self, next: &str, what: &str) -> Result<(), Error> {
        if self.0.insert(next.to_string()) {
            return Ok(());
        }
        Err(Error::unexpected(
            200,
            None,
            format!(
                "{what} leads back to a page already fetched in this call: the pages form a loop"
            ),
            b"",
        ))
    }
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
    // Only a page, and in it a record, with an unfinished subquery is taken
    // apart.
    if !page.records.as_json().contains("\"nextRecordsUrl\"") {
        return Ok(());
    }
    let mut texts = Vec::with_capacity(page.records.len());
    let mut seen = Seen::default();
    for raw in page.records.split() {
        let text = raw.get();
        texts.push(if text.contains("\"nextRecordsUrl\"") {
            Cow::Owned(complete_children(t, s, &plain, text, &mut seen)?)
        } else {
            Cow::Borrowed(text)
        });
    }
    let completed = Records::join(texts.iter().map(|t| t.as_ref()));
    page.records = completed;
    Ok(())
}

/// `record` with each unfinished child subquery followed to its end.
fn complete_children(
    t: &mut dyn Transport,
    s: &Session,
    plain: &QueryOptions,
    record: &str,
    seen: &mut Seen,
) -> Result<String, Error> {
    let Ok(mut record) = serde_json::from_str::<Value>(record) else {
        return Ok(record.into());
    };
    let children = record
        .as_object_mut()
        .into_iter()
        .flat_map(|f| f.values_mut());
    for nested in children.filter_map(Value::as_object_mut) {
        while nested.get("done") == Some(&Value::Bool(false)) {
            let Some(next) = nested
                .get("nextRecordsUrl")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                break;
            };
            let more = page_after(t, s, &next, plain, ("a child nextRecordsUrl", seen))?;
            if let Some(Value::Array(list)) = nested.get_mut("records") {
                let more_records: Vec<Value> =
                    serde_json::from_str(more.records.as_json()).unwrap_or_default();
                list.extend(more_records);
            }
            nested.insert("done".into(), Value::Bool(more.done));
            match more.next_records_url {
                Some(n) => nested.insert("nextRecordsUrl".into(), Value::String(n)),
                None => nested.remove("nextRecordsUrl"),
            };
        }
    }
    Ok(record.to_string())
}

/// The page at `next`, unless this call fetched it already.
fn page_after(
    t: &mut dyn Transport,
    s: &Session,
    next: &str,
    opts: &QueryOptions,
    (what, seen): (&str, &mut Seen),
) -> Result<QueryPage, Error> {
    seen.visit(next, what)?;
    query_more(t, s, next, opts)
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
    let mut seen = Seen::default();
    let mut page = query(t, s, soql, opts)?;
    let mut result = QueryResult {
        records: Records::default(),
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
        result.records.append(page.records);
        let rest = result
            .total_size
            .min(max)
            .saturating_sub(result.records.len() as u64);
        result.records.reserve_like(rest);
        let next = page.next_records_url.take();
        if trimmed || (next.is_some() && result.records.len() as u64 >= max) {
            result.truncated = true;
            result.next_records_url = if trimmed { None } else { next };
            return Ok(result);
        }
        let Some(next) = next else {
            return Ok(result);
        };
        page = page_after(t, s, &next, opts, ("nextRecordsUrl", &mut seen))?;
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

    const FOLLOW_CHILDREN: QueryOptions = QueryOptions {
        include_deleted: false,
        batch_size: None,
        follow_children: true,
    };

    #[test]
    fn child_pages_are_followed_when_asked() {
        let parent = r#"{"totalSize":1,"done":true,"records":[{"Id":"001A","Contacts":{"totalSize":3,"done":false,
            "nextRecordsUrl":"/services/data/v62.0/query/01gC-1","records":[{"Id":"003A"}]}}]}"#;
        let more1 = r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gC-2","records":[{"Id":"003B"}]}"#;
        let more2 = r#"{"totalSize":3,"done":true,"records":[{"Id":"003C"}]}"#;
        let mut t = script(&[parent, more1, more2]);
        let page = query(
            &mut t,
            &session(),
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            &FOLLOW_CHILDREN,
        )
        .unwrap();
        let record = tree(&page.records, 0);
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
            tree(&page.records, 0)["Contacts"]["done"],
            false,
            "not followed unless asked"
        );
    }

    #[test]
    fn a_next_page_that_points_at_itself_is_an_error() {
        let first = r#"{"totalSize":9,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01g-1","records":[1]}"#;
        let again = r#"{"totalSize":9,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01g-1","records":[2]}"#;
        let mut t = script(&[first, again]);
        let err = query_all_pages(
            &mut t,
            &session(),
            "SELECT Id FROM Account",
            &QueryOptions::default(),
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("nextRecordsUrl leads back to a page already fetched"),
            "{err}"
        );

        let parent = r#"{"totalSize":1,"done":true,"records":[{"Contacts":{"totalSize":9,"done":false,
            "nextRecordsUrl":"/services/data/v62.0/query/01gC-1","records":[]}}]}"#;
        let child = r#"{"totalSize":9,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gC-1","records":[{"Id":"003"}]}"#;
        let mut t = script(&[parent, child]);
        let err = query(
            &mut t,
            &session(),
            "SELECT (SELECT Id FROM Contacts) FROM Account",
            &FOLLOW_CHILDREN,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("a child nextRecordsUrl leads back"),
            "{err}"
        );
    }

    #[test]
    fn pages_that_loop_or_bring_nothing_end_the_call() {
        let page = |url: &str, next: &str| {
            format!(
                r#"{{"totalSize":9,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/{next}","records":[{{"Id":"{url}"}}]}}"#
            )
        };
        // A -> B -> A
        let (a, b) = (page("first", "01gB-1"), page("b", "01gA-1"));
        let a_again = page("a", "01gB-1");
        let all = |t: &mut Scripted| {
            let soql = "SELECT Id FROM Account";
            query_all_pages(t, &session(), soql, &QueryOptions::default(), None).unwrap_err()
        };
        let mut t = script(&[&a, &b, &a_again, &b]);
        let err = all(&mut t);
        assert!(err.to_string().contains("form a loop"), "{err}");
        assert_eq!(
            t.sent, 3,
            "the loop is refused before the page is fetched again"
        );

        // Fresh, empty pages forever.
        let empty = r#"{"totalSize":9,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gX-1","records":[]}"#;
        let mut t = script(&[&a, empty, empty]);
        let err = all(&mut t);
        assert!(err.to_string().contains("brought no records"), "{err}");
        assert_eq!(t.sent, 2);
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
