//! One page of a SOQL result: the envelope read field by field, the records
//! kept as the text the server sent.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::limits::LimitInfo;
use crate::rest::CallResponse;
use alloc::collections::BTreeMap;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// A page's records: the `records` array as the server sent it, checked
/// but not taken apart. A tree per record would cost about 2 KiB of memory
/// and most of a page's parse time, and a copy per record would hold a page
/// twice.
#[derive(Clone, Debug)]
pub struct Records {
    /// A JSON array.
    json: String,
    len: usize,
}

const RESERVE_AT_MOST: u64 = 64 << 20;

impl Default for Records {
    fn default() -> Self {
        Records {
            json: "[]".into(),
            len: 0,
        }
    }
}

impl Records {
    /// The records of `texts`, each one a JSON value.
    pub fn join<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut records = Records::default();
        records.json.pop();
        for text in texts {
            if records.len > 0 {
                records.json.push(',');
            }
            records.json.push_str(text);
            records.len += 1;
        }
        records.json.push(']');
        records
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records as one JSON array.
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// The records as one JSON array, without a copy.
    pub fn into_json(self) -> String {
        self.json
    }

    /// Each record's text.
    pub fn split(&self) -> Vec<&RawValue> {
        // An array of values since the page was checked.
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    /// Keeps the first `n` records.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        let Some(last) = n
            .checked_sub(1)
            .and_then(|i| self.split().get(i).map(|r| r.get()))
        else {
            *self = Records::default();
            return;
        };
        let end = offset(&self.json, last) + last.len();
        self.json.truncate(end);
        self.json.push(']');
        self.len = n;
    }

    /// Room for `more` records of these records' average size and an eighth
    /// (records vary), so that the pages of a large result are appended
    /// without copying everything at each doubling. At most 64 MiB is
    /// reserved on a server's count.
    pub fn reserve_like(&mut self, more: u64) {
        let Some(average) = self.json.len().checked_div(self.len) else {
            return;
        };
        let each = average as u64 + average as u64 / 8 + 1;
        let bytes = more.saturating_mul(each).min(RESERVE_AT_MOST);
        // Without the room the pages are still appended, only with copies.
        let _ = self.json.try_reserve_exact(bytes as usize);
    }

    /// Appends `other`'s records after these.
    pub fn append(&mut self, other: Records) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other;
            return;
        }
        // `[a, b]` and `[c]` make `[a, b,c]`.
        self.json.pop();
        self.json.push(',');
        self.json.push_str(&other.json[1..]);
        self.len += other.len;
    }
}

impl serde::Serialize for Records {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::from_str::<&RawValue>(&self.json)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// Where `part`, a slice of `whole`, starts in it.
fn offset(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// One page of a query.
#[derive(Clone, Debug)]
pub struct QueryPage {
    /// The page's records, each with Salesforce's `attributes`.
    pub records: Records,
    /// Rows matching the query, over all pages.
    pub total_size: u64,
    /// True on the last page.
    pub done: bool,
    /// Where the next page is; none when `done`.
    pub next_records_url: Option<String>,
    /// The API usage reported with the page.
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
/// one. A `RawValue` alone only checks the syntax, and a record it lets
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

/// A `records` field: where its elements start and end in the body and how
/// many there are, or `None` when it is not an array.
struct Span<'a>(Option<(Option<(&'a str, &'a str)>, usize)>);

impl<'de> Deserialize<'de> for Span<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SpanVisitor)
    }
}

struct SpanVisitor;

impl<'de> Visitor<'de> for SpanVisitor {
    type Value = Span<'de>;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("an array of records")
    }
    scalars!(Span(None));
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut ends, mut len) = (None, 0);
        while let Some(record) = seq.next_element::<&'de RawValue>()? {
            let text = record.get();
            ends = Some(ends.map_or((text, text), |(first, _)| (first, text)));
            len += 1;
        }
        Ok(Span(Some((ends, len))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Skipped only: the whole body was checked before.
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Span(None))
    }
}

/// A page's fields by name, where `records` is found in the same pass. A
/// repeated field counts once, the last, as in a JSON tree.
struct Envelope<'a> {
    records: Span<'a>,
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
            records: Span(None),
            fields: BTreeMap::new(),
        };
        while let Some(name) = map.next_key::<String>()? {
            if name == "records" {
                page.records = map.next_value()?;
            } else {
                page.fields.insert(name, map.next_value()?);
            }
        }
        Ok(page)
    }
}

