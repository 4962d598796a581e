use super::*;
use crate::http::testing::Scripted;
use crate::http::{HttpResponse, TransportError};
use crate::session::fixture;
use serde_json::json;

const JOB: &str = "7500000000000AAAAA";

fn answer(
    status: u16,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Result<HttpResponse, TransportError> {
    let mut h = vec![("content-type".to_string(), content_type.to_string())];
    h.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Ok(HttpResponse {
        status,
        headers: h,
        body: body.as_bytes().to_vec(),
    })
}

fn info(state: &str) -> Result<HttpResponse, TransportError> {
    let v = json!({"id": JOB, "operation": "insert", "object": "Account", "state": state,
                   "numberRecordsProcessed": 3, "numberRecordsFailed": 1});
    answer(200, "application/json", &v.to_string(), &[])
}

#[test]
fn an_upload_is_sent_once_even_when_the_server_fails() {
    let mut t = Scripted::new(vec![
        answer(503, "application/json", "[]", &[]),
        answer(201, "text/plain", "", &[]),
    ]);
    let err = upload_job_data(&mut t, &fixture(), JOB, "Name\nAcme\n").unwrap_err();
    assert!(
        matches!(err, Error::Unexpected { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(t.sent, 1, "a second PUT would fail the job with INVALIDJOB");
    assert_eq!(
        t.paths[0],
        format!("/services/data/v62.0/jobs/ingest/{JOB}/batches")
    );
}

#[test]
fn an_upload_over_the_limit_or_empty_is_refused_before_sending() {
    let mut t = Scripted::new(vec![]);
    let big = "a".repeat(MAX_UPLOAD_BYTES + 1);
    for csv in ["", " \n", big.as_str()] {
        let err = upload_job_data(&mut t, &fixture(), JOB, csv).unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest { ref field, .. } if field == "csv"),
            "{err:?}"
        );
    }
    assert_eq!(t.sent, 0);
}

#[test]
fn waiting_backs_off_and_stops_at_the_end_or_the_budget() {
    let mut t = Scripted::new(vec![
        info("UploadComplete"),
        info("InProgress"),
        info("InProgress"),
        info("JobComplete"),
    ]);
    let done = wait_for_job(&mut t, &fixture(), JobKind::Ingest, JOB, 60_000).unwrap();
    assert_eq!(done.state, JobState::JobComplete);
    let slept: Vec<u64> = t.slept.iter().map(|d| d.as_millis() as u64).collect();
    assert_eq!(slept, [250, 500, 1000]);

    let mut t = Scripted::new(vec![
        info("InProgress"),
        info("InProgress"),
        info("InProgress"),
    ]);
    let running = wait_for_job(&mut t, &fixture(), JobKind::Ingest, JOB, 600).unwrap();
    assert_eq!(running.state, JobState::InProgress);
    let slept: Vec<u64> = t.slept.iter().map(|d| d.as_millis() as u64).collect();
    assert_eq!(slept, [250, 350], "the budget, not one millisecond more");
}

#[test]
fn a_failed_job_is_its_typed_error() {
    let failed = json!({"id": JOB, "operation": "insert", "object": "Account", "state": "Failed",
                        "errorMessage": "InvalidBatch : Field name not found : Nope__c"});
    let mut t = Scripted::new(vec![answer(
        200,
        "application/json",
        &failed.to_string(),
        &[],
    )]);
    match wait_for_job(&mut t, &fixture(), JobKind::Ingest, JOB, 1000) {
        Err(Error::Api { errors, .. }) => assert_eq!(errors[0].error_code, "InvalidBatch"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn result_pages_follow_the_locator_until_null() {
    let mut t = Scripted::new(vec![
        answer(
            200,
            "text/csv",
            "\"Id\"\n\"001\"\n",
            &[
                ("sforce-locator", "MTAwMDA"),
                ("sforce-numberofrecords", "1"),
            ],
        ),
        answer(
            200,
            "text/csv",
            "\"Id\"\n\"002\"\n",
            &[("sforce-locator", "null"), ("sforce-numberofrecords", "1")],
        ),
        answer(200, "text/csv", "\"Id\"\n", &[]),
    ]);
    let first = query_results(&mut t, &fixture(), JOB, None, Some(1)).unwrap();
    assert_eq!(
        (first.records, first.next_locator.as_deref()),
        (1, Some("MTAwMDA"))
    );
    let last = query_results(
        &mut t,
        &fixture(),
        JOB,
        first.next_locator.as_deref(),
        Some(1),
    )
    .unwrap();
    assert_eq!(last.next_locator, None);
    assert!(
        query_results(&mut t, &fixture(), JOB, None, None).is_err(),
        "no record count: unexpected"
    );
}

#[test]
fn a_bad_job_id_names_the_argument() {
    let mut t = Scripted::new(vec![]);
    let err = job_status(&mut t, &fixture(), JobKind::Query, "../limits").unwrap_err();
    assert!(
        matches!(err, Error::InvalidRequest { ref field, .. } if field == "job-id"),
        "{err:?}"
    );
}
