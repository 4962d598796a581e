//! The tool catalog for agents: one tool per operation, each with a
//! description written for a language model and a JSON Schema (draft
//! 2020-12) for its arguments; `invoke` validates and runs them.

#[allow(unused_imports)]
use crate::prelude::*;

mod schema;

use crate::collections::{self, Batch};
use crate::error::Error;
use crate::guardrails::Guardrails;
use crate::http::{Method, Transport};
use crate::query::QueryOptions;
use crate::session::Session;
use crate::{composite, graph, org, query, records, retrieve, tree};
use serde_json::{json, Value};

/// One tool, in the shape MCP uses.
pub struct Tool {
    /// Stable snake_case name, e.g. `soql_query`.
    pub name: String,
    /// What it does, when to use it and its limits, for a language model.
    pub description: String,
    /// JSON Schema (draft 2020-12) of the arguments object.
    pub input_schema: Value,
}

/// Each tool's description and argument properties. `{"$shared": name}`
/// stands for one of the `shared` schemas, so common arguments are written
/// once. Data rather than code: `json!` literals cost the component about
/// 15 KB more than this text.
const CATALOG: &str = include_str!("catalog.json");

const SCHEMA: &str = "https://json-schema.org/draft/2020-12/schema";

/// Every tool, in catalog order.
pub fn catalog() -> Vec<Tool> {
    // The file is part of the source and a unit test parses it, so a
    // failure here cannot reach a user; no tools is the non-panicking answer.
    let Ok(mut doc) = serde_json::from_str::<Value>(CATALOG) else {
        return Vec::new();
    };
    let shared = doc["shared"].take();
    let Value::Array(tools) = doc["tools"].take() else {
        return Vec::new();
    };
    tools
        .into_iter()
        .map(|mut t| Tool {
            name: take_string(&mut t["name"]),
            description: take_string(&mut t["description"]),
            input_schema: json!({
                "$schema": SCHEMA,
                "type": "object",
                "properties": resolve(t["properties"].take(), &shared),
                "required": t["required"].take(),
                "additionalProperties": false,
            }),
        })
        .collect()
}

fn take_string(v: &mut Value) -> String {
    match v.take() {
        Value::String(s) => s,
        _ => String::new(),
    }
}

/// Replaces every `{"$shared": name}` with that shared schema.
fn resolve(v: Value, shared: &Value) -> Value {
    match v {
        Value::Object(o) => match o.get("$shared").and_then(Value::as_str) {
            Some(name) => shared[name].clone(),
            None => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (k, resolve(v, shared)))
                    .collect(),
            ),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(|v| resolve(v, shared)).collect()),
        v => v,
    }
}

fn arg<'a>(args: &'a Value, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn strings(args: &Value, name: &str) -> Vec<String> {
    args.get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn parsed(text: impl Into<String>) -> Value {
    let text = text.into();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn results(batch: Batch) -> Value {
    let list = batch.results;
    let ok = list.iter().filter(|r| r.success).count();
    let items: Vec<Value> = list
        .into_iter()
        .map(|r| {
            let errors: Vec<Value> = r
                .errors
                .into_iter()
                .map(|e| json!({"statusCode": e.error_code, "message": e.message, "fields": e.fields}))
                .collect();
            json!({"id": r.id, "success": r.success, "created": r.created, "errors": errors})
        })
        .collect();
    json!({"succeeded": ok, "failed": items.len() - ok, "results": items})
}

/// Validates `arguments_json` against the tool's schema, runs it, and returns
/// its result as JSON text.
pub fn invoke(
    t: &mut dyn Transport,
    s: &Session,
    name: &str,
    arguments_json: &str,
) -> Result<String, Error> {
    invoke_within(t, s, &Guardrails::default(), name, arguments_json)
}

/// [`invoke`] within the owner's guardrails: refused before anything is sent
/// when it would break one, and its result screened on the way back.
pub fn invoke_within(
    t: &mut dyn Transport,
    s: &Session,
    guardrails: &Guardrails,
    name: &str,
    arguments_json: &str,
) -> Result<String, Error> {
    let catalog = catalog();
    let tool = catalog
        .iter()
        .find(|tool| tool.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = catalog.iter().map(|t| t.name.as_str()).collect();
            Error::request(
                "name",
                format!("no tool `{name}`; the tools are {}", names.join(", ")),
            )
        })?;
    let args: Value = if arguments_json.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(arguments_json)
            .map_err(|e| Error::request("arguments", format!("are not valid JSON ({e})")))?
    };
    schema::validate(&tool.input_schema, &args, "")?;
    let args = guardrails.admit(t, s, name, args)?;
    let mut out = run(t, s, name, &args)?;
    guardrails.screen(name, &mut out)?;
    Ok(out.to_string())
}

