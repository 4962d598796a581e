//! `query::parse_page`: one page of a SOQL result.
#![no_main]

use fuzz_common::check_excerpt;
use libfuzzer_sys::fuzz_target;
use salesforce_connector::error::Error;
use salesforce_connector::limits;
use salesforce_connector::query::{self, QueryPage, Records};
use salesforce_connector::rest::CallResponse;
use serde_json::{json, Map, Value};

fn response(body: String) -> CallResponse {
    CallResponse {
        status: 200,
        headers: vec![(
            "content-type".into(),
            "application/json;charset=UTF-8".into(),
        )],
        body,
        limit_info: limits::parse("api-usage=25/15000"),
    }
}

/// What Salesforce requires of a page: `records`, a count, `done`, and a way
/// forward when not done.
fn well_formed(o: &Map<String, Value>) -> bool {
    let done = o.get("done").and_then(Value::as_bool);
    matches!(o.get("records"), Some(Value::Array(_)))
        && o.get("totalSize").and_then(Value::as_u64).is_some()
        && done.is_some()
        && (done == Some(true) || o.get("nextRecordsUrl").and_then(Value::as_str).is_some())
}

/// The page as JSON again, its records embedded as the text they came as.
fn render(p: &QueryPage) -> String {
    let mut v = json!({"totalSize": p.total_size, "done": p.done});
    if let Some(n) = &p.next_records_url {
        v["nextRecordsUrl"] = json!(n);
    }
    let envelope = v.to_string();
    let records = p.records.as_json();
    format!(
        "{},\"records\":{records}}}",
        &envelope[..envelope.len() - 1]
    )
}

fn texts(records: &Records) -> Vec<&str> {
    records.split().into_iter().map(|r| r.get()).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let value: Option<Value> = serde_json::from_str(body).ok();
    let obj = value.as_ref().and_then(Value::as_object);
    match query::parse_page(response(body.to_string())) {
        Ok(page) => {
            let obj = obj.expect("a page from a JSON object");
            assert!(well_formed(obj));
            let trees: Value =
                serde_json::from_str(page.records.as_json()).expect("the records are JSON");
            assert_eq!(Some(&trees), obj.get("records"));
            assert_eq!(Some(page.records.len()), trees.as_array().map(Vec::len));
            assert_eq!(
                Some(page.total_size),
                obj.get("totalSize").and_then(Value::as_u64)
            );
            assert_eq!(Some(page.done), obj.get("done").and_then(Value::as_bool));
            assert_eq!(page.done, page.next_records_url.is_none());
            if let Some(next) = &page.next_records_url {
                assert_eq!(
                    Some(next.as_str()),
                    obj.get("nextRecordsUrl").and_then(Value::as_str)
                );
            }
            assert_eq!(page.limit_info, limits::parse("api-usage=25/15000"));
            let again = query::parse_page(response(render(&page))).expect("a rendered page parses");
            assert_eq!(texts(&again.records), texts(&page.records));
            // Cut, then joined to another page, the records stay as they were.
            let half = page.records.len() / 2;
            let mut cut = page.records.clone();
            cut.truncate(half);
            assert_eq!(texts(&cut), texts(&page.records)[..half]);
            cut.append(page.records.clone());
            let both = [&texts(&page.records)[..half], &texts(&page.records)].concat();
            assert_eq!(texts(&cut), both);
            assert_eq!(cut.len(), both.len());
            assert_eq!(again.total_size, page.total_size);
            assert_eq!(again.done, page.done);
            assert_eq!(again.next_records_url, page.next_records_url);
        }
        Err(e) => {
            check_excerpt(&e);
            assert!(
                matches!(e, Error::Unexpected { status: 200, .. }),
                "not an unexpected-response error: {e:?}"
            );
            assert!(
                !obj.is_some_and(well_formed),
                "a well-formed page was refused: {e}"
            );
        }
    }
});
