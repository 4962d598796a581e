//! Composite Graph and sObject Tree end to end: a graph commits or rolls
//! back alone, a tree is all or nothing, and the documented limits are
//! refused by the component before sending and by the mock when sent anyway.

mod common;

use common::*;
use salesforce_host::{ops, wit, Client, PLAIN_QUERY};
use serde_json::{json, Value};

const V: &str = "/services/data/v66.0";

fn node(
    method: wit::Method,
    url: &str,
    reference_id: &str,
    body: Option<Value>,
) -> ops::Subrequest {
    ops::Subrequest {
        method,
        url: format!("{V}{url}"),
        reference_id: reference_id.into(),
        body: body.map(|b| b.to_string()),
        http_headers: Vec::new(),
    }
}

fn graph(id: &str, requests: Vec<ops::Subrequest>) -> ops::Graph {
    ops::Graph {
        graph_id: id.into(),
        requests,
    }
}

fn new_account(reference_id: &str, name: &str) -> ops::Subrequest {
    node(
        wit::Method::Post,
        "/sobjects/Account/",
        reference_id,
        Some(json!({"Name": name})),
    )
}

async fn count(client: &mut Client, soql: &str) -> u64 {
    client.query(soql, PLAIN_QUERY).await.unwrap().total_size
}

fn graph_posts(mock: &salesforce_mock::Mock) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path.ends_with("/composite/graph"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_graph_commits_or_rolls_back_alone() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let contact =
        |r: &str, body: Value| node(wit::Method::Post, "/sobjects/Contact/", r, Some(body));
    let result = client
        .composite_graph(&[
            graph(
                "g1",
                vec![
                    new_account("acct", "Graph One"),
                    contact(
                        "cont",
                        json!({"LastName": "Cashman", "AccountId": "@{acct.id}"}),
                    ),
                    node(
                        wit::Method::Get,
                        "/sobjects/Contact/@{cont.id}",
                        "read",
                        None,
                    ),
                ],
            ),
            graph(
                "g2",
                vec![
                    new_account("acct", "Graph Two"),
                    contact(
                        "cont",
                        json!({"FirstName": "No last name", "AccountId": "@{acct.id}"}),
                    ),
                    new_account("after", "Graph Two After"),
                ],
            ),
        ])
        .await
        .unwrap();
    assert_eq!(graph_posts(&mock), 1, "one call for every graph");
    let [g1, g2] = &result.graphs[..] else {
        panic!("{:?}", result.graphs)
    };
    assert_eq!((g1.graph_id.as_str(), g1.is_successful), ("g1", true));
    let statuses: Vec<u16> = g1.responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 201, 200]);
    let account: Value = serde_json::from_str(&g1.responses[0].body).unwrap();
    let read: Value = serde_json::from_str(&g1.responses[2].body).unwrap();
    assert_eq!(read["AccountId"], account["id"], "the reference resolved");

    assert!(!g2.is_successful);
    let codes: Vec<String> = g2
        .responses
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()[0]["errorCode"].to_string())
        .collect();
    assert_eq!(
        codes,
        [
            "\"PROCESSING_HALTED\"",
            "\"REQUIRED_FIELD_MISSING\"",
            "\"PROCESSING_HALTED\""
        ],
        "the failing node carries the real error"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT Id FROM Account WHERE Name = 'Graph One'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT Id FROM Account WHERE Name LIKE 'Graph Two%'"
        )
        .await,
        0,
        "the failed graph rolled back, only itself"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_fourteen_failed_graphs_the_rest_are_not_run() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let bad = node(
        wit::Method::Post,
        "/sobjects/Account/",
        "bad",
        Some(json!({"Industry": "no name"})),
    );
    let mut graphs: Vec<ops::Graph> = (0..14)
        .map(|i| graph(&format!("bad{i}"), vec![bad.clone()]))
        .collect();
    graphs.push(graph("good", vec![new_account("acct", "Never Run")]));
    let result = client.composite_graph(&graphs).await.unwrap();
    let last = result.graphs.last().unwrap();
    assert!(!last.is_successful);
    assert!(
        last.responses[0].body.contains("PROCESSING_HALTED"),
        "{}",
        last.responses[0].body
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT Id FROM Account WHERE Name = 'Never Run'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_limits_are_refused_before_sending() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let chain = |n: usize| -> Vec<ops::Subrequest> {
        (0..n)
            .map(|i| match i {
                0 => new_account("n0", "Deep"),
                // Each read names the record by the previous answer's Id.
                1 => node(wit::Method::Get, "/sobjects/Account/@{n0.id}", "n1", None),
                _ => node(
                    wit::Method::Get,
                    &format!("/sobjects/Account/@{{n{}.Id}}", i - 1),
                    &format!("n{i}"),
                    None,
                ),
            })
            .collect()
    };
    let many: Vec<ops::Graph> = (0..76).map(|i| graph(&format!("g{i}"), chain(1))).collect();
    let query = node(
        wit::Method::Get,
        "/query?q=SELECT+Id+FROM+Account",
        "q",
        None,
    );
    let cases = [
        (many, "1 to 75 graphs"),
        (
            (0..26)
                .map(|i| graph(&format!("g{i}"), chain(20)))
                .collect(),
            "520 nodes",
        ),
        (vec![graph("g", chain(16))], "16 nodes deep"),
        (vec![graph("g", vec![query])], "a graph node must be"),
        (vec![graph("g", chain(1)), graph("g", chain(1))], "unique"),
    ];
    for (graphs, why) in cases {
        match component_error(client.composite_graph(&graphs).await) {
            wit::Error::InvalidRequest(p) => {
                assert_eq!(p.field, "graphs");
                assert!(p.message.contains(why), "{why}: {}", p.message);
            }
            other => panic!("{why}: {other:?}"),
        }
    }
    assert_eq!(graph_posts(&mock), 0, "nothing was sent");
    let fifteen = client
        .composite_graph(&[graph("g", chain(15))])
        .await
        .unwrap();
    assert!(
        fifteen.graphs[0].is_successful,
        "15 deep is within the limit"
    );
}