fn run(t: &mut dyn Transport, s: &Session, name: &str, args: &Value) -> Result<Value, Error> {
    Ok(match name {
        "soql_query" | "soql_query_more" => run_query(t, s, name, args)?,
        "sosl_search" => json!({"searchRecords": parsed(org::search(t, s, arg(args, "sosl"))?)}),
        "get_record"
        | "get_record_by_external_id"
        | "create_record"
        | "update_record"
        | "upsert_record"
        | "delete_record" => run_record(t, s, name, args)?,
        "create_records" | "update_records" | "upsert_records" | "delete_records" => {
            run_collection(t, s, name, args)?
        }
        "retrieve_records" => run_retrieve(t, s, args)?,
        "composite" => run_composite(t, s, args)?,
        "composite_graph" => run_graph(t, s, args)?,
        "create_record_tree" => run_tree(t, s, args)?,
        "bulk_query" => run_bulk_query(t, s, args)?,
        "bulk_job_status" => run_bulk_status(t, s, args)?,
        "describe_global" | "describe_sobject" | "org_limits" | "current_user" | "api_versions" => {
            run_org(t, s, name, args)?
        }
        other => {
            return Err(Error::request(
                "name",
                format!("tool `{other}` has no runner"),
            ))
        }
    })
}

/// `soql_query` (every page up to `max_records`) and `soql_query_more`.
fn run_query(t: &mut dyn Transport, s: &Session, name: &str, args: &Value) -> Result<Value, Error> {
    if name == "soql_query_more" {
        let next = arg(args, "next_records_url");
        let p = query::query_more(t, s, next, &QueryOptions::default())?;
        return Ok(
            json!({"totalSize": p.total_size, "done": p.done, "nextRecordsUrl": p.next_records_url, "records": p.records}),
        );
    }
    let opts = QueryOptions {
        include_deleted: args["include_deleted"].as_bool().unwrap_or(false),
        batch_size: None,
        follow_children: true,
    };
    let max = args["max_records"].as_u64().unwrap_or(2000);
    let r = query::query_all_pages(t, s, arg(args, "soql"), &opts, Some(max))?;
    Ok(
        json!({"totalSize": r.total_size, "fetched": r.records.len(), "truncated": r.truncated,
              "nextRecordsUrl": r.next_records_url, "records": r.records}),
    )
}

/// The single-record tools.
fn run_record(
    t: &mut dyn Transport,
    s: &Session,
    name: &str,
    args: &Value,
) -> Result<Value, Error> {
    let (sobject, id) = (arg(args, "sobject"), arg(args, "id"));
    let fields = args["fields"].to_string();
    let (ext_field, ext_id) = (arg(args, "external_id_field"), arg(args, "external_id"));
    Ok(match name {
        "get_record" => parsed(records::get(t, s, sobject, id, &strings(args, "fields"))?),
        "get_record_by_external_id" => parsed(records::get_by_external_id(
            t,
            s,
            sobject,
            ext_field,
            ext_id,
            &strings(args, "fields"),
        )?),
        "create_record" => {
            json!({"id": records::create(t, s, sobject, &fields)?.id, "success": true})
        }
        "update_record" => {
            records::update(t, s, sobject, id, &fields)?;
            json!({"id": id, "success": true})
        }
        "upsert_record" => {
            let o = records::upsert(t, s, sobject, ext_field, ext_id, &fields)?;
            json!({"id": o.id, "created": o.created, "success": true})
        }
        _ => {
            records::delete(t, s, sobject, id)?;
            json!({"id": id, "success": true})
        }
    })
}

