//! Bulk API 2.0 end to end: the component's `bulk` interface through the
//! wasmtime host against the mock's jobs (`sf-host bulk` is tested in
//! host-test/tests/bulk_cli.rs).

mod common;

use common::*;
use salesforce_host::bulk::{IngestOperation, IngestOptions, JobKind, JobState, ResultSet};
use salesforce_host::{wit, HostError};
use std::time::Duration;

fn insert(sobject: &str) -> IngestOptions {
    IngestOptions {
        sobject: sobject.into(),
        operation: IngestOperation::Insert,
        external_id_field: None,
        column_delimiter: None,
        line_ending: None,
        assignment_rule_id: None,
    }
}

async fn wait(
    client: &mut salesforce_host::Client,
    kind: JobKind,
    id: &str,
) -> Result<salesforce_host::bulk::JobInfo, HostError> {
    loop {
        let job = client.wait_for_job(kind, id, 2_000).await?;
        if matches!(
            job.state,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        ) {
            return Ok(job);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ingest_job_loads_rows_and_keeps_each_failure_with_its_error() {
    let mock = mock().await;
    mock.knobs()
        .set_bulk_processing_delay(Duration::from_millis(300));
    let mut client = password_client(&mock);
    let job = client.create_ingest_job(&insert("Account")).await.unwrap();
    assert_eq!(job.state, JobState::Open);
    let csv = "Name,Industry,NumberOfEmployees\n\"Bulk, One\",Energy,10\nBulk Two,\"multi\nline\",20\n,Energy,30\n";
    client.upload_job_data(&job.id, csv).await.unwrap();
    let closed = client.close_job(&job.id).await.unwrap();
    assert!(
        matches!(
            closed.state,
            JobState::UploadComplete | JobState::InProgress
        ),
        "{:?}",
        closed.state
    );
    let done = wait(&mut client, JobKind::Ingest, &job.id).await.unwrap();
    assert_eq!(
        (done.state, done.records_processed, done.records_failed),
        (JobState::JobComplete, 3, 1)
    );

    let failed = client
        .ingest_results(&job.id, ResultSet::Failed)
        .await
        .unwrap();
    assert!(failed.starts_with("\"sf__Id\",\"sf__Error\""), "{failed}");
    assert!(failed.contains("REQUIRED_FIELD_MISSING"), "{failed}");
    let ok = client
        .ingest_results(&job.id, ResultSet::Successful)
        .await
        .unwrap();
    assert_eq!(ok.lines().filter(|l| l.contains("Bulk")).count(), 2, "{ok}");

    let page = client
        .query(
            "SELECT Industry FROM Account WHERE Name = 'Bulk Two'",
            salesforce_host::ops::QueryOptions {
                include_deleted: false,
                batch_size: None,
                follow_children: false,
            },
        )
        .await
        .unwrap();
    assert!(
        page.records.contains("multi\\nline"),
        "the REST API sees the row: {}",
        page.records
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn state_errors_and_failed_jobs_are_typed() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let job = client.create_ingest_job(&insert("Account")).await.unwrap();
    client.upload_job_data(&job.id, "Name\nA\n").await.unwrap();
    match component_error(client.upload_job_data(&job.id, "Name\nB\n").await) {
        wit::Error::ApiError(e) => assert_eq!(e.status, 400, "{e:?}"),
        other => panic!("a second upload is refused: {other:?}"),
    }
    match component_error(
        client
            .job_status(JobKind::Ingest, "750000000000000AAA")
            .await,
    ) {
        wit::Error::ApiError(e) => assert_eq!(
            (e.status, e.errors[0].error_code.as_str()),
            (404, "NOT_FOUND")
        ),
        other => panic!("{other:?}"),
    }
    let bad = client.create_ingest_job(&insert("Account")).await.unwrap();
    client
        .upload_job_data(&bad.id, "Name,Nope__c\nA,1\n")
        .await
        .unwrap();
    client.close_job(&bad.id).await.unwrap();
    match component_error(wait(&mut client, JobKind::Ingest, &bad.id).await) {
        wit::Error::ApiError(e) => {
            assert_eq!(e.errors[0].error_code, "InvalidBatch", "{e:?}");
            assert!(e.errors[0].message.contains("Nope__c"), "{e:?}");
        }
        other => panic!("a failed job is its typed error: {other:?}"),
    }
    let err = component_error(client.upload_job_data("not-a-job", "Name\nA\n").await);
    assert!(
        matches!(err, wit::Error::InvalidRequest(ref p) if p.field == "job-id"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_job_comes_back_page_by_page() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let job = client
        .create_query_job("SELECT Id, Name FROM Account", false, None)
        .await
        .unwrap();
    let done = wait(&mut client, JobKind::Query, &job.id).await.unwrap();
    let (mut locator, mut rows, mut pages) = (None::<String>, 0u64, 0);
    loop {
        let page = client
            .query_results(&job.id, locator.as_deref(), Some(3))
            .await
            .unwrap();
        assert!(
            page.csv.starts_with("\"Id\",\"Name\""),
            "every page has its header: {}",
            page.csv
        );
        assert!(page.records <= 3);
        rows += page.records;
        pages += 1;
        match page.next_locator {
            Some(l) => locator = Some(l),
            None => break,
        }
    }
    assert_eq!(rows, done.records_processed);
    assert!(pages > 1, "{pages} pages");
    // The component asks for gzip and the mock compresses, as Salesforce
    // does: the pages above were inflated inside the component.
    let asked = mock
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/results"))
        .all(|r| {
            r.headers
                .iter()
                .any(|(k, v)| k == "accept-encoding" && v == "gzip")
        });
    assert!(asked, "every results request accepts gzip");
    let listed = client.list_jobs(JobKind::Query, None).await.unwrap();
    assert!(listed.jobs.iter().any(|j| j.id == job.id));
}
