//! The tool catalog: every schema is valid draft 2020-12 JSON Schema, every
//! tool runs through `invoke` against the mock, and bad arguments name the
//! argument.

mod common;

use common::*;
use salesforce_host::wit;
use serde_json::{json, Value};
use std::collections::BTreeSet;

async fn invoke(client: &mut salesforce_host::Client, name: &str, args: Value) -> Value {
    let out = client
        .invoke(name, &args.to_string())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name} returned non-JSON ({e}): {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_schema_is_valid_json_schema() {
    let mock = mock().await;
    let client = password_client(&mock);
    let tools = client.tools().await.unwrap();
    assert!(tools.len() >= 15);
    for tool in &tools {
        let schema: Value = serde_json::from_str(&tool.input_schema).unwrap();
        jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert!(jsonschema::validator_for(&schema).is_ok(), "{}", tool.name);
    }
    assert_eq!(mock.token_requests(), 0, "listing tools needs no login");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tool_runs_against_the_mock() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let catalog: BTreeSet<String> = client
        .tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let schemas: std::collections::HashMap<String, Value> = client
        .tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.name, serde_json::from_str(&t.input_schema).unwrap()))
        .collect();
    let mut ran = BTreeSet::new();
    let mut run = async |client: &mut salesforce_host::Client, name: &str, args: Value| {
        assert!(
            jsonschema::is_valid(&schemas[name], &args),
            "the test's arguments for {name} must satisfy its schema"
        );
        ran.insert(name.to_string());
        invoke(client, name, args).await
    };

    let id = run(
        &mut client,
        "create_record",
        json!({"sobject": "Account", "fields": {"Name": "Tool Co"}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        run(
            &mut client,
            "get_record",
            json!({"sobject": "Account", "id": id, "fields": ["Name"]})
        )
        .await["Name"],
        "Tool Co"
    );
    run(
        &mut client,
        "update_record",
        json!({"sobject": "Account", "id": id, "fields": {"Industry": "Energy"}}),
    )
    .await;
    let up = run(&mut client, "upsert_record", json!({"sobject": "Account", "external_id_field": "ExtId__c", "external_id": "TOOL-1", "fields": {"Name": "Tool Up"}})).await;
    assert_eq!(up["created"], true);
    let by_ext = run(
        &mut client,
        "get_record_by_external_id",
        json!({"sobject": "Account", "external_id_field": "ExtId__c", "external_id": "TOOL-1"}),
    )
    .await;
    assert_eq!(by_ext["Name"], "Tool Up");

    let q = run(
        &mut client,
        "soql_query",
        json!({"soql": "SELECT Id FROM Account", "max_records": 2000}),
    )
    .await;
    assert_eq!(q["truncated"], true);
    let more = run(
        &mut client,
        "soql_query_more",
        json!({"next_records_url": q["nextRecordsUrl"]}),
    )
    .await;
    assert!(!more["records"].as_array().unwrap().is_empty());

    let found = run(
        &mut client,
        "sosl_search",
        json!({"sosl": "FIND {Tool Co} RETURNING Account(Id, Name)"}),
    )
    .await;
    assert!(found["searchRecords"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Id"] == id.as_str()));

    let created = run(&mut client, "create_records", json!({"sobject": "Contact", "records": [{"LastName": "A"}, {"LastName": "B"}, {"FirstName": "no last name"}]})).await;
    assert_eq!(
        (created["succeeded"].as_u64(), created["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        created["results"][2]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    let ids: Vec<Value> = created["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str().map(Value::from))
        .collect();
    let updates: Vec<Value> = ids
        .iter()
        .map(|i| json!({"Id": i, "Email": "updated@example.com"}))
        .collect();
    assert_eq!(
        run(
            &mut client,
            "update_records",
            json!({"sobject": "Contact", "records": updates})
        )
        .await["succeeded"],
        2
    );
    let upserted = run(&mut client, "upsert_records", json!({"sobject": "Account", "external_id_field": "ExtId__c", "records": [{"ExtId__c": "TOOL-1", "Name": "Again"}, {"ExtId__c": "TOOL-2", "Name": "New"}]})).await;
    assert_eq!(upserted["results"][0]["created"], false);
    assert_eq!(upserted["results"][1]["created"], true);
    assert_eq!(
        run(&mut client, "delete_records", json!({"ids": ids})).await["succeeded"],
        2
    );

    let composite = run(&mut client, "composite", json!({"all_or_none": true, "requests": [
        {"method": "POST", "url": "/services/data/v66.0/sobjects/Account", "reference_id": "acc", "body": {"Name": "Composite Co"}},
        {"method": "POST", "url": "/services/data/v66.0/sobjects/Contact", "reference_id": "con", "body": {"LastName": "Ref", "AccountId": "@{acc.id}"}}
    ]})).await;
    assert_eq!(composite[0]["httpStatusCode"], 201);
    assert_eq!(composite[1]["httpStatusCode"], 201);

    let read = run(
        &mut client,
        "retrieve_records",
        json!({"sobject": "Account",
        "ids": [id, "001999999999999AAA"], "fields": ["Name"]}),
    )
    .await;
    assert_eq!(read["records"][0]["Name"], "Tool Co");
    assert_eq!(read["records"][1], Value::Null);
    assert_eq!(read["notFound"], json!(["001999999999999AAA"]));

    let graphs = run(&mut client, "composite_graph", json!({"graphs": [
        {"graph_id": "good", "requests": [
            {"method": "POST", "url": "/services/data/v66.0/sobjects/Account/", "reference_id": "acc", "body": {"Name": "Graph Co"}},
            {"method": "POST", "url": "/services/data/v66.0/sobjects/Contact/", "reference_id": "con", "body": {"LastName": "G", "AccountId": "@{acc.id}"}}]},
        {"graph_id": "bad", "requests": [
            {"method": "POST", "url": "/services/data/v66.0/sobjects/Contact/", "reference_id": "con", "body": {"FirstName": "no last name"}}]}
    ]})).await;
    assert_eq!(graphs["graphs"][0]["isSuccessful"], true);
    assert_eq!(graphs["graphs"][1]["isSuccessful"], false);
    assert_eq!(
        graphs["graphs"][1]["responses"][0]["body"][0]["errorCode"],
        "REQUIRED_FIELD_MISSING"
    );

    let tree = run(&mut client, "create_record_tree", json!({"sobject": "Account", "records": [
        {"attributes": {"type": "Account", "referenceId": "acme"}, "Name": "Tree Co",
         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "Leaf"}]}}
    ]})).await;
    assert_eq!(tree["hasErrors"], false);
    assert_eq!(tree["results"][1]["referenceId"], "c1");
    let refused = run(
        &mut client,
        "create_record_tree",
        json!({"sobject": "Account", "records": [
            {"attributes": {"type": "Account", "referenceId": "acme"}, "Industry": "no name"}
        ]}),
    )
    .await;
    assert_eq!(refused["hasErrors"], true);
    assert_eq!(
        refused["results"][0]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );

    assert!(run(&mut client, "describe_global", json!({})).await["sobjects"].is_array());
    assert!(run(
        &mut client,
        "describe_sobject",
        json!({"sobject": "Contact"})
    )
    .await["fields"]
        .is_array());
    assert!(run(&mut client, "org_limits", json!({})).await["DailyApiRequests"].is_object());
    assert_eq!(
        run(&mut client, "current_user", json!({})).await["preferred_username"],
        mock.credentials().username.as_str()
    );
    assert!(!run(&mut client, "api_versions", json!({}))
        .await
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        run(
            &mut client,
            "delete_record",
            json!({"sobject": "Account", "id": id})
        )
        .await["success"],
        true
    );

    let job = client
        .create_query_job("SELECT Id FROM Account", false, None)
        .await
        .unwrap();
    let status = run(
        &mut client,
        "bulk_job_status",
        json!({"job_id": job.id, "kind": "query"}),
    )
    .await;
    assert_eq!(
        (status["object"].as_str(), status["operation"].as_str()),
        (Some("Account"), Some("query")),
        "{status}"
    );

    let bulk = run(
        &mut client,
        "bulk_query",
        json!({"soql": "SELECT Id, Name FROM Account ORDER BY Name", "sample_rows": 2}),
    )
    .await;
    assert_eq!(bulk["complete"], true, "{bulk}");
    assert_eq!(bulk["sampleRows"], 2, "{bulk}");
    assert_eq!(bulk["moreRows"], true, "{bulk}");
    let csv = bulk["sampleCsv"].as_str().unwrap();
    assert!(csv.starts_with("\"Id\",\"Name\""), "{csv}");
    assert_eq!(csv.lines().count(), 3, "a header and two rows: {csv}");

    assert_eq!(ran, catalog, "every tool in the catalog is exercised");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_are_named_never_a_trap() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let cases = [
        ("soql_query", r#"{"soql": 5}"#, "arguments.soql"),
        ("soql_query", r#"{}"#, "arguments.soql"),
        (
            "soql_query",
            r#"{"soql": "SELECT Id FROM Account", "limit": 3}"#,
            "arguments.limit",
        ),
        (
            "soql_query",
            r#"{"soql": "x", "max_records": 0}"#,
            "arguments.max_records",
        ),
        (
            "create_records",
            r#"{"sobject": "Account", "records": [{"Name": "a"}, 7]}"#,
            "arguments.records[1]",
        ),
        (
            "composite",
            r#"{"requests": [{"method": "TRACE", "url": "/x", "reference_id": "r"}]}"#,
            "arguments.requests[0].method",
        ),
        ("soql_query", "{not json", "arguments"),
        ("no_such_tool", "{}", "name"),
    ];
    for (tool, args, field) in cases {
        match component_error(client.invoke(tool, args).await) {
            wit::Error::InvalidRequest(p) => {
                assert_eq!(p.field, field, "{tool} {args}: {}", p.message)
            }
            other => panic!("{tool} {args}: {other:?}"),
        }
    }
}
