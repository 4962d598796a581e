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
    pub name: &'static str,
    pub description: &'static str,
    pub input_schema: Value,
}

const SCHEMA: &str = "https://json-schema.org/draft/2020-12/schema";

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "$schema": SCHEMA,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn sobject() -> Value {
    json!({"type": "string", "minLength": 1, "description": "API name of the object, e.g. Account, Contact, Invoice__c"})
}

fn record_id() -> Value {
    json!({"type": "string", "minLength": 15, "description": "15 or 18 character Salesforce record id"})
}

fn field_names() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": "Fields to return; omit for all fields"})
}

fn fields_object() -> Value {
    json!({"type": "object", "description": "Field API names to values, e.g. {\"Name\": \"Acme\", \"Industry\": \"Energy\"}"})
}

fn record_list(max: u64) -> Value {
    json!({"type": "array", "minItems": 1, "maxItems": max, "items": {"type": "object"},
           "description": "Records as objects of field API names to values"})
}

fn all_or_none() -> Value {
    json!({"type": "boolean", "description": "Roll back a request's writes when any record in it fails (per 200-record chunk). Default false."})
}

pub fn catalog() -> Vec<Tool> {
    vec![
        Tool {
            name: "soql_query",
            description: "Run a read-only SOQL query (SELECT ... FROM ...) and return the matching records as JSON. Use it to find or list records when you know the object and fields. Follows pages automatically up to max_records (default 2000) and says `truncated: true` with a `nextRecordsUrl` when more rows exist; use soql_query_more to continue. Set include_deleted to also see deleted and archived rows.",
            input_schema: object(json!({
                "soql": {"type": "string", "minLength": 1, "description": "The SOQL query, e.g. SELECT Id, Name FROM Account WHERE Industry = 'Energy' LIMIT 10"},
                "max_records": {"type": "integer", "minimum": 1, "maximum": 50000, "description": "Stop after this many records (default 2000)"},
                "include_deleted": {"type": "boolean", "description": "Use queryAll to include deleted and archived rows"}
            }), &["soql"]),
        },
        Tool {
            name: "soql_query_more",
            description: "Fetch the next page of a query that soql_query reported as truncated, using its nextRecordsUrl. Returns one page of up to 2000 records and the next nextRecordsUrl, if any.",
            input_schema: object(json!({
                "next_records_url": {"type": "string", "minLength": 1, "description": "The nextRecordsUrl from a previous result"}
            }), &["next_records_url"]),
        },
        Tool {
            name: "sosl_search",
            description: "Full-text search across objects with SOSL, e.g. FIND {Acme} IN NAME FIELDS RETURNING Account(Id, Name), Contact(Id, Name). Use it when you have a name, email or phone fragment but do not know which object holds it. Returns the matching records.",
            input_schema: object(json!({
                "sosl": {"type": "string", "minLength": 1, "description": "The SOSL search; the term goes in braces"}
            }), &["sosl"]),
        },
        Tool {
            name: "get_record",
            description: "Read one record by its Salesforce id. Returns the record's fields as JSON; pass fields to limit them.",
            input_schema: object(json!({"sobject": sobject(), "id": record_id(), "fields": field_names()}), &["sobject", "id"]),
        },
        Tool {
            name: "get_record_by_external_id",
            description: "Read one record by the value of an external id field (for example ExtId__c = 'ERP-42'). Fails with multiple-choices when several records match.",
            input_schema: object(json!({
                "sobject": sobject(),
                "external_id_field": {"type": "string", "minLength": 1, "description": "API name of the external id field"},
                "external_id": {"type": "string", "minLength": 1},
                "fields": field_names()
            }), &["sobject", "external_id_field", "external_id"]),
        },
        Tool {
            name: "create_record",
            description: "Create one record and return its new id. Required fields depend on the object (Account needs Name; Contact needs LastName); use describe_sobject to see them. This writes to the org.",
            input_schema: object(json!({"sobject": sobject(), "fields": fields_object()}), &["sobject", "fields"]),
        },
        Tool {
            name: "update_record",
            description: "Change fields of one existing record identified by id. Only the given fields change. This writes to the org.",
            input_schema: object(json!({"sobject": sobject(), "id": record_id(), "fields": fields_object()}), &["sobject", "id", "fields"]),
        },
        Tool {
            name: "upsert_record",
            description: "Create or update one record matched by an external id field: creates it when no record has that value, updates it when one does, and fails with the candidate records when several do. Returns the id and whether it was created. This writes to the org.",
            input_schema: object(json!({
                "sobject": sobject(),
                "external_id_field": {"type": "string", "minLength": 1},
                "external_id": {"type": "string", "minLength": 1},
                "fields": fields_object()
            }), &["sobject", "external_id_field", "external_id", "fields"]),
        },
        Tool {
            name: "delete_record",
            description: "Delete one record by id (it goes to the recycle bin). This writes to the org; confirm with the user first.",
            input_schema: object(json!({"sobject": sobject(), "id": record_id()}), &["sobject", "id"]),
        },
        Tool {
            name: "create_records",
            description: "Create many records of one object in as few requests as possible (200 per request, in order). Returns one result per record with its id or its errors. This writes to the org.",
            input_schema: object(json!({"sobject": sobject(), "records": record_list(10_000), "all_or_none": all_or_none()}), &["sobject", "records"]),
        },
        Tool {
            name: "update_records",
            description: "Update many records of one object; every record object must include its Id. Returns one result per record. This writes to the org.",
            input_schema: object(json!({"sobject": sobject(), "records": record_list(10_000), "all_or_none": all_or_none()}), &["sobject", "records"]),
        },
        Tool {
            name: "upsert_records",
            description: "Create or update many records matched by an external id field; each record object includes that field. Returns one result per record with `created`. This writes to the org.",
            input_schema: object(json!({
                "sobject": sobject(),
                "external_id_field": {"type": "string", "minLength": 1},
                "records": record_list(10_000),
                "all_or_none": all_or_none()
            }), &["sobject", "external_id_field", "records"]),
        },
        Tool {
            name: "delete_records",
            description: "Delete many records by id (200 per request). Returns one result per id. This writes to the org; confirm with the user first.",
            input_schema: object(json!({
                "ids": {"type": "array", "minItems": 1, "maxItems": 10_000, "items": record_id()},
                "all_or_none": all_or_none()
            }), &["ids"]),
        },
        Tool {
            name: "composite",
            description: "Run up to 25 REST subrequests in one round trip. A later subrequest can use an earlier result with @{referenceId.field}, e.g. create an Account then a Contact with AccountId @{newAccount.id}. With all_or_none every write is rolled back if one fails. Returns each subresponse's status and body.",
            input_schema: object(json!({
                "all_or_none": all_or_none(),
                "requests": {"type": "array", "minItems": 1, "maxItems": 25, "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["method", "url", "reference_id"],
                    "properties": {
                        "method": {"type": "string", "enum": ["GET", "POST", "PATCH", "PUT", "DELETE"]},
                        "url": {"type": "string", "minLength": 1, "description": "Path under /services/data/vNN.N/"},
                        "reference_id": {"type": "string", "minLength": 1},
                        "body": {"type": "object"}
                    }
                }}
            }), &["requests"]),
        },
        Tool {
            name: "describe_global",
            description: "List every object in the org with its API name, label and whether it is queryable, createable and custom. Use it to discover which objects exist.",
            input_schema: object(json!({}), &[]),
        },
        Tool {
            name: "describe_sobject",
            description: "Describe one object: its fields with their API names, labels, types, lengths, picklist values and whether they are required, plus child relationships. Use it before writing a query or a record.",
            input_schema: object(json!({"sobject": sobject()}), &["sobject"]),
        },
        Tool {
            name: "org_limits",
            description: "Show the org's limits and what remains of them, e.g. DailyApiRequests. Use it before a large job.",
            input_schema: object(json!({}), &[]),
        },
        Tool {
            name: "current_user",
            description: "Who the connector is signed in as: user id, org id, username, name, email, locale and time zone.",
            input_schema: object(json!({}), &[]),
        },
        Tool {
            name: "api_versions",
            description: "List the REST API versions the org serves, oldest first; the last is the newest.",
            input_schema: object(json!({}), &[]),
        },
    ]
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
            let names: Vec<&str> = catalog.iter().map(|t| t.name).collect();
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
        let mut names: Vec<&str> = catalog.iter().map(|t| t.name).collect();
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
}