/// The sObject Collections tools.
fn run_collection(
    t: &mut dyn Transport,
    s: &Session,
    name: &str,
    args: &Value,
) -> Result<Value, Error> {
    let all = args["all_or_none"].as_bool().unwrap_or(false);
    let (sobject, list) = (arg(args, "sobject"), args["records"].to_string());
    Ok(results(match name {
        "create_records" => collections::write(t, s, sobject, None, &list, all)?,
        "update_records" => collections::update(t, s, sobject, &list, all)?,
        "upsert_records" => {
            let field = Some(arg(args, "external_id_field"));
            collections::write(t, s, sobject, field, &list, all)?
        }
        _ => collections::delete(t, s, &strings(args, "ids"), all)?,
    }))
}

/// `retrieve_records`: one slot per id, and the ids that found nothing.
fn run_retrieve(t: &mut dyn Transport, s: &Session, args: &Value) -> Result<Value, Error> {
    let ids = strings(args, "ids");
    let found = retrieve::retrieve(t, s, arg(args, "sobject"), &ids, &strings(args, "fields"))?;
    let not_found: Vec<&String> = ids
        .iter()
        .zip(&found.records)
        .filter(|(_, r)| r.is_none())
        .map(|(id, _)| id)
        .collect();
    let records: Vec<Value> = found
        .records
        .into_iter()
        .map(|r| r.map(parsed).unwrap_or(Value::Null))
        .collect();
    Ok(json!({"records": records, "notFound": not_found}))
}

/// The subrequests (or graph nodes) of a tool's `requests` argument.
fn subrequests(requests: &Value) -> Vec<composite::Subrequest> {
    requests
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| composite::Subrequest {
            method: match arg(r, "method") {
                "POST" => Method::Post,
                "PATCH" => Method::Patch,
                "PUT" => Method::Put,
                "DELETE" => Method::Delete,
                _ => Method::Get,
            },
            url: arg(r, "url").to_string(),
            reference_id: arg(r, "reference_id").to_string(),
            body: r.get("body").map(Value::to_string),
            http_headers: Vec::new(),
        })
        .collect()
}

fn responses_out(responses: Vec<composite::Subresponse>) -> Value {
    Value::Array(
        responses
            .into_iter()
            .map(|r| json!({"referenceId": r.reference_id, "httpStatusCode": r.status, "body": parsed(r.body)}))
            .collect(),
    )
}

fn run_composite(t: &mut dyn Transport, s: &Session, args: &Value) -> Result<Value, Error> {
    let subs = subrequests(&args["requests"]);
    let all = args["all_or_none"].as_bool().unwrap_or(false);
    Ok(responses_out(
        composite::composite(t, s, all, &subs)?.responses,
    ))
}

fn run_graph(t: &mut dyn Transport, s: &Session, args: &Value) -> Result<Value, Error> {
    let graphs: Vec<graph::Graph> = args["graphs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| graph::Graph {
            graph_id: arg(g, "graph_id").to_string(),
            requests: subrequests(&g["requests"]),
        })
        .collect();
    let result = graph::composite_graph(t, s, &graphs)?;
    let graphs: Vec<Value> = result
        .graphs
        .into_iter()
        .map(|g| json!({"graphId": g.graph_id, "isSuccessful": g.is_successful, "responses": responses_out(g.responses)}))
        .collect();
    Ok(json!({ "graphs": graphs }))
}

fn run_tree(t: &mut dyn Transport, s: &Session, args: &Value) -> Result<Value, Error> {
    let records = args["records"].to_string();
    let out = tree::create_tree(t, s, arg(args, "sobject"), &records)?;
    let results: Vec<Value> = out
        .results
        .into_iter()
        .map(|r| match r.errors.is_empty() {
            true => json!({"referenceId": r.reference_id, "id": r.id}),
            false => {
                let errors: Vec<Value> = r
                    .errors
                    .into_iter()
                    .map(|e| json!({"statusCode": e.error_code, "message": e.message, "fields": e.fields}))
                    .collect();
                json!({"referenceId": r.reference_id, "errors": errors})
            }
        })
        .collect();
    Ok(json!({"hasErrors": out.has_errors, "results": results}))
}

