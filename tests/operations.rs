//! The typed operations of the `operations` interface, end to end.

mod common;

use common::*;
use salesforce_host::{ops, wit};
use serde_json::Value;

fn opts(batch: Option<u32>) -> ops::QueryOptions {
    ops::QueryOptions {
        batch_size: batch,
        ..salesforce_host::PLAIN_QUERY
    }
}

fn ids(records_json: &str) -> Vec<String> {
    serde_json::from_str::<Vec<Value>>(records_json)
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_arrives_complete_and_in_order() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let soql = "SELECT Id, Name FROM Account ORDER BY Name";
    let all = client
        .query_all_pages(soql, opts(Some(500)), None)
        .await
        .unwrap();
    assert!(!all.truncated);
    assert_eq!(all.fetched, all.total_size);
    assert_eq!(all.pages as u64, all.total_size.div_ceil(500));

    // The same records, page by page with query + query-more, in the same order.
    let mut page = client.query(soql, opts(Some(500))).await.unwrap();
    let mut paged = ids(&page.records);
    while let Some(next) = page.next_records_url.clone() {
        page = client.query_more(&next, opts(Some(500))).await.unwrap();
        paged.extend(ids(&page.records));
    }
    assert_eq!(paged, ids(&all.records));
    let names: Vec<String> = serde_json::from_str::<Vec<Value>>(&all.records)
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "ORDER BY Name is kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cap_is_reported_never_silent() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let soql = "SELECT Id FROM Account";
    let capped = client
        .query_all_pages(soql, opts(Some(1000)), Some(2000))
        .await
        .unwrap();
    assert!(capped.truncated);
    assert_eq!((capped.fetched, capped.pages), (2000, 2));
    let next = capped
        .next_records_url
        .expect("a cap on a page boundary can resume");
    let rest = client.query_more(&next, opts(Some(1000))).await.unwrap();
    assert_eq!(
        rest.records.matches("\"Id\"").count() as u64,
        capped.total_size - 2000
    );

    let mid_page = client
        .query_all_pages(soql, opts(Some(1000)), Some(1500))
        .await
        .unwrap();
    assert!(mid_page.truncated);
    assert_eq!(mid_page.fetched, 1500);
    assert!(mid_page.next_records_url.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn records_and_query_all() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let id = client
        .create_record("Account", r#"{"Name":"Ops Test é"}"#)
        .await
        .unwrap()
        .id;
    client
        .update_record("Account", &id, r#"{"Industry":"Energy"}"#)
        .await
        .unwrap();
    let got: Value = serde_json::from_str(
        &client
            .get_record("Account", &id, &["Name".into(), "Industry".into()])
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        (got["Name"].as_str(), got["Industry"].as_str()),
        (Some("Ops Test é"), Some("Energy"))
    );
    client.delete_record("Account", &id).await.unwrap();

    let soql = format!("SELECT Id FROM Account WHERE Id = '{id}'");
    assert_eq!(client.query(&soql, opts(None)).await.unwrap().total_size, 0);
    let all = ops::QueryOptions {
        include_deleted: true,
        batch_size: None,
        follow_children: false,
    };
    assert_eq!(
        client.query(&soql, all).await.unwrap().total_size,
        1,
        "queryAll sees deleted rows"
    );

    let created = client
        .upsert_record("Account", "ExtId__c", "OPS/1 é", r#"{"Name":"Upsert"}"#)
        .await
        .unwrap();
    assert!(created.created && created.id.is_some());
    let updated = client
        .upsert_record("Account", "ExtId__c", "OPS/1 é", r#"{"Name":"Upsert 2"}"#)
        .await
        .unwrap();
    assert_eq!((updated.created, updated.id), (false, created.id));
    let by_ext: Value = serde_json::from_str(
        &client
            .get_record_by_external_id("Account", "ExtId__c", "OPS/1 é", &[])
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(by_ext["Name"], "Upsert 2");
    match component_error(
        client
            .upsert_record("Account", "ExtId__c", "DUP-1", r#"{"Name":"x"}"#)
            .await,
    ) {
        wit::Error::MultipleChoices(urls) => assert_eq!(urls.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn org_metadata() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let global: Value =
        serde_json::from_str(&client.describe_global().await.unwrap().body).unwrap();
    assert!(global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "Account"));
    let account: Value =
        serde_json::from_str(&client.describe_sobject("Account").await.unwrap().body).unwrap();
    assert!(account["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Name"));
    let limits: Value = serde_json::from_str(&client.limits().await.unwrap().body).unwrap();
    assert!(limits["DailyApiRequests"]["Max"].as_u64().is_some());
    let me: Value = serde_json::from_str(&client.userinfo().await.unwrap().body).unwrap();
    assert_eq!(
        me["preferred_username"],
        mock.credentials().username.as_str()
    );
    // Sforce-Limit-Info comes back with every operation's answer.
    let usage = |l: Option<wit::LimitInfo>| l.and_then(|l| l.api_usage).map(|u| u.max);
    assert_eq!(
        usage(client.limits().await.unwrap().limit_info),
        Some(15000)
    );
    let created = client
        .create_record("Account", r#"{"Name":"Usage"}"#)
        .await
        .unwrap();
    assert_eq!(usage(created.limit_info), Some(15000));
    assert_eq!(
        usage(client.delete_record("Account", &created.id).await.unwrap()),
        Some(15000)
    );
    let versions = client.api_versions().await.unwrap();
    assert!(versions.len() > 10);
    assert!(versions.windows(2).all(|w| w[0].version != w[1].version));
    assert_eq!(versions.last().unwrap().version, "68.0", "newest last");
    let upgraded = client.use_newest_api_version().await.unwrap();
    assert_eq!(upgraded.api_version, "68.0");
    mock.clear_requests();
    client.limits().await.unwrap();
    assert!(mock
        .requests()
        .iter()
        .any(|r| r.path == "/services/data/v68.0/limits"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_name_the_argument() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let cases = [
        (
            client
                .get_record("Account/../x", "001000000000001AAA", &[])
                .await
                .map(|r| r.body),
            "sobject",
        ),
        (
            client
                .get_record("Account", "not-an-id", &[])
                .await
                .map(|r| r.body),
            "id",
        ),
        (
            client.create_record("Account", "[1,2]").await.map(|r| r.id),
            "fields-json",
        ),
        (
            client.create_record("Account", "{oops").await.map(|r| r.id),
            "fields-json",
        ),
        (
            client.query("  ", opts(None)).await.map(|p| p.records),
            "soql",
        ),
        (
            client
                .query("SELECT Id FROM Account", opts(Some(5)))
                .await
                .map(|p| p.records),
            "batch-size",
        ),
        (
            client
                .search("SELECT Id FROM Account")
                .await
                .map(|r| r.body),
            "sosl",
        ),
    ];
    for (result, field) in cases {
        match component_error(result) {
            wit::Error::InvalidRequest(p) => assert_eq!(p.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// The id of the n-th seeded Account ("Acme 0001" is the first).
fn account(n: usize) -> String {
    format!("001{n:0>12}AAA")
}

#[tokio::test(flavor = "multi_thread")]
async fn retrieve_keeps_the_order_and_a_slot_for_every_id() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let gone = client
        .create_record("Account", r#"{"Name":"Soon Gone"}"#)
        .await
        .unwrap()
        .id;
    client.delete_record("Account", &gone).await.unwrap();
    mock.clear_requests();
    let ids = vec![
        account(2),
        account(1)[..15].to_string(),
        "001999999999999AAA".to_string(),
        "003000000000001AAA".to_string(),
        gone,
    ];
    // Field names are case-insensitive and come back in API case.
    let fields = vec!["name".to_string(), "Id".to_string()];
    let read = client
        .retrieve_records("Account", &ids, &fields)
        .await
        .unwrap();
    let slots: Vec<Option<Value>> = read
        .records
        .iter()
        .map(|r| r.as_deref().map(|r| serde_json::from_str(r).unwrap()))
        .collect();
    assert_eq!(slots.len(), 5, "one slot per id");
    let first = slots[0].as_ref().unwrap();
    assert_eq!(
        (&first["Name"], &first["Id"]),
        (&"Acme 0002".into(), &account(2).into())
    );
    assert_eq!(first["attributes"]["type"], "Account");
    assert_eq!(
        slots[1].as_ref().unwrap()["Id"],
        account(1),
        "a 15-character id"
    );
    assert!(
        slots[2..].iter().all(Option::is_none),
        "unknown, another object's, deleted"
    );
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET", "a short request is a GET");
    assert!(sent[0].path.ends_with("/composite/sobjects/Account"));
    assert!(read.limit_info.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn retrieve_posts_long_lists_in_chunks_of_2000_in_order() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let mut ids: Vec<String> = (1..=2500).rev().map(account).collect();
    ids.push("001999999999999AAA".into());
    client.session().await.unwrap();
    mock.clear_requests();
    let read = client
        .retrieve_records("Account", &ids, &["Id".to_string()])
        .await
        .unwrap();
    assert_eq!(read.records.len(), 2501);
    let got: Vec<Option<String>> = read
        .records
        .iter()
        .map(|r| {
            r.as_deref().map(|r| {
                serde_json::from_str::<Value>(r).unwrap()["Id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    let want: Vec<Option<String>> = ids[..2500]
        .iter()
        .cloned()
        .map(Some)
        .chain([None])
        .collect();
    assert_eq!(
        got, want,
        "every record in the order asked, none for the unknown id"
    );
    let posts: Vec<(String, usize)> = mock
        .requests()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            (r.method.clone(), body["ids"].as_array().map_or(0, Vec::len))
        })
        .collect();
    assert_eq!(
        posts,
        [("POST".to_string(), 2000), ("POST".to_string(), 501)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retrieve_errors_are_typed() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let one = vec![account(1)];
    match component_error(client.retrieve_records("Account", &one, &[]).await) {
        wit::Error::InvalidRequest(p) => assert_eq!(p.field, "fields"),
        other => panic!("{other:?}"),
    }
    let bad_id = vec!["001-not-an-id".to_string()];
    match component_error(
        client
            .retrieve_records("Account", &bad_id, &["Id".into()])
            .await,
    ) {
        wit::Error::InvalidRequest(p) => assert_eq!(p.field, "ids"),
        other => panic!("{other:?}"),
    }
    match component_error(
        client
            .retrieve_records("Account", &one, &["Nope__c".into()])
            .await,
    ) {
        wit::Error::ApiError(f) => {
            assert_eq!(
                (f.status, f.errors[0].error_code.as_str()),
                (400, "INVALID_FIELD")
            )
        }
        other => panic!("{other:?}"),
    }
}

/// The mock refuses what Salesforce refuses, whatever client sends it.
#[tokio::test(flavor = "multi_thread")]
async fn the_mock_enforces_the_retrieve_limits() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let path = "/services/data/v66.0/composite/sobjects/Account";
    let ids = |n: usize| (1..=n).map(account).collect::<Vec<_>>();
    let mut long_get = get(path);
    long_get.query = vec![
        ("ids".into(), ids(900).join(",")),
        ("fields".into(), "Id".into()),
    ];
    match component_error(client.call(&long_get).await) {
        wit::Error::UnexpectedResponse(u) => assert_eq!(u.status, 414, "a URI over 16,384 bytes"),
        other => panic!("{other:?}"),
    }
    let mut no_fields = get(path);
    no_fields.query = vec![("ids".into(), account(1))];
    match component_error(client.call(&no_fields).await) {
        wit::Error::ApiError(f) => assert_eq!(f.errors[0].error_code, "MISSING_ARGUMENT"),
        other => panic!("{other:?}"),
    }
    let body = serde_json::json!({"ids": ids(2001), "fields": ["Id"]}).to_string();
    let too_many = with_body(wit::Method::Post, path, &body);
    match component_error(client.call(&too_many).await) {
        wit::Error::ApiError(f) => assert_eq!(f.errors[0].error_code, "EXCEEDED_ID_LIMIT"),
        other => panic!("{other:?}"),
    }
    let body = serde_json::json!({"ids": ids(2000), "fields": ["Id"]}).to_string();
    let most = client
        .call(&with_body(wit::Method::Post, path, &body))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&most.body)
            .unwrap()
            .len(),
        2000
    );
}
