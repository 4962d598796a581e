//! Bulk API 2.0 against the mock over raw HTTP/1.1: the job lifecycle, every
//! state error, Salesforce's CSV rules, per-row failures, the upload limit,
//! query result pages and the processing delay.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{Org, Resp};

const V: &str = "/services/data/v62.0";

impl Org {
    async fn get(&self, path: &str) -> Resp {
        self.raw("GET", &format!("{V}{path}"), "", b"").await
    }
    async fn json(&self, method: &str, path: &str, body: Value) -> Resp {
        let bytes = body.to_string().into_bytes();
        self.raw(
            method,
            &format!("{V}{path}"),
            "application/json; charset=utf-8",
            &bytes,
        )
        .await
    }
    async fn put_csv(&self, id: &str, csv: &str) -> Resp {
        let path = format!("{V}/jobs/ingest/{id}/batches");
        self.raw("PUT", &path, "text/csv; charset=UTF-8", csv.as_bytes())
            .await
    }

    /// Create an ingest job, upload `csv`, close it; the job id.
    async fn ingest(&self, job: Value, csv: &str) -> String {
        let r = self.json("POST", "/jobs/ingest", job).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        let put = self.put_csv(&id, csv).await;
        assert_eq!(put.status, 201, "{}", put.text());
        let close = self
            .json(
                "PATCH",
                &format!("/jobs/ingest/{id}"),
                json!({"state": "UploadComplete"}),
            )
            .await;
        assert_eq!(close.status, 200, "{}", close.text());
        id
    }

    async fn info(&self, id: &str) -> Value {
        self.get(&format!("/jobs/ingest/{id}")).await.json()
    }

    async fn csv(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("text/csv; charset=UTF-8"));
        r.text()
    }

    async fn soql(&self, q: &str) -> Value {
        let qs = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", q)
            .finish();
        self.get(&format!("/query?{qs}")).await.json()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_insert_job_runs_to_completion_and_the_org_sees_its_rows() {
    let org = Org::start().await;
    let r = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let job = r.json();
    let id = job["id"].as_str().unwrap();
    assert!(id.starts_with("750") && id.len() == 18);
    assert_eq!(job["state"], "Open");
    assert_eq!(job["apiVersion"], json!(62.0));
    assert_eq!(
        job["contentUrl"],
        format!("services/data/v62.0/jobs/ingest/{id}/batches")
    );
    assert_eq!(
        (job["columnDelimiter"].as_str(), job["lineEnding"].as_str()),
        (Some("COMMA"), Some("LF"))
    );

    let csv = "Name,NumberOfEmployees,BillingCity\n\"Bulk \"\"One\"\", Inc.\",10,\"Line 1\nLine 2\"\n,5,Nowhere\nBulk Two,many,Paris\nBulk Three,,#N/A\n";
    let put = org.put_csv(id, csv).await;
    assert_eq!((put.status, put.body.len()), (201, 0));
    let close = org
        .json(
            "PATCH",
            &format!("/jobs/ingest/{id}"),
            json!({"state": "UploadComplete"}),
        )
        .await;
    assert_eq!(close.json()["state"], "UploadComplete");
    assert!(
        close.json().get("contentUrl").is_none(),
        "contentUrl only while Open"
    );

    let info = org.info(id).await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["jobType"], "V2Ingest");
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(4), Some(2))
    );
    assert!(info.get("errorMessage").is_none());

    let ok = org
        .csv(&format!("/jobs/ingest/{id}/successfulResults/"))
        .await;
    let lines: Vec<&str> = ok.lines().collect();
    assert_eq!(
        lines[0],
        "\"sf__Id\",\"sf__Created\",Name,NumberOfEmployees,BillingCity"
    );
    assert!(
        ok.contains(",\"true\",\"Bulk \"\"One\"\", Inc.\",\"10\",\"Line 1\nLine 2\"\n"),
        "{ok}"
    );
    let failed = org.csv(&format!("/jobs/ingest/{id}/failedResults")).await;
    assert_eq!(
        failed,
        "\"sf__Id\",\"sf__Error\",Name,NumberOfEmployees,BillingCity\n\
         \"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"\",\"5\",\"Nowhere\"\n\
         \"\",\"INVALID_TYPE_ON_FIELD_IN_RECORD:NumberOfEmployees: value not of required type: many:NumberOfEmployees --\",\"Bulk Two\",\"many\",\"Paris\"\n"
    );
    for spelling in ["unprocessedrecords/", "unprocessedRecords"] {
        let un = org.csv(&format!("/jobs/ingest/{id}/{spelling}")).await;
        assert_eq!(un, "Name,NumberOfEmployees,BillingCity\n");
    }
    let rest = org
        .soql("SELECT Name, BillingCity FROM Account WHERE Name LIKE 'Bulk%' ORDER BY Name")
        .await;
    assert_eq!(rest["totalSize"], 2);
    assert_eq!(rest["records"][0]["Name"], "Bulk \"One\", Inc.");
    assert_eq!(rest["records"][0]["BillingCity"], "Line 1\nLine 2");
    assert_eq!(rest["records"][1]["BillingCity"], Value::Null, "#N/A nulls");
}

