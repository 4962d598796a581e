//! Guardrails: what an agent may do with the tools, as its owner sets it
//! (never the model). A read-only mode, an allowlist of objects and a cap on
//! rows per call, enforced here so every host gets the same rules.
//!
//! A call is checked before anything is sent (`admit`) and its result before
//! it is returned (`screen`): every record Salesforce returns names its
//! object in `attributes.type`, so a reach the first check could not see
//! still never reaches the agent.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod reach;
pub mod soql;
pub mod sosl;

use crate::error::Error;
use crate::http::Transport;
use crate::session::Session;
use serde_json::Value;

/// The owner's limits on what the tools may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guardrails {
    /// Every tool that writes refuses.
    pub read_only: bool,
    /// The only objects a tool may read or write; `None` allows any.
    pub allowed_objects: Option<Allowed>,
    /// The most rows one call returns or writes.
    pub max_rows: Option<u32>,
}

/// An allowlist of object API names (case-insensitive, as Salesforce treats
/// them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowed(Vec<String>);

impl Allowed {
    /// `Account, Contact` or `Account,Contact`.
    pub fn parse(list: &str) -> Self {
        Self::new(list.split(','))
    }

    /// The names given, trimmed, empty ones dropped.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            names
                .into_iter()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    /// Whether `object` is on the list.
    pub fn contains(&self, object: &str) -> bool {
        self.0.iter().any(|a| a.eq_ignore_ascii_case(object))
    }

    /// `denied`, naming the object and the list, unless it is on it.
    pub fn check(&self, object: &str) -> Result<(), Error> {
        match self.contains(object) {
            true => Ok(()),
            false => Err(Error::Denied(format!(
                "`{object}` is not among the allowed objects ({}); the allowed-objects guardrail \
                 is set by SF_ALLOWED_OBJECTS or sf-host --allowed-objects",
                self.0.join(", ")
            ))),
        }
    }
}

/// The tools that write, whatever their arguments; `composite` and
/// `composite_graph` write when one of their subrequests does.
const WRITES: [&str; 9] = [
    "create_record",
    "update_record",
    "upsert_record",
    "delete_record",
    "create_records",
    "update_records",
    "upsert_records",
    "delete_records",
    "create_record_tree",
];

impl Guardrails {
    /// Whether any guardrail is set.
    pub fn any(&self) -> bool {
        self.read_only || self.allowed_objects.is_some() || self.max_rows.is_some()
    }

    /// Refuses the call, or returns its arguments with the row cap applied,
    /// before anything is sent. Checking the allowlist may read the org's
    /// describe through `t`.
    pub fn admit(
        &self,
        t: &mut dyn Transport,
        s: &Session,
        tool: &str,
        mut args: Value,
    ) -> Result<Value, Error> {
        if self.read_only && writes(tool, &args) {
            return Err(Error::Denied(format!(
                "`{tool}` writes, and the read-only guardrail (SF_READ_ONLY, sf-host --read-only) \
                 allows reads only"
            )));
        }
        if let Some(max) = self.max_rows {
            cap_request(tool, &mut args, max)?;
        }
        if let Some(allowed) = &self.allowed_objects {
            let mut org = OrgMetadata::new(t, s);
            admit_objects(&mut org, allowed, tool, &args)?;
        }
        Ok(args)
    }

    /// Refuses a result holding a record of an object off the allowlist,
    /// narrows describe-global to the allowlist, and cuts rows to the cap.
    pub fn screen(&self, tool: &str, out: &mut Value) -> Result<(), Error> {
        if let Some(allowed) = &self.allowed_objects {
            if tool == "describe_global" {
                if let Some(list) = out.get_mut("sobjects").and_then(Value::as_array_mut) {
                    list.retain(|o| o["name"].as_str().is_some_and(|n| allowed.contains(n)));
                }
            }
            if tool == "bulk_job_status" {
                if let Some(object) = out["object"].as_str() {
                    allowed.check(object)?;
                }
            }
            record_types(out, allowed)?;
        }
        if let Some(max) = self.max_rows {
            cap_result(out, max as usize);
        }
        Ok(())
    }
}

