//! One page of a SOQL result: the envelope read field by field, the records
//! kept as the text the server sent.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::limits::LimitInfo;
use crate::rest::CallResponse;
use alloc::collections::BTreeMap;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// One record as the server sent it: JSON text, checked but not taken apart.
/// Records pass through the component untouched, and a tree per record cost
/// about 2 KiB of memory and most of a page's parse time.
pub type Record = Box<RawValue>;

/// The records as one JSON array.
pub fn records_json(records: &[Record]) -> String {
    let mut out =
        String::with_capacity(2 + records.iter().map(|r| r.get().len() + 1).sum::<usize>());
    out.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r.get());
    }
    out.push(']');
    out
}

#[derive(Clone, Debug)]
pub struct QueryPage {
    pub records: Vec<Record>,
    pub total_size: u64,
    pub done: bool,
    pub next_records_url: Option<String>,
    pub limit_info: Option<LimitInfo>,
}

fn bad_page(resp: &CallResponse, reason: &str) -> Error {
    Error::unexpected(
        resp.status,
        Some("application/json"),
        format!("query page: {reason}"),
        resp.body.as_bytes(),
    )
}

/// The visits of a value that is neither an array nor an object, all
/// answered with `$value`.
macro_rules! scalars {
    ($value:expr) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// Accepts exactly the JSON a `Value` parse accepts (escapes that decode to
/// text, numbers that fit an f64, at most 128 levels deep) without building
/// one. A `RawValue` alone only checks the syntax, and a record it let
/// through could then fail in the host's own JSON parser.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Checked)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = Checked;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("a JSON value")
    }
    scalars!(Checked);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A `records` field: the array's elements as text, or `None` when it is
/// not an array.
struct Records(Option<Vec<Record>>);

impl<'de> Deserialize<'de> for Records {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RecordsVisitor)
    }
}

struct RecordsVisitor;

impl<'de> Visitor<'de> for RecordsVisitor {
    type Value = Records;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("an array of records")
    }
    scalars!(Records(None));
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Records, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(record) = seq.next_element()? {
            records.push(record);
        }
        Ok(Records(Some(records)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Records, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Records(None))
    }
}

/// A page's fields by name, `records` taken as text in the same pass. A
/// repeated field counts once, the last, as in a JSON tree.
struct Envelope<'a> {
    records: Option<Vec<Record>>,
    fields: BTreeMap<String, &'a RawValue>,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("a page of records")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut page = Envelope {
            records: None,
            fields: BTreeMap::new(),
        };
        while let Some(name) = map.next_key::<String>()? {
            if name == "records" {
                page.records = map.next_value::<Records>()?.0;
            } else {
                page.fields.insert(name, map.next_value()?);
            }
        }
        Ok(page)
    }
}

pub fn parse_page(resp: CallResponse) -> Result<QueryPage, Error> {
    // Checked first, so nothing is taken as text that a tree would refuse.
    let parsed = serde_json::from_str::<Checked>(&resp.body)
        .and_then(|_| serde_json::from_str::<Envelope>(&resp.body));
    let Ok(Envelope { records, fields }) = parsed else {
        resp.json()?;
        return Err(bad_page(&resp, "not a JSON object"));
    };
    let records = records.ok_or_else(|| bad_page(&resp, "no `records` array"))?;
    let field = |name: &str| fields.get(name).map(|raw| raw.get());
    // Small fields go through `Value`, whose parser the component has
    // anyway; a typed parse per field would add its own copy of it.
    let scalar = |name: &str| field(name).and_then(|v| serde_json::from_str::<Value>(v).ok());
    let total_size = scalar("totalSize")
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or_else(|| bad_page(&resp, "no numeric `totalSize`"))?;
    let done = scalar("done")
        .as_ref()
        .and_then(Value::as_bool)
        .ok_or_else(|| bad_page(&resp, "no boolean `done`"))?;
    let next_records_url = scalar("nextRecordsUrl").and_then(|n| match n {
        Value::String(n) => Some(n),
        _ => None,
    });
    if !done && next_records_url.is_none() {
        return Err(bad_page(
            &resp,
            "`done` is false but there is no `nextRecordsUrl`",
        ));
    }
    Ok(QueryPage {
        records,
        total_size,
        done,
        next_records_url: if done { None } else { next_records_url },
        limit_info: resp.limit_info,
    })
}

