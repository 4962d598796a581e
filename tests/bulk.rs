//! Large reads and many-record writes: a 10 000-record query arrives complete
//! and in order, collections chunk in order, all-or-none rolls back, and
//! composite references resolve.

mod common;

use common::*;
use salesforce_host::{ops, wit, PLAIN_QUERY};
use salesforce_mock::{Mock, MockOptions};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_records_arrive_complete_and_in_order() {
    let mock = Mock::start(MockOptions {
        extra_accounts: 10_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut client = password_client(&mock);
    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk%' ORDER BY Name";
    let options = PLAIN_QUERY;
    let all = client.query_all_pages(soql, options, None).await.unwrap();
    assert_eq!(
        (all.total_size, all.fetched, all.pages, all.truncated),
        (10_000, 10_000, 5, false)
    );
    let records: Vec<Value> = serde_json::from_str(&all.records).unwrap();
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=10_000).map(|n| format!("Bulk {n:05}")).collect();
    assert_eq!(names, expected, "every record once, in order");

    // jsforce stops at 10 000 by default without saying so; a cap here says it.
    let capped = client
        .query_all_pages(soql, options, Some(9_999))
        .await
        .unwrap();
    assert!(capped.truncated);
    assert_eq!(capped.fetched, 9_999);
}

#[tokio::test(flavor = "multi_thread")]
async fn collections_chunk_in_order_and_report_each_record() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let records: Vec<Value> = (0..450)
        .map(|i| json!({"Name": format!("Chunk {i:03}")}))
        .collect();
    mock.clear_requests();
    let results = client
        .create_records("Account", &Value::from(records).to_string(), false)
        .await
        .unwrap()
        .results;
    assert_eq!(results.len(), 450);
    assert!(results.iter().all(|r| r.success && r.id.is_some()));
    let posts: Vec<usize> = mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/composite/sobjects"))
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["records"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(posts, vec![200, 200, 50], "three requests, in order");
    let ids: Vec<String> = results.iter().map(|r| r.id.clone().unwrap()).collect();
    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Chunk%' ORDER BY Name";
    let page = client
        .query_all_pages(soql, PLAIN_QUERY, None)
        .await
        .unwrap();
    let stored: Vec<String> = serde_json::from_str::<Vec<Value>>(&page.records)
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, ids, "ids come back in input order");

    let deleted = client.delete_records(&ids, false).await.unwrap().results;
    assert!(deleted.iter().all(|r| r.success));
}

#[tokio::test(flavor = "multi_thread")]
async fn all_or_none_rolls_back_and_says_why() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let batch = r#"[{"Name":"AON 1"},{"Industry":"no name"},{"Name":"AON 3"}]"#;
    let results = client
        .create_records("Account", batch, true)
        .await
        .unwrap()
        .results;
    assert!(results.iter().all(|r| !r.success));
    assert_eq!(results[1].errors[0].error_code, "REQUIRED_FIELD_MISSING");
    assert_eq!(
        results[0].errors[0].error_code,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    let left = client
        .query("SELECT Id FROM Account WHERE Name LIKE 'AON%'", PLAIN_QUERY)
        .await
        .unwrap();
    assert_eq!(left.total_size, 0, "nothing was written");

    let partial = client
        .create_records("Account", batch, false)
        .await
        .unwrap()
        .results;
    assert_eq!(
        partial.iter().map(|r| r.success).collect::<Vec<_>>(),
        vec![true, false, true]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_references_and_rollback() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let sub =
        |method: wit::Method, url: &str, reference_id: &str, body: Option<&str>| ops::Subrequest {
            http_headers: Vec::new(),
            method,
            url: url.into(),
            reference_id: reference_id.into(),
            body: body.map(str::to_string),
        };
    let v = "/services/data/v66.0";
    let ok = client
        .composite(
            true,
            &[
                sub(
                    wit::Method::Post,
                    &format!("{v}/sobjects/Account"),
                    "acc",
                    Some(r#"{"Name":"Ref Co"}"#),
                ),
                sub(
                    wit::Method::Post,
                    &format!("{v}/sobjects/Contact"),
                    "con",
                    Some(r#"{"LastName":"Ref","AccountId":"@{acc.id}"}"#),
                ),
                sub(
                    wit::Method::Get,
                    &format!("{v}/sobjects/Contact/@{{con.id}}"),
                    "read",
                    None,
                ),
            ],
        )
        .await
        .unwrap()
        .responses;
    assert_eq!(
        ok.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![201, 201, 200]
    );
    let account: Value = serde_json::from_str(&ok[0].body).unwrap();
    let contact: Value = serde_json::from_str(&ok[2].body).unwrap();
    assert_eq!(contact["AccountId"], account["id"]);

    let failed = client
        .composite(
            true,
            &[
                sub(
                    wit::Method::Post,
                    &format!("{v}/sobjects/Account"),
                    "acc",
                    Some(r#"{"Name":"Rolled Back Co"}"#),
                ),
                sub(
                    wit::Method::Post,
                    &format!("{v}/sobjects/Contact"),
                    "con",
                    Some(r#"{"FirstName":"No last name"}"#),
                ),
            ],
        )
        .await
        .unwrap()
        .responses;
    assert_eq!(failed[1].status, 400);
    assert!(
        failed[0].body.contains("PROCESSING_HALTED"),
        "{}",
        failed[0].body
    );
    let left = client
        .query(
            "SELECT Id FROM Account WHERE Name = 'Rolled Back Co'",
            PLAIN_QUERY,
        )
        .await
        .unwrap();
    assert_eq!(left.total_size, 0, "the first write was rolled back");

    let too_many: Vec<ops::Subrequest> = (0..26)
        .map(|i| {
            sub(
                wit::Method::Get,
                &format!("{v}/limits"),
                &format!("r{i}"),
                None,
            )
        })
        .collect();
    assert!(matches!(
        component_error(client.composite(false, &too_many).await),
        wit::Error::InvalidRequest(_)
    ));
}