/// Whether running `tool` with `arguments_json` writes to the org: the rule
/// read-only applies, for callers that must know whether a call may be sent
/// again (unreadable arguments count as none; the tool refuses them anyway).
pub fn tool_writes(tool: &str, arguments_json: &str) -> bool {
    let args = serde_json::from_str(arguments_json).unwrap_or(Value::Null);
    writes(tool, &args)
}

fn writes(tool: &str, args: &Value) -> bool {
    match tool {
        "composite" => subrequests(args).any(writing),
        "composite_graph" => graph_nodes(args).any(writing),
        _ => WRITES.contains(&tool),
    }
}

/// A subrequest or graph node that is not a GET.
fn writing(r: &Value) -> bool {
    r["method"].as_str().unwrap_or("GET") != "GET"
}

fn subrequests(args: &Value) -> impl Iterator<Item = &Value> {
    args["requests"].as_array().into_iter().flatten()
}

/// Every node of every graph of `composite_graph`.
fn graph_nodes(args: &Value) -> impl Iterator<Item = &Value> {
    args["graphs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(subrequests)
}

/// The records of an sObject Tree, children included.
fn tree_records(records: &Value) -> usize {
    records
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let children: usize = r
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, v)| v.get("records"))
                .map(tree_records)
                .sum();
            1 + children
        })
        .sum()
}

/// The rows a call would write. `retrieve_records` reads: its result is
/// cut to the cap instead.
fn rows_written(tool: &str, args: &Value) -> usize {
    match tool {
        "retrieve_records" => 0,
        "create_record_tree" => tree_records(&args["records"]),
        "composite" => subrequests(args).filter(|r| writing(r)).count(),
        "composite_graph" => graph_nodes(args).filter(|r| writing(r)).count(),
        _ => ["records", "ids"]
            .iter()
            .filter_map(|k| args[*k].as_array())
            .map(Vec::len)
            .sum(),
    }
}

/// The cap on a query's `max_records`, and a refusal for writes of more
/// records than it.
fn cap_request(tool: &str, args: &mut Value, max: u32) -> Result<(), Error> {
    if tool == "soql_query" {
        let asked = args["max_records"].as_u64().unwrap_or(u64::MAX);
        args["max_records"] = u64::from(max).min(asked).into();
    }
    if tool == "bulk_query" {
        let asked = args["sample_rows"].as_u64().unwrap_or(20);
        args["sample_rows"] = u64::from(max).min(asked).into();
    }
    let rows = rows_written(tool, args);
    match rows > max as usize {
        true => Err(Error::Denied(format!(
            "`{tool}` would write {rows} rows, more than the max-rows guardrail's {max} \
             (SF_MAX_ROWS, sf-host --max-rows); split it into smaller calls"
        ))),
        false => Ok(()),
    }
}

/// Cuts `records` and `searchRecords` lists (also inside composite answers)
/// to `max`, saying so with `truncated` and how many were left out.
fn cap_result(out: &mut Value, max: usize) {
    if let Value::Array(responses) = out {
        responses
            .iter_mut()
            .for_each(|r| cap_result(&mut r["body"], max));
        return;
    }
    for key in ["records", "searchRecords"] {
        let Some(list) = out.get_mut(key).and_then(Value::as_array_mut) else {
            continue;
        };
        if list.len() > max {
            let omitted = list.len() - max;
            list.truncate(max);
            out["truncated"] = true.into();
            out["omittedByMaxRows"] = omitted.into();
        }
    }
}

/// Every `attributes.type` in `v` is on the allowlist.
fn record_types(v: &Value, allowed: &Allowed) -> Result<(), Error> {
    match v {
        Value::Object(map) => {
            if let Some(ty) = map.get("attributes").and_then(|a| a["type"].as_str()) {
                allowed.check(ty)?;
            }
            map.values().try_for_each(|v| record_types(v, allowed))
        }
        Value::Array(list) => list.iter().try_for_each(|v| record_types(v, allowed)),
        _ => Ok(()),
    }
}

fn arg<'a>(args: &'a Value, name: &str) -> &'a str {
    args[name].as_str().unwrap_or_default()
}