/// The mock refuses what Salesforce refuses, whatever client sends it.
#[tokio::test(flavor = "multi_thread")]
async fn the_mock_enforces_the_graph_limits() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let node = |r: &str| json!({"method": "POST", "url": format!("{V}/sobjects/Account/"), "referenceId": r, "body": {"Name": r}});
    let send = async |client: &mut Client, body: Value| {
        let request = with_body(
            wit::Method::Post,
            &format!("{V}/composite/graph"),
            &body.to_string(),
        );
        match component_error(client.call(&request).await) {
            wit::Error::ApiError(f) => (f.status, f.errors[0].error_code.clone()),
            other => panic!("{other:?}"),
        }
    };
    let graphs: Vec<Value> = (0..76)
        .map(|i| json!({"graphId": format!("g{i}"), "compositeRequest": [node("a")]}))
        .collect();
    assert_eq!(
        send(&mut client, json!({"graphs": graphs})).await,
        (400, "LIMIT_EXCEEDED".into())
    );
    let nodes: Vec<Value> = (0..501).map(|i| node(&format!("a{i}"))).collect();
    let body = json!({"graphs": [{"graphId": "g", "compositeRequest": nodes}]});
    assert_eq!(
        send(&mut client, body).await,
        (400, "LIMIT_EXCEEDED".into())
    );
    let query = json!({"method": "GET", "url": format!("{V}/query?q=SELECT+Id+FROM+Account"), "referenceId": "q"});
    let body = json!({"graphs": [{"graphId": "g", "compositeRequest": [query]}]});
    assert_eq!(send(&mut client, body).await, (400, "INVALID_INPUT".into()));
    let body = json!({"graphs": [{"graphId": "_g", "compositeRequest": [node("a")]}]});
    assert_eq!(send(&mut client, body).await, (400, "INVALID_INPUT".into()));
}