/// Reads a query answer into a page; anything but a well-formed page is an
/// [`Error::Unexpected`].
pub fn parse_page(resp: CallResponse) -> Result<QueryPage, Error> {
    // Checked first, so nothing is taken as text that a tree would refuse.
    let parsed = serde_json::from_str::<Checked>(&resp.body)
        .and_then(|_| serde_json::from_str::<Envelope>(&resp.body));
    let Ok(Envelope { records, fields }) = parsed else {
        resp.json()?;
        return Err(bad_page(&resp, "not a JSON object"));
    };
    let Span(Some((ends, len))) = records else {
        return Err(bad_page(&resp, "no `records` array"));
    };
    let span = ends.map(|(first, last)| {
        (
            offset(&resp.body, first),
            offset(&resp.body, last) + last.len(),
        )
    });
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
    // The body becomes the records array in place: no copy of the page.
    let CallResponse {
        body: mut json,
        limit_info,
        ..
    } = resp;
    match span {
        Some((start, end)) => {
            json.truncate(end);
            json.push(']');
            json.replace_range(..start, "[");
        }
        None => json = "[]".into(),
    }
    Ok(QueryPage {
        records: Records { json, len },
        total_size,
        done,
        next_records_url: if done { None } else { next_records_url },
        limit_info,
    })
}

/// Record `i` as a tree, for tests to look into.
#[cfg(test)]
pub(super) fn tree(records: &Records, i: usize) -> Value {
    serde_json::from_str(records.split()[i].get()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's default float parsing is not correctly rounded, so a
    /// number passed through a record could come back as a neighbouring
    /// double (`1.1e34` as `1.0999999999999999e34`); `float_roundtrip` makes
    /// it exact (a `query_page` fuzz finding).
    #[test]
    fn record_numbers_are_kept_exactly() {
        let body = r#"{"totalSize":1,"done":true,"records":[{"AnnualRevenue":1.1e34}]}"#;
        let page = page_of(body).unwrap();
        assert_eq!(page.records.as_json(), r#"[{"AnnualRevenue":1.1e34}]"#);
        let record = tree(&page.records, 0);
        assert_eq!(record["AnnualRevenue"].as_f64(), Some(1.1e34));
        let again: Value = serde_json::from_str(&record.to_string()).unwrap();
        assert_eq!(again, record);
    }

    #[test]
    fn records_pass_through_as_sent() {
        let body = r#"{"totalSize":2,"done":true,"records":[ {"Name":"A\u00e9", "N": 1.50} ,{"Id":null}	]}"#;
        let page = page_of(body).unwrap();
        assert_eq!(
            page.records.as_json(),
            r#"[{"Name":"A\u00e9", "N": 1.50} ,{"Id":null}]"#
        );
        assert_eq!(page.records.len(), 2);
        let empty = page_of(r#"{"totalSize":0,"done":true,"records":[ ]}"#).unwrap();
        assert_eq!((empty.records.as_json(), empty.records.len()), ("[]", 0));
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

    /// A page is accepted exactly when it parses as a tree: a `RawValue`
    /// checks only the syntax, and would pass on a record with a lone
    /// surrogate escape, a number beyond f64 or 200 levels of nesting that
    /// the host's own JSON parser then refuses (a `query_page` fuzz finding).
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
                    assert_eq!(page.records.as_json(), format!("[{record}]"));
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
        assert_eq!(page_of(twice).unwrap().records.as_json(), r#"[{"Id":"1"}]"#);
        let twice = r#"{"totalSize":1,"done":true,"records":[{"Id":"1"}],"records":{"a":[]}}"#;
        assert!(page_of(twice).is_err());
    }

    #[test]
    fn records_truncate_append_and_join() {
        let page = page_of(r#"{"totalSize":3,"done":true,"records":[{"a":[1,2]}, {"b":2} ,3]}"#);
        let mut records = page.unwrap().records;
        let copy = records.clone();
        records.truncate(2);
        assert_eq!(
            (records.as_json(), records.len()),
            (r#"[{"a":[1,2]}, {"b":2}]"#, 2)
        );
        records.append(copy.clone());
        assert_eq!(records.len(), 5);
        assert_eq!(
            records.as_json(),
            r#"[{"a":[1,2]}, {"b":2},{"a":[1,2]}, {"b":2} ,3]"#
        );
        records.truncate(0);
        assert_eq!((records.as_json(), records.is_empty()), ("[]", true));
        records.append(copy.clone());
        records.append(Records::default());
        assert_eq!(records.as_json(), copy.as_json());
        // Room reserved on a server's word is bounded and changes nothing.
        records.reserve_like(u64::MAX);
        Records::default().reserve_like(u64::MAX);
        assert_eq!(records.as_json(), copy.as_json());
        let joined = Records::join(["1", r#"{"x":"y"}"#]);
        assert_eq!((joined.as_json(), joined.len()), (r#"[1,{"x":"y"}]"#, 2));
        assert_eq!(Records::join([]).as_json(), "[]");
        let value = serde_json::to_value(&joined).unwrap();
        assert_eq!(value, serde_json::json!([1, {"x": "y"}]));
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
