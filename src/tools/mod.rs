//! The tool catalog for agents: one tool per operation, each with a
//! description written for a language model and a JSON Schema (draft
//! 2020-12) for its arguments; `invoke` validates and runs them.

#[allow(unused_imports)]
use crate::prelude::*;

mod schema;

use crate::collections::{self, Batch};
use crate::error::Error;
use crate::http::{Method, Transport};
use crate::query::QueryOptions;
use crate::session::Session;
use crate::{composite, org, query, records};
use serde_json::{json, Value};

pub struct Tool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

/// Each tool's description and argument properties. `{"$shared": name}`
/// stands for one of the `shared` schemas, so common arguments are written
/// once. Data rather than code: `json!` literals cost the component about
/// 15 KB more than this text.
const CATALOG: &str = include_str!("catalog.json");

const SCHEMA: &str = "https://json-schema.org/draft/2020-12/schema";

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
    let text = |v: &Value| v.to_string();
    let out = match name {
        "soql_query" => {
            let opts = QueryOptions {
                include_deleted: args["include_deleted"].as_bool().unwrap_or(false),
                batch_size: None,
                follow_children: true,
            };
            let max = args["max_records"].as_u64().unwrap_or(2000);
            let r = query::query_all_pages(t, s, arg(&args, "soql"), &opts, Some(max))?;
            json!({"totalSize": r.total_size, "fetched": r.records.len(), "truncated": r.truncated,
                   "nextRecordsUrl": r.next_records_url, "records": r.records})
        }
        "soql_query_more" => {
            let p = query::query_more(
                t,
                s,
                arg(&args, "next_records_url"),
                &QueryOptions::default(),
            )?;
            json!({"totalSize": p.total_size, "done": p.done, "nextRecordsUrl": p.next_records_url, "records": p.records})
        }
        "sosl_search" => json!({"searchRecords": parsed(org::search(t, s, arg(&args, "sosl"))?)}),
        "get_record" => parsed(records::get(
            t,
            s,
            arg(&args, "sobject"),
            arg(&args, "id"),
            &strings(&args, "fields"),
        )?),
        "get_record_by_external_id" => parsed(records::get_by_external_id(
            t,
            s,
            arg(&args, "sobject"),
            arg(&args, "external_id_field"),
            arg(&args, "external_id"),
            &strings(&args, "fields"),
        )?),
        "create_record" => {
            json!({"id": records::create(t, s, arg(&args, "sobject"), &text(&args["fields"]))?.id, "success": true})
        }
        "update_record" => {
            records::update(
                t,
                s,
                arg(&args, "sobject"),
                arg(&args, "id"),
                &text(&args["fields"]),
            )?;
            json!({"id": arg(&args, "id"), "success": true})
        }
        "upsert_record" => {
            let o = records::upsert(
                t,
                s,
                arg(&args, "sobject"),
                arg(&args, "external_id_field"),
                arg(&args, "external_id"),
                &text(&args["fields"]),
            )?;
            json!({"id": o.id, "created": o.created, "success": true})
        }
        "delete_record" => {
            records::delete(t, s, arg(&args, "sobject"), arg(&args, "id"))?;
            json!({"id": arg(&args, "id"), "success": true})
        }
        "create_records" | "update_records" | "upsert_records" => {
            let all = args["all_or_none"].as_bool().unwrap_or(false);
            let (sobject, list) = (arg(&args, "sobject"), text(&args["records"]));
            results(match name {
                "create_records" => collections::write(t, s, sobject, None, &list, all)?,
                "update_records" => collections::update(t, s, sobject, &list, all)?,
                _ => collections::write(
                    t,
                    s,
                    sobject,
                    Some(arg(&args, "external_id_field")),
                    &list,
                    all,
                )?,
            })
        }
        "delete_records" => results(collections::delete(
            t,
            s,
            &strings(&args, "ids"),
            args["all_or_none"].as_bool().unwrap_or(false),
        )?),
        "composite" => {
            let subs: Vec<composite::Subrequest> = args["requests"]
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
                .collect();
            let responses =
                composite::composite(t, s, args["all_or_none"].as_bool().unwrap_or(false), &subs)?
                    .responses;
            Value::Array(
                responses
                    .into_iter()
                    .map(|r| json!({"referenceId": r.reference_id, "httpStatusCode": r.status, "body": parsed(r.body)}))
                    .collect(),
            )
        }
        "describe_global" => parsed(org::describe_global(t, s)?),
        "describe_sobject" => parsed(org::describe_sobject(t, s, arg(&args, "sobject"))?),
        "org_limits" => parsed(org::limits(t, s)?),
        "current_user" => parsed(org::userinfo(t, s)?),
        "api_versions" => Value::Array(
            org::api_versions(t, s)?
                .into_iter()
                .map(|v| json!({"version": v.version, "label": v.label, "url": v.url}))
                .collect(),
        ),
        other => {
            return Err(Error::request(
                "name",
                format!("tool `{other}` has no runner"),
            ))
        }
    };
    Ok(out.to_string())
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
        assert_eq!(catalog.len(), 19);
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