fn tree_record(ty: &str, reference_id: &str, fields: Value) -> Value {
    let mut r = fields;
    r["attributes"] = json!({"type": ty, "referenceId": reference_id});
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tree_is_created_whole_with_its_children_linked() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let mut acme = tree_record(
        "Account",
        "acme",
        json!({"Name": "Tree Acme", "Industry": "Banking"}),
    );
    acme["Contacts"] = json!({"records": [
        tree_record("Contact", "smith", json!({"LastName": "Smith"})),
        tree_record("Contact", "evans", json!({"LastName": "Evans"})),
    ]});
    acme["Opportunities"] = json!({"records": [
        tree_record("Opportunity", "deal", json!({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"})),
    ]});
    let other = tree_record("Account", "other", json!({"Name": "Tree Other"}));
    let records = json!([acme, other]).to_string();
    let result = client
        .create_record_tree("Account", &records)
        .await
        .unwrap();
    assert!(!result.has_errors);
    let refs: Vec<&str> = result
        .results
        .iter()
        .map(|r| r.reference_id.as_str())
        .collect();
    assert_eq!(
        refs,
        ["acme", "other", "smith", "evans", "deal"],
        "roots first, then each level"
    );
    let id = |r: &str| {
        result
            .results
            .iter()
            .find(|x| x.reference_id == r)
            .and_then(|x| x.id.clone())
            .unwrap()
    };
    let contacts = client
        .retrieve_records(
            "Contact",
            &[id("smith"), id("evans")],
            &["AccountId".into()],
        )
        .await
        .unwrap();
    for c in contacts.records {
        let c: Value = serde_json::from_str(&c.unwrap()).unwrap();
        assert_eq!(c["AccountId"], id("acme"), "a child points at its parent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_tree_creates_nothing_and_names_the_record() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let mut acme = tree_record("Account", "acme", json!({"Name": "Half Tree"}));
    acme["Contacts"] = json!({"records": [
        tree_record("Contact", "fine", json!({"LastName": "Fine"})),
        tree_record("Contact", "nameless", json!({"FirstName": "No last name"})),
    ]});
    let result = client
        .create_record_tree("Account", &json!([acme]).to_string())
        .await
        .unwrap();
    assert!(result.has_errors);
    assert_eq!(result.results.len(), 1, "only the offending record");
    let refused = &result.results[0];
    assert_eq!(
        (refused.reference_id.as_str(), refused.id.as_deref()),
        ("nameless", None)
    );
    assert_eq!(refused.errors[0].error_code, "REQUIRED_FIELD_MISSING");
    assert_eq!(
        count(
            &mut client,
            "SELECT Id FROM Account WHERE Name = 'Half Tree'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT Id FROM Contact WHERE LastName = 'Fine'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tree_limits_are_refused_by_the_component_and_by_the_mock() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let flat: Vec<Value> = (0..201)
        .map(|i| {
            tree_record(
                "Account",
                &format!("a{i}"),
                json!({"Name": format!("Flat {i}")}),
            )
        })
        .collect();
    let twice = json!([
        tree_record("Account", "same", json!({"Name": "One"})),
        tree_record("Account", "same", json!({"Name": "Two"})),
    ]);
    for (records, why) in [
        (json!(flat), "201 records"),
        (twice.clone(), "unique"),
        (
            json!([tree_record("Contact", "c", json!({"LastName": "x"}))]),
            "must be Account",
        ),
    ] {
        match component_error(
            client
                .create_record_tree("Account", &records.to_string())
                .await,
        ) {
            wit::Error::InvalidRequest(p) => {
                assert_eq!(p.field, "records-json");
                assert!(p.message.contains(why), "{why}: {}", p.message);
            }
            other => panic!("{why}: {other:?}"),
        }
    }
    assert!(
        !mock
            .requests()
            .iter()
            .any(|r| r.path.contains("/composite/tree/")),
        "nothing was sent"
    );

    let path = format!("{V}/composite/tree/Account");
    let send = |records: &Value| {
        with_body(
            wit::Method::Post,
            &path,
            &json!({"records": records}).to_string(),
        )
    };
    match component_error(client.call(&send(&json!(flat))).await) {
        wit::Error::ApiError(f) => assert_eq!(
            (f.status, f.errors[0].error_code.as_str()),
            (400, "LIMIT_EXCEEDED")
        ),
        other => panic!("{other:?}"),
    }
    // Duplicates are per-record errors (a hasErrors body, which `call`
    // quotes as a response without Salesforce's error array).
    match component_error(client.call(&send(&twice)).await) {
        wit::Error::UnexpectedResponse(u) => {
            assert_eq!(u.status, 400);
            assert!(u.excerpt.contains(r#""hasErrors":true"#), "{}", u.excerpt);
            assert!(u.excerpt.contains("Duplicate ReferenceId"), "{}", u.excerpt);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        count(&mut client, "SELECT Id FROM Account WHERE Name = 'One'").await,
        0
    );
}