/// `bulk_query`: a query job, waited on within `wait_seconds`, and a
/// sample of its rows; the whole result stays with Salesforce (a host may
/// save it to a file and add its path).
fn run_bulk_query(t: &mut dyn Transport, s: &Session, args: &Value) -> Result<Value, Error> {
    use crate::bulk::{self, Delimiter, JobKind, JobState};
    let all = args["include_deleted"].as_bool().unwrap_or(false);
    let job = bulk::create_query_job(t, s, arg(args, "soql"), all, Delimiter::Comma)?;
    let wait_ms = args["wait_seconds"].as_u64().unwrap_or(60).min(120) as u32 * 1000;
    let job = bulk::wait_for_job(t, s, JobKind::Query, &job.id, wait_ms)?;
    let mut out = json!({
        "jobId": job.id, "state": format!("{:?}", job.state),
        "numberRecordsProcessed": job.records_processed,
        "complete": job.state == JobState::JobComplete,
    });
    if job.state == JobState::JobComplete {
        let rows = args["sample_rows"].as_u64().unwrap_or(20).clamp(1, 200) as u32;
        let page = bulk::query_results(t, s, &job.id, None, Some(rows))?;
        out["sampleRows"] = page.records.into();
        out["sampleCsv"] = page.csv.into();
        out["moreRows"] = page.next_locator.is_some().into();
    }
    Ok(out)
}

/// `bulk_job_status`: one look at a job, never a wait.
fn run_bulk_status(t: &mut dyn Transport, s: &Session, args: &Value) -> Result<Value, Error> {
    use crate::bulk::{job_status, JobKind};
    let kind = match arg(args, "kind") {
        "query" => JobKind::Query,
        _ => JobKind::Ingest,
    };
    let job = job_status(t, s, kind, arg(args, "job_id"))?;
    Ok(json!({
        "id": job.id, "operation": job.operation, "object": job.sobject,
        "state": format!("{:?}", job.state), "numberRecordsProcessed": job.records_processed,
        "numberRecordsFailed": job.records_failed, "errorMessage": job.error_message,
        "createdDate": job.created_date,
    }))
}

/// The org metadata tools.
fn run_org(t: &mut dyn Transport, s: &Session, name: &str, args: &Value) -> Result<Value, Error> {
    Ok(match name {
        "describe_global" => parsed(org::describe_global(t, s)?),
        "describe_sobject" => parsed(org::describe_sobject(t, s, arg(args, "sobject"))?),
        "org_limits" => parsed(org::limits(t, s)?),
        "current_user" => parsed(org::userinfo(t, s)?),
        _ => Value::Array(
            org::api_versions(t, s)?
                .into_iter()
                .map(|v| json!({"version": v.version, "label": v.label, "url": v.url}))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_snake_case_and_described() {
        let catalog = super::catalog();
        let mut names: Vec<&str> = catalog.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), catalog.len());
        for t in &catalog {
            assert!(
                t.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                t.name
            );
            assert!(t.description.len() > 60, "{}", t.name);
            assert_eq!(t.input_schema["type"], "object");
        }
    }

    #[test]
    fn catalog_text_parses_and_every_shared_schema_resolves() {
        fn no_nulls(v: &serde_json::Value, at: &str) {
            match v {
                serde_json::Value::Null => panic!("unresolved schema at {at}"),
                serde_json::Value::Object(o) => {
                    assert!(!o.contains_key("$shared"), "{at}");
                    o.iter()
                        .for_each(|(k, v)| no_nulls(v, &format!("{at}/{k}")));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| no_nulls(v, at)),
                _ => {}
            }
        }
        let catalog = super::catalog();
        assert_eq!(catalog.len(), 24);
        for t in &catalog {
            no_nulls(&t.input_schema, &t.name);
            let properties = t.input_schema["properties"].as_object().unwrap();
            for r in t.input_schema["required"].as_array().unwrap() {
                assert!(
                    properties.contains_key(r.as_str().unwrap()),
                    "{}: {r}",
                    t.name
                );
            }
        }
        let ids = &super::catalog()[12].input_schema["properties"]["ids"];
        assert_eq!(
            ids["items"]["minLength"], 15,
            "a $shared nested in items resolves"
        );
    }
}