fn admit_objects(
    m: &mut dyn reach::Metadata,
    allowed: &Allowed,
    tool: &str,
    args: &Value,
) -> Result<(), Error> {
    let object = arg(args, "sobject");
    let field_names = || {
        args["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    match tool {
        "soql_query" | "bulk_query" => reach::query(m, allowed, arg(args, "soql")),
        "sosl_search" => reach::search(m, allowed, arg(args, "sosl")),
        "get_record" | "get_record_by_external_id" | "retrieve_records" => {
            reach::fields(m, allowed, object, field_names())
        }
        "create_record" | "update_record" | "upsert_record" => {
            reach::record(m, allowed, object, &args["fields"])
        }
        "create_records" | "update_records" | "upsert_records" => args["records"]
            .as_array()
            .into_iter()
            .flatten()
            .try_for_each(|r| reach::record(m, allowed, object, r)),
        "delete_records" => reach::ids(
            m,
            allowed,
            args["ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        ),
        "delete_record" | "describe_sobject" => allowed.check(object),
        "composite" => subrequests(args).try_for_each(|r| subrequest(m, allowed, r)),
        "composite_graph" => graph_nodes(args).try_for_each(|r| subrequest(m, allowed, r)),
        "create_record_tree" => reach::tree(m, allowed, object, &args["records"]),
        // Checked on the way back: the records a locator pages through.
        "soql_query_more" => Ok(()),
        // Narrowed on the way back; a job's object is checked on the way back.
        "describe_global" | "bulk_job_status" => Ok(()),
        // No object: the org's limits, the user's own profile, versions.
        "org_limits" | "current_user" | "api_versions" => Ok(()),
        other => Err(reach::undecidable(&format!(
            "the tool `{other}` is not known to the guardrails"
        ))),
    }
}

/// A composite subrequest: `sobjects/{object}[/...]` with its body, or a
/// `query`; nothing else can be decided.
fn subrequest(m: &mut dyn reach::Metadata, allowed: &Allowed, r: &Value) -> Result<(), Error> {
    let url = arg(r, "url");
    let rest = url
        .strip_prefix("/services/data/")
        .and_then(|p| p.split_once('/'))
        .map(|(_version, rest)| rest)
        .ok_or_else(|| reach::undecidable(&format!("subrequest `{url}`")))?;
    if let Some(q) = rest
        .strip_prefix("query?q=")
        .or_else(|| rest.strip_prefix("query/?q="))
    {
        let soql = percent_encoding::percent_decode_str(q.split('&').next().unwrap_or_default())
            .decode_utf8()
            .map_err(|_| reach::undecidable("a subrequest query is not UTF-8"))?
            .replace('+', " ");
        return reach::query(m, allowed, &soql);
    }
    match rest
        .strip_prefix("sobjects/")
        .map(|p| p.split(['/', '?']).next().unwrap_or_default())
    {
        Some(object) if !object.is_empty() => reach::record(m, allowed, object, &r["body"]),
        _ => Err(reach::undecidable(&format!("subrequest `{url}`"))),
    }
}

/// The org's describe, fetched once per object per call.
struct OrgMetadata<'a> {
    t: &'a mut dyn Transport,
    s: &'a Session,
    described: Vec<(String, Value)>,
    global: Option<Value>,
}

impl<'a> OrgMetadata<'a> {
    fn new(t: &'a mut dyn Transport, s: &'a Session) -> Self {
        Self {
            t,
            s,
            described: Vec::new(),
            global: None,
        }
    }
}

impl reach::Metadata for OrgMetadata<'_> {
    fn describe(&mut self, object: &str) -> Result<&Value, Error> {
        let at = match self
            .described
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(object))
        {
            Some(at) => at,
            None => {
                let json = crate::org::describe_sobject(self.t, self.s, object)?;
                let value = serde_json::from_str(&json.body).unwrap_or(Value::Null);
                self.described.push((object.to_string(), value));
                self.described.len() - 1
            }
        };
        Ok(&self.described[at].1)
    }

    fn global(&mut self) -> Result<&Value, Error> {
        if self.global.is_none() {
            let json = crate::org::describe_global(self.t, self.s)?;
            self.global = Some(serde_json::from_str(&json.body).unwrap_or(Value::Null));
        }
        Ok(self.global.get_or_insert(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_only_refuses_writes_and_composite_writes_only() {
        let g = Guardrails {
            read_only: true,
            ..Guardrails::default()
        };
        for tool in WRITES {
            assert!(writes(tool, &json!({})), "{tool}");
        }
        assert!(!writes("soql_query", &json!({})));
        assert!(!writes(
            "composite",
            &json!({"requests": [{"method": "GET", "url": "/x"}]})
        ));
        assert!(writes(
            "composite",
            &json!({"requests": [{"method": "GET"}, {"method": "DELETE"}]})
        ));
        let graphs = |method: &str| {
            json!({"graphs": [{"graph_id": "g", "requests": [{"method": "GET"}]},
                              {"graph_id": "h", "requests": [{"method": method}]}]})
        };
        assert!(!writes("composite_graph", &graphs("GET")));
        assert!(writes("composite_graph", &graphs("PATCH")));
        assert!(writes("create_record_tree", &json!({})));
        assert!(!writes("retrieve_records", &json!({})));
        assert!(g.any());
    }

    #[test]
    fn the_row_cap_lowers_max_records_and_refuses_large_writes() {
        let mut args = json!({"soql": "SELECT Id FROM Account", "max_records": 500});
        cap_request("soql_query", &mut args, 50).unwrap();
        assert_eq!(args["max_records"], 50);
        let mut args = json!({"soql": "SELECT Id FROM Account"});
        cap_request("soql_query", &mut args, 50).unwrap();
        assert_eq!(args["max_records"], 50);
        let mut args = json!({"sobject": "Account", "records": [{}, {}, {}]});
        let err = cap_request("create_records", &mut args, 2).unwrap_err();
        assert!(
            err.to_string()
                .contains("3 rows, more than the max-rows guardrail's 2"),
            "{err}"
        );
        let mut tree = json!({"sobject": "Account", "records": [
            {"Name": "A", "Contacts": {"records": [{"LastName": "B"}, {"LastName": "C"}]}}]});
        let err = cap_request("create_record_tree", &mut tree, 2).unwrap_err();
        assert!(err.to_string().contains("3 rows"), "children count: {err}");
        let mut graph = json!({"graphs": [{"requests": [{"method": "POST"}, {"method": "GET"}]},
                                          {"requests": [{"method": "DELETE"}]}]});
        assert!(
            cap_request("composite_graph", &mut graph, 2).is_ok(),
            "GETs do not write"
        );
        assert!(cap_request("composite_graph", &mut graph, 1).is_err());
        let mut read = json!({"sobject": "Account", "ids": ["a", "b", "c"], "fields": ["Id"]});
        assert!(
            cap_request("retrieve_records", &mut read, 1).is_ok(),
            "a read is cut, not refused"
        );
    }

    #[test]
    fn the_row_cap_cuts_results_and_says_so() {
        let mut out = json!({"records": [1, 2, 3], "done": false});
        cap_result(&mut out, 2);
        assert_eq!(
            out,
            json!({"records": [1, 2], "done": false, "truncated": true, "omittedByMaxRows": 1})
        );
        let mut out = json!([{"body": {"searchRecords": [1, 2]}}]);
        cap_result(&mut out, 1);
        assert_eq!(out[0]["body"]["omittedByMaxRows"], 1);
    }

    #[test]
    fn screening_refuses_foreign_records_and_narrows_describe_global() {
        let g = Guardrails {
            allowed_objects: Some(Allowed::parse("Account")),
            ..Guardrails::default()
        };
        let mut ok = json!({"records": [{"attributes": {"type": "Account"}, "Name": "A"}]});
        g.screen("soql_query_more", &mut ok).unwrap();
        let mut nested = json!({"records": [{"attributes": {"type": "Account"},
            "Owner": {"attributes": {"type": "User"}, "Name": "U"}}]});
        let err = g.screen("soql_query_more", &mut nested).unwrap_err();
        assert!(err.to_string().contains("`User`"), "{err}");
        let mut global = json!({"sobjects": [{"name": "Account"}, {"name": "Lead"}]});
        g.screen("describe_global", &mut global).unwrap();
        assert_eq!(global, json!({"sobjects": [{"name": "Account"}]}));
    }
}