#[tokio::test(flavor = "multi_thread")]
async fn state_changes_salesforce_refuses() {
    let org = Org::start().await;
    let unknown = org.get("/jobs/ingest/750000000000999AAA").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.error(),
        (
            "NOT_FOUND".into(),
            "The requested resource does not exist".into()
        )
    );

    let r = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let job = format!("/jobs/ingest/{id}");
    let delete_open = org.raw("DELETE", &format!("{V}{job}"), "", b"").await;
    assert_eq!(delete_open.status, 400);
    assert_eq!(delete_open.error().0, "API_ERROR");
    let wrong_type = org
        .raw(
            "PUT",
            &format!("{V}{job}/batches"),
            "application/json",
            b"Name\nA\n",
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    let early = org.get(&format!("{job}/successfulResults")).await;
    assert_eq!(
        (early.status, early.error().0.as_str()),
        (412, "JOB_NOT_COMPLETE")
    );
    assert_eq!(org.put_csv(&id, "Name\nA\n").await.status, 201);
    let twice = org.put_csv(&id, "Name\nB\n").await;
    assert_eq!(twice.status, 400);
    assert_eq!(twice.error(), ("INVALIDJOB".into(), format!("Found multiple contents for job: <{id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.")));
    org.json("PATCH", &job, json!({"state": "UploadComplete"}))
        .await;
    let reclose = org
        .json("PATCH", &job, json!({"state": "UploadComplete"}))
        .await;
    assert_eq!(
        (reclose.status, reclose.error().0.as_str()),
        (400, "INVALIDJOBSTATE")
    );
    let abort = org.json("PATCH", &job, json!({"state": "Aborted"})).await;
    assert_eq!(abort.status, 400);
    assert_eq!(
        abort.error(),
        (
            "INVALIDJOBSTATE".into(),
            "Aborting already Completed Job not allowed".into()
        )
    );
    let del = org.raw("DELETE", &format!("{V}{job}"), "", b"").await;
    assert_eq!((del.status, del.body.len()), (204, 0));
    assert_eq!(org.get(&job).await.status, 404);
    assert_eq!(
        org.get(&format!("/jobs/query/{id}")).await.status,
        404,
        "an ingest id is no query job"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_requests_salesforce_refuses() {
    let org = Org::start().await;
    let upsert = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "upsert"}),
        )
        .await;
    assert_eq!(upsert.status, 400);
    assert_eq!(
        upsert.error(),
        (
            "INVALIDJOB".into(),
            "External ID was blank for Account. An External ID must be specified for upsert."
                .into()
        )
    );
    let not_ext = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"}),
        )
        .await;
    assert_eq!(not_ext.error().1, "Field name provided, Name does not match an External ID, Salesforce Id, or indexed field for Account");
    let hard = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "hardDelete"}),
        )
        .await;
    assert_eq!(
        (hard.status, hard.error().0.as_str()),
        (400, "FEATURENOTENABLED")
    );
    for bad in [
        json!({"object": "Account", "operation": "merge"}),
        json!({"object": "Account", "operation": "insert", "contentType": "JSON"}),
        json!({"object": "Account", "operation": "insert", "columnDelimiter": "COLON"}),
        json!({"object": "Account", "operation": "insert", "lineEnding": "CR"}),
        json!({"object": "Nope__c", "operation": "insert"}),
    ] {
        assert_eq!(
            org.json("POST", "/jobs/ingest", bad.clone()).await.status,
            400,
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tab_crlf_relationship_columns_and_job_level_failures() {
    let org = Org::start().await;
    let contact = json!({"object": "Contact", "operation": "insert", "columnDelimiter": "TAB", "lineEnding": "CRLF"});
    let csv = "LastName\tAccount.ExtId__c\tEmail\r\nTabby\tEXT-ACME\t\"a\tb@example.com\"\r\nOrphan\tNO-SUCH\t\r\n";
    let id = org.ingest(contact.clone(), csv).await;
    assert_eq!(org.info(&id).await["numberRecordsFailed"], 1);
    let failed = org.csv(&format!("/jobs/ingest/{id}/failedResults")).await;
    assert!(failed.contains("\"INVALID_FIELD:Foreign key external ID: NO-SUCH not found for field ExtId__c in entity Account:--\""), "{failed}");
    assert!(
        failed.starts_with("\"sf__Id\"\t\"sf__Error\"\tLastName\tAccount.ExtId__c\tEmail\r\n"),
        "{failed}"
    );
    let rest = org
        .soql("SELECT Account.Name, Email FROM Contact WHERE LastName = 'Tabby'")
        .await;
    assert_eq!(rest["records"][0]["Account"]["Name"], "Acme Corp");
    assert_eq!(rest["records"][0]["Email"], "a\tb@example.com");

    let lf_data = org.ingest(contact, "LastName\nLf\n").await;
    let info = org.info(&lf_data).await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF"
    );

    let bogus = org
        .ingest(
            json!({"object": "Account", "operation": "insert"}),
            "Name,Bogus__c\nA,1\nB,2\n",
        )
        .await;
    let info = org.info(&bogus).await;
    assert_eq!(
        (info["state"].as_str(), info["errorMessage"].as_str()),
        (
            Some("Failed"),
            Some("InvalidBatch : Field name not found : Bogus__c")
        )
    );
    assert_eq!(info["numberRecordsProcessed"], 0);
    let un = org
        .csv(&format!("/jobs/ingest/{bogus}/unprocessedrecords"))
        .await;
    assert_eq!(un, "Name,Bogus__c\n\"A\",\"1\"\n\"B\",\"2\"\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn upsert_update_delete_and_hard_delete() {
    let org = Org::start().await;
    let upsert = json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "ExtId__c", "columnDelimiter": "PIPE"});
    let id = org
        .ingest(
            upsert,
            "ExtId__c|Name|Phone\nEXT-ACME|Acme Renamed|#N/A\nNEW-1|Brand New|555\nDUP-1|Dup|\n",
        )
        .await;
    let ok = org
        .csv(&format!("/jobs/ingest/{id}/successfulResults"))
        .await;
    assert!(
        ok.contains("|\"false\"|\"EXT-ACME\"") && ok.contains("|\"true\"|\"NEW-1\""),
        "{ok}"
    );
    let failed = org.csv(&format!("/jobs/ingest/{id}/failedResults")).await;
    assert!(
        failed
            .contains("DUPLICATE_EXTERNAL_ID:more than one record found for external id field: ["),
        "{failed}"
    );
    let acme = org
        .soql("SELECT Id, Name, Phone FROM Account WHERE ExtId__c = 'EXT-ACME'")
        .await;
    assert_eq!(
        (
            acme["records"][0]["Name"].as_str(),
            &acme["records"][0]["Phone"]
        ),
        (Some("Acme Renamed"), &Value::Null)
    );
    let acme_id = acme["records"][0]["Id"].as_str().unwrap().to_string();

    let update = format!("Id,Industry\n{acme_id},Bulk\n001000000099999AAA,X\nnot-an-id,Y\n,Z\n");
    let id = org
        .ingest(json!({"object": "Account", "operation": "update"}), &update)
        .await;
    let failed = org.csv(&format!("/jobs/ingest/{id}/failedResults")).await;
    assert!(
        failed.contains(
            "\"001000000099999AAA\",\"INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--\""
        ),
        "{failed}"
    );
    assert!(
        failed.contains("\"MALFORMED_ID:Account ID: id value of incorrect type: not-an-id:Id --\""),
        "{failed}"
    );
    assert!(
        failed.contains("\"MISSING_ARGUMENT:Id not specified in an update call:--\""),
        "{failed}"
    );

    let id = org
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id\n{acme_id}\n"),
        )
        .await;
    assert_eq!(org.info(&id).await["numberRecordsFailed"], 0);
    let gone = org
        .soql(&format!("SELECT Id FROM Account WHERE Id = '{acme_id}'"))
        .await;
    assert_eq!(gone["totalSize"], 0);
    let extra = org
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id,Name\n{acme_id},X\n"),
        )
        .await;
    assert_eq!(
        org.info(&extra).await["state"],
        "Failed",
        "delete rows carry only Id"
    );

    org.mock.knobs().set_bulk_hard_delete_allowed(true);
    let new = org
        .soql("SELECT Id FROM Account WHERE ExtId__c = 'NEW-1'")
        .await;
    let new_id = new["records"][0]["Id"].as_str().unwrap().to_string();
    org.ingest(
        json!({"object": "Account", "operation": "hardDelete"}),
        &format!("Id\n{new_id}\n"),
    )
    .await;
    let qs = form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "q",
            &format!("SELECT Id FROM Account WHERE Id = '{new_id}'"),
        )
        .finish();
    assert_eq!(
        org.get(&format!("/queryAll?{qs}")).await.json()["totalSize"],
        0,
        "hard delete skips the recycle bin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn processing_takes_the_configured_time_and_uploads_have_a_limit() {
    let org = Org::start().await;
    org.mock
        .knobs()
        .set_bulk_processing_delay(Duration::from_secs(3600));
    let id = org
        .ingest(
            json!({"object": "Account", "operation": "insert"}),
            "Name\nSlow\n",
        )
        .await;
    assert_eq!(org.info(&id).await["state"], "InProgress");
    let early = org.get(&format!("/jobs/ingest/{id}/failedResults")).await;
    assert_eq!(early.status, 412);
    let del = org
        .raw("DELETE", &format!("{V}/jobs/ingest/{id}"), "", b"")
        .await;
    assert_eq!(del.status, 400, "an InProgress job cannot be deleted");
    org.mock.knobs().advance_clock(Duration::from_secs(3601));
    let info = org.info(&id).await;
    assert_eq!(
        (
            info["state"].as_str(),
            info["numberRecordsProcessed"].as_u64()
        ),
        (Some("JobComplete"), Some(1))
    );

    // Uploads of many MB get through (axum's 2 MB default once stopped them).
    let rows: String = (0..300_000).map(|i| format!("Big {i:06}\n")).collect();
    let r = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let put = org.put_csv(&id, &format!("Name\n{rows}")).await;
    assert_eq!(put.status, 201, "{}", put.text());

    org.mock.knobs().set_bulk_upload_limit(16);
    let r = org
        .json(
            "POST",
            "/jobs/ingest",
            json!({"object": "Account", "operation": "insert"}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let big = org.put_csv(&id, "Name\nSeventeen bytes\n").await;
    assert_eq!(
        (big.status, big.error().0.as_str()),
        (413, "REQUEST_ENTITY_TOO_LARGE")
    );
    assert_eq!(org.put_csv(&id, "Name\nFits\n").await.status, 201);
    let abort = org
        .json(
            "PATCH",
            &format!("/jobs/ingest/{id}"),
            json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(abort.json()["state"], "Aborted");
    let un = org
        .csv(&format!("/jobs/ingest/{id}/unprocessedrecords"))
        .await;
    assert_eq!(un, "Name\n\"Fits\"\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn query_jobs_page_by_locator_until_null() {
    let org = Org::start().await;
    let create = json!({"operation": "query", "query": "SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName"});
    let r = org.json("POST", "/jobs/query", create).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let job = r.json();
    assert_eq!(
        (job["state"].as_str(), job["object"].as_str()),
        (Some("UploadComplete"), Some("Contact"))
    );
    let id = job["id"].as_str().unwrap().to_string();
    let info = org.get(&format!("/jobs/query/{id}")).await.json();
    assert_eq!(
        (info["state"].as_str(), info["jobType"].as_str()),
        (Some("JobComplete"), Some("V2Query"))
    );
    assert_eq!(info["numberRecordsProcessed"], 300);

    let (mut locator, mut pages, mut rows) = (String::new(), 0, 0);
    loop {
        let r = org
            .get(&format!(
                "/jobs/query/{id}/results?maxRecords=120&locator={locator}"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let text = r.text();
        assert!(
            text.starts_with("\"Id\",\"LastName\",\"Account.Name\"\n"),
            "every page has the header"
        );
        let n: usize = r.header("sforce-numberofrecords").unwrap().parse().unwrap();
        assert_eq!(n, text.lines().count() - 1);
        (pages, rows) = (pages + 1, rows + n);
        locator = r.header("sforce-locator").unwrap().to_string();
        if locator == "null" {
            break;
        }
    }
    assert_eq!((pages, rows), (3, 300));
    let whole = org.get(&format!("/jobs/query/{id}/results")).await;
    // Asked for gzip, the same page comes compressed [S-GZIP-Q].
    let path = format!("{V}/jobs/query/{id}/results");
    let gz = org
        .raw_with("GET", &path, &[("Accept-Encoding", "gzip")], b"")
        .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, whole.body, "the same CSV, compressed");
    assert_eq!(
        whole.header("content-encoding"),
        None,
        "plain when not asked"
    );
    assert_eq!(
        (
            whole.header("sforce-locator"),
            whole.header("sforce-numberofrecords")
        ),
        (Some("null"), Some("300"))
    );
    assert!(
        whole.text().contains(",\"Acme Corp\"\n"),
        "parent fields flatten"
    );
    assert!(
        whole.text().contains(",\"\"\n"),
        "a missing parent is empty"
    );
    let other_version = org
        .raw(
            "GET",
            &format!("/services/data/v61.0/jobs/query/{id}/results"),
            "",
            b"",
        )
        .await;
    assert_eq!(other_version.status, 409);
    assert_eq!(
        org.get(&format!("/jobs/query/{id}/results?locator=bogus"))
            .await
            .status,
        400
    );

    let abort = org
        .json(
            "PATCH",
            &format!("/jobs/query/{id}"),
            json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(
        abort.error(),
        (
            "INVALIDJOBSTATE".into(),
            "Aborting already Completed Job not allowed".into()
        )
    );
    let list = org.get("/jobs/query").await.json();
    assert_eq!(
        (list["done"].as_bool(), &list["nextRecordsUrl"]),
        (Some(true), &Value::Null)
    );
    assert_eq!(list["records"][0]["id"], id.as_str());
    assert_eq!(org.get("/jobs/ingest").await.json()["records"], json!([]));
    assert_eq!(
        org.raw("DELETE", &format!("{V}/jobs/query/{id}"), "", b"")
            .await
            .status,
        204
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn query_jobs_refuse_what_bulk_cannot_run_and_wait_while_in_progress() {
    let org = Org::start().await;
    for q in [
        "SELECT COUNT() FROM Account",
        "SELECT Id FROM Account LIMIT 5 OFFSET 5",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT Nope FROM Account",
    ] {
        let r = org
            .json(
                "POST",
                "/jobs/query",
                json!({"operation": "query", "query": q}),
            )
            .await;
        assert_eq!(r.status, 400, "{q}: {}", r.text());
    }
    org.mock
        .knobs()
        .set_bulk_processing_delay(Duration::from_secs(3600));
    let r = org
        .json(
            "POST",
            "/jobs/query",
            json!({"operation": "queryAll", "query": "SELECT Id FROM Lead"}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        org.get(&format!("/jobs/query/{id}")).await.json()["state"],
        "InProgress"
    );
    let early = org.get(&format!("/jobs/query/{id}/results")).await;
    assert_eq!(early.status, 412);
    assert!(early.error().1.ends_with("Current status: IN_PROGRESS"));
    let del = org
        .raw("DELETE", &format!("{V}/jobs/query/{id}"), "", b"")
        .await;
    assert_eq!(
        del.error(),
        (
            "API_ERROR".into(),
            "Error encountered when deleting the job because the job is not terminated".into()
        )
    );
    let abort = org
        .json(
            "PATCH",
            &format!("/jobs/query/{id}"),
            json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(abort.json()["state"], "Aborted");
    assert_eq!(
        org.get(&format!("/jobs/query/{id}/results")).await.status,
        412
    );
}