/// A record as a tree, for tests to look into.
#[cfg(test)]
pub(super) fn tree(r: &Record) -> Value {
    serde_json::from_str(r.get()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `query_page` fuzz target: serde_json's default float
    /// parsing is not correctly rounded, so a number passed through a record
    /// could come back as a neighbouring double (`1.1e34` as
    /// `1.0999999999999999e34`); `float_roundtrip` makes it exact.
    #[test]
    fn record_numbers_are_kept_exactly() {
        let body = r#"{"totalSize":1,"done":true,"records":[{"AnnualRevenue":1.1e34}]}"#;
        let page = page_of(body).unwrap();
        assert_eq!(page.records[0].get(), r#"{"AnnualRevenue":1.1e34}"#);
        let record = tree(&page.records[0]);
        assert_eq!(record["AnnualRevenue"].as_f64(), Some(1.1e34));
        let again: Value = serde_json::from_str(&record.to_string()).unwrap();
        assert_eq!(again, record);
    }

    #[test]
    fn records_pass_through_as_sent_and_join_into_one_array() {
        let body = r#"{"totalSize":2,"done":true,"records":[ {"Name":"A\u00e9", "N": 1.50} ,{"Id":null}]}"#;
        let page = page_of(body).unwrap();
        let joined = records_json(&page.records);
        assert_eq!(joined, r#"[{"Name":"A\u00e9", "N": 1.50},{"Id":null}]"#);
        assert_eq!(records_json(&[]), "[]");
        for bad in [
            r#"{"totalSize":1,"done":true,"records":{}}"#,
            r#"{"totalSize":1,"done":true}"#,
            r#"[1]"#,
            r#"{"totalSize":"1","done":true,"records":[]}"#,
        ] {
            let r = page_of(bad);
            assert!(matches!(r, Err(Error::Unexpected { .. })), "{bad}");
        }
    }

    /// Found by the `query_page` fuzz target: a `RawValue` checks only the
    /// syntax, so a record with a lone surrogate escape, a number beyond f64
    /// or 200 levels of nesting was passed on, and then failed in the host's
    /// own JSON parser. A page is accepted exactly when it parses as a tree.
    #[test]
    fn records_a_json_parser_refuses_are_refused() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for (record, ok) in [
            (r#"{"Name":"\ud800"}"#.to_string(), false),
            (r#"{"Name":"\ud83d\ude00"}"#.to_string(), true),
            (r#"{"N":1e400}"#.to_string(), false),
            (r#"{"N":-1e308}"#.to_string(), true),
            (deep(200), false),
            (deep(120), true),
        ] {
            let body = format!(r#"{{"totalSize":1,"done":true,"records":[{record}]}}"#);
            assert_eq!(serde_json::from_str::<Value>(&body).is_ok(), ok, "{record}");
            match page_of(&body) {
                Ok(page) => {
                    assert!(ok, "{record} was accepted");
                    assert_eq!(page.records[0].get(), record);
                }
                Err(e) => {
                    assert!(!ok, "{record}: {e}");
                    assert!(matches!(e, Error::Unexpected { status: 200, .. }), "{e:?}");
                }
            }
        }
        let deep_envelope = format!(
            r#"{{"totalSize":0,"done":true,"records":[],"x":{}}}"#,
            deep(200)
        );
        assert!(page_of(&deep_envelope).is_err());

        // A repeated field counts once, the last, as in a tree.
        let twice = r#"{"totalSize":1,"done":true,"records":true,"records":[{"Id":"1"}]}"#;
        assert_eq!(
            records_json(&page_of(twice).unwrap().records),
            r#"[{"Id":"1"}]"#
        );
        let twice = r#"{"totalSize":1,"done":true,"records":[{"Id":"1"}],"records":{"a":[]}}"#;
        assert!(page_of(twice).is_err());
    }

    fn page_of(body: &str) -> Result<QueryPage, Error> {
        parse_page(CallResponse {
            status: 200,
            headers: vec![],
            body: body.into(),
            limit_info: None,
        })
    }
}
