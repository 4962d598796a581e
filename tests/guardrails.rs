//! Guardrails end to end: the component enforces read-only, the object
//! allowlist and the row cap on `invoke-within`, against the mock's real
//! describe, and refuses before anything is sent.

mod common;

use common::*;
use salesforce_host::{tools::Guardrails, wit, Client, HostError};
use serde_json::{json, Value};

fn only(objects: &[&str]) -> Guardrails {
    Guardrails {
        read_only: false,
        allowed_objects: Some(objects.iter().map(|o| o.to_string()).collect()),
        max_rows: None,
    }
}

async fn run(
    client: &mut Client,
    g: &Guardrails,
    tool: &str,
    args: Value,
) -> Result<Value, HostError> {
    let out = client.invoke_within(g, tool, &args.to_string()).await?;
    Ok(serde_json::from_str(&out).expect("a tool result is JSON"))
}

fn denied(result: Result<Value, HostError>) -> String {
    match component_error(result) {
        wit::Error::Denied(m) => m,
        other => panic!("expected denied, got {other:?}"),
    }
}

/// Requests other than the login and the describes the allowlist reads.
fn data_requests(mock: &salesforce_mock::Mock) -> Vec<String> {
    mock.requests()
        .into_iter()
        .filter(|r| !r.path.ends_with("/oauth2/token") && !r.path.ends_with("/describe"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_refuses_every_write_before_sending_it() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let g = Guardrails {
        read_only: true,
        allowed_objects: None,
        max_rows: None,
    };
    let found = run(
        &mut client,
        &g,
        "soql_query",
        json!({"soql": "SELECT Name FROM Account LIMIT 2"}),
    )
    .await
    .unwrap();
    assert_eq!(found["fetched"], 2);
    mock.clear_requests();
    let writes = [
        (
            "create_record",
            json!({"sobject": "Account", "fields": {"Name": "X"}}),
        ),
        (
            "delete_record",
            json!({"sobject": "Account", "id": "001000000000001AAA"}),
        ),
        (
            "upsert_records",
            json!({"sobject": "Account", "external_id_field": "ExtId__c", "records": [{"ExtId__c": "1"}]}),
        ),
        (
            "composite",
            json!({"requests": [{"method": "PATCH", "url": "/services/data/v66.0/sobjects/Account/001000000000001AAA", "reference_id": "a", "body": {"Name": "Y"}}]}),
        ),
    ];
    for (tool, args) in writes {
        let m = denied(run(&mut client, &g, tool, args).await);
        assert!(
            m.contains("read-only") && m.contains("SF_READ_ONLY"),
            "{tool}: {m}"
        );
    }
    assert!(
        mock.requests().is_empty(),
        "nothing was sent: {:?}",
        data_requests(&mock)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn relationships_inside_the_allowlist_are_resolved_and_run() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let g = only(&["Account", "Contact"]);
    let soql = "SELECT LastName, Account.Name, (SELECT Id FROM Account.Contacts) FROM Contact";
    assert!(
        denied(run(&mut client, &g, "soql_query", json!({"soql": soql})).await)
            .contains("cannot tell")
    );
    let out = run(
        &mut client,
        &g,
        "soql_query",
        json!({"soql": "SELECT LastName, Account.Name FROM Contact WHERE Account.Name != null LIMIT 3"}),
    )
    .await
    .unwrap();
    assert!(out["fetched"].as_u64().unwrap() > 0, "{out}");
    assert!(out["records"][0]["Account"]["Name"].is_string(), "{out}");
    let out = run(
        &mut client,
        &g,
        "soql_query",
        json!({"soql": "SELECT Name, (SELECT LastName FROM Contacts) FROM Account LIMIT 2"}),
    )
    .await
    .unwrap();
    assert_eq!(out["fetched"], 2);
    let described: Vec<String> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/describe"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        described.len(),
        2,
        "Contact once, then Account once: {described:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_object_is_refused_through_a_path_a_subquery_or_a_semi_join() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let cases = [
        (
            &["Contact"][..],
            "SELECT LastName, Account.Name FROM Contact",
            "`Account`",
        ),
        (
            &["Contact"],
            "SELECT LastName FROM Contact WHERE Account.Industry = 'Energy'",
            "`Account`",
        ),
        (
            &["Account"],
            "SELECT Name, (SELECT LastName FROM Contacts) FROM Account",
            "`Contact`",
        ),
        (
            &["Account"],
            "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)",
            "`Opportunity`",
        ),
        (&["Account"], "SELECT Name FROM Lead", "`Lead`"),
    ];
    for (allowed, soql, names) in cases {
        mock.clear_requests();
        let m = denied(
            run(
                &mut client,
                &only(allowed),
                "soql_query",
                json!({"soql": soql}),
            )
            .await,
        );
        assert!(
            m.contains(names) && m.contains("SF_ALLOWED_OBJECTS"),
            "{soql}: {m}"
        );
        assert!(
            data_requests(&mock).is_empty(),
            "{soql}: the query was never sent"
        );
    }
    let g = only(&["Account"]);
    let refusals = [
        (
            "sosl_search",
            json!({"sosl": "FIND {Acme} RETURNING Account(Name), Contact"}),
        ),
        ("sosl_search", json!({"sosl": "FIND {Acme}"})),
        ("describe_sobject", json!({"sobject": "Lead"})),
        (
            "get_record",
            json!({"sobject": "Contact", "id": "003000000000001AAA"}),
        ),
        (
            "create_record",
            json!({"sobject": "Account", "fields": {"Name": "X", "attributes": {"type": "Lead"}}}),
        ),
        ("delete_records", json!({"ids": ["003000000000001AAA"]})),
        (
            "composite",
            json!({"requests": [{"method": "GET", "url": "/services/data/v66.0/query?q=SELECT+Id+FROM+Lead", "reference_id": "q"}]}),
        ),
    ];
    for (tool, args) in refusals {
        denied(run(&mut client, &g, tool, args.clone()).await);
    }
    let global = run(&mut client, &g, "describe_global", json!({}))
        .await
        .unwrap();
    let names: Vec<&str> = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Account"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_row_cap_stops_queries_and_refuses_larger_writes() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let g = Guardrails {
        read_only: false,
        allowed_objects: None,
        max_rows: Some(3),
    };
    let out = run(
        &mut client,
        &g,
        "soql_query",
        json!({"soql": "SELECT Name FROM Account", "max_records": 100}),
    )
    .await
    .unwrap();
    assert_eq!(
        (out["fetched"].as_u64(), out["truncated"].as_bool()),
        (Some(3), Some(true)),
        "{out}"
    );
    let four: Vec<Value> = (0..4)
        .map(|i| json!({"Name": format!("Cap {i}")}))
        .collect();
    let m = denied(
        run(
            &mut client,
            &g,
            "create_records",
            json!({"sobject": "Account", "records": four}),
        )
        .await,
    );
    assert!(m.contains("4 rows") && m.contains("SF_MAX_ROWS"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retrieve_graph_and_tree_are_held_by_the_guardrails() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let read_only = Guardrails {
        read_only: true,
        allowed_objects: None,
        max_rows: None,
    };
    let node = |method: &str, url: &str| json!({"method": method, "url": format!("/services/data/v66.0{url}"), "reference_id": "n", "body": {"Name": "X"}});
    let graphs = |n: Value| json!({"graphs": [{"graph_id": "g", "requests": [n]}]});
    let reading = graphs(
        json!({"method": "GET", "url": "/services/data/v66.0/sobjects/Account/001000000000001AAA", "reference_id": "r"}),
    );
    let out = run(&mut client, &read_only, "composite_graph", reading)
        .await
        .unwrap();
    assert_eq!(
        out["graphs"][0]["isSuccessful"], true,
        "a graph of reads is a read"
    );
    let tree = json!({"sobject": "Account", "records": [
        {"attributes": {"type": "Account", "referenceId": "a"}, "Name": "A",
         "Opportunities": {"records": [{"attributes": {"type": "Opportunity", "referenceId": "o"},
            "Name": "O", "StageName": "Prospecting", "CloseDate": "2026-12-31"}]}}]});
    mock.clear_requests();
    for (tool, args) in [
        (
            "composite_graph",
            graphs(node("POST", "/sobjects/Account/")),
        ),
        ("create_record_tree", tree.clone()),
    ] {
        let m = denied(run(&mut client, &read_only, tool, args).await);
        assert!(m.contains("read-only"), "{tool}: {m}");
    }
    assert!(mock.requests().is_empty(), "nothing was sent");

    let g = only(&["Account", "Contact"]);
    let m = denied(run(&mut client, &g, "create_record_tree", tree).await);
    assert!(
        m.contains("`Opportunity`"),
        "the child relationship is resolved: {m}"
    );
    let m = denied(
        run(
            &mut client,
            &g,
            "composite_graph",
            graphs(node("POST", "/sobjects/Lead/")),
        )
        .await,
    );
    assert!(m.contains("`Lead`"), "{m}");
    let m = denied(
        run(
            &mut client,
            &g,
            "retrieve_records",
            json!({"sobject": "Lead", "ids": ["00Q000000000001AAA"], "fields": ["Name"]}),
        )
        .await,
    );
    assert!(m.contains("`Lead`"), "{m}");
    assert!(
        data_requests(&mock).is_empty(),
        "refused before sending: {:?}",
        data_requests(&mock)
    );
    let capped = Guardrails {
        read_only: false,
        allowed_objects: Some(vec!["Account".into()]),
        max_rows: Some(2),
    };
    let ids: Vec<String> = (1..=3).map(|n| format!("001{n:0>12}AAA")).collect();
    let out = run(
        &mut client,
        &capped,
        "retrieve_records",
        json!({"sobject": "Account", "ids": ids, "fields": ["Name"]}),
    )
    .await
    .unwrap();
    assert_eq!(out["records"].as_array().unwrap().len(), 2);
    assert_eq!(
        (&out["truncated"], &out["omittedByMaxRows"]),
        (&json!(true), &json!(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_job_of_another_object_is_not_reported() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let job = client
        .create_query_job("SELECT Id FROM Lead", false, None)
        .await
        .unwrap();
    let args = json!({"job_id": job.id, "kind": "query"});
    let m = denied(
        run(
            &mut client,
            &only(&["Account"]),
            "bulk_job_status",
            args.clone(),
        )
        .await,
    );
    assert!(m.contains("`Lead`"), "{m}");
    let seen = run(&mut client, &only(&["Lead"]), "bulk_job_status", args)
        .await
        .unwrap();
    assert_eq!(seen["object"], "Lead");
}
