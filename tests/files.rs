//! Files end to end through the real component and host against the mock:
//! a download streams byte-exact in pieces (memory stays flat whatever the
//! file's size), an upload is the multipart request Salesforce documents,
//! and every way one can go wrong is a typed error that says what was
//! stored (nothing, unless the request completed).

mod common;

use common::*;
use salesforce_host::files::UploadTarget;
use salesforce_host::{wit, Client, Connector, FileField, HostError, MemoryPeak};
use salesforce_mock::Mock;
use serde_json::json;
use std::io::Cursor;
use std::sync::Arc;

/// Bytes no text codec survives: every byte value, CR LF pairs, lone CRs,
/// NULs and lines that look like multipart boundaries.
fn tricky_bytes(len: usize) -> Vec<u8> {
    let motif: &[u8] = b"\r\n--sfc0123\r\n\0\r\r\n--\xff\xfe";
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|i| {
            if i % 4096 < motif.len() {
                motif[i % 4096]
            } else {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            }
        })
        .collect()
}

fn content_version(mock: &Mock, bytes: Vec<u8>) -> String {
    mock.put_blob(
        "ContentVersion",
        json!({"Title": "Q1 brochure", "PathOnClient": "q1.pdf"}),
        bytes,
    )
}

fn version_data(id: &str) -> FileField<'_> {
    FileField {
        sobject: "ContentVersion",
        id,
        field: "VersionData",
    }
}

async fn download(client: &mut Client, file: FileField<'_>) -> Result<(Vec<u8>, u64), HostError> {
    let mut sink = Vec::new();
    let mut pieces = 0u64;
    let mut progress = |_: u64, _: Option<u64>| pieces += 1;
    client.download(file, &mut sink, &mut progress).await?;
    Ok((sink, pieces))
}

fn target(size: u64) -> UploadTarget {
    UploadTarget {
        sobject: "ContentVersion".into(),
        id: None,
        fields_json: json!({"Title": "Scan", "PathOnClient": "scan.bin"}).to_string(),
        file_name: "scan.bin".into(),
        content_type: Some("application/octet-stream".into()),
        size,
    }
}

async fn upload(client: &mut Client, t: &UploadTarget, bytes: &[u8]) -> Result<String, HostError> {
    let mut progress = |_: u64, _: Option<u64>| {};
    let mut source = Cursor::new(bytes.to_vec());
    Ok(client.upload(t, &mut source, &mut progress).await?.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_larger_than_any_response_limit_downloads_byte_exact_in_flat_memory() {
    let mock = mock().await;
    let file = tricky_bytes(24 << 20);
    let id = content_version(&mock, file.clone());
    let peak = MemoryPeak::default();
    let connector = Connector::load(&sf_host::default_component_path())
        .unwrap()
        .record_memory_peak(peak.clone());
    let mut config = config(&mock, &mock.http_url(), password_grant(&mock));
    // A whole-body read would be refused at 1 MiB: only streaming passes.
    config.max_response_bytes = Some(1 << 20);
    let mut client = Client::new(Arc::new(connector), config, options(&mock)).unwrap();
    client.authenticate().await.unwrap();
    peak.reset();
    let (got, pieces) = download(&mut client, version_data(&id)).await.unwrap();
    assert!(got == file, "the bytes differ from the stored file");
    assert!(
        pieces >= 96,
        "24 MiB in pieces of at most 256 KiB: {pieces}"
    );
    let mib = peak.bytes() as f64 / f64::from(1 << 20);
    assert!(
        mib < 8.0,
        "linear memory peaked at {mib:.1} MiB for a 24 MiB file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_record_or_field_is_a_typed_error_before_any_byte() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let id = content_version(&mock, b"%PDF-1.7".to_vec());
    let missing = download(&mut client, version_data("068000000000000AAA")).await;
    match component_error(missing) {
        wit::Error::ApiError(a) => assert_eq!(a.status, 404, "{a:?}"),
        other => panic!("{other:?}"),
    }
    let wrong_field = FileField {
        field: "Title",
        ..version_data(&id)
    };
    assert!(matches!(
        component_error(download(&mut client, wrong_field).await),
        wit::Error::ApiError(_)
    ));
    let bad_id = download(&mut client, version_data("../../limits")).await;
    assert!(matches!(
        component_error(bad_id),
        wit::Error::InvalidRequest(_)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_is_renewed_once_for_a_download() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let id = content_version(&mock, b"renewed".to_vec());
    client.authenticate().await.unwrap();
    mock.knobs().expire_all_sessions();
    let (got, _) = download(&mut client, version_data(&id)).await.unwrap();
    assert_eq!(got, b"renewed");
    assert_eq!(client.logins(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_stores_the_exact_bytes_and_reads_back_the_same() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let file = tricky_bytes(5 << 20);
    let id = upload(&mut client, &target(file.len() as u64), &file)
        .await
        .unwrap();
    assert!(id.starts_with("068"), "{id}");
    assert!(mock.blob("ContentVersion", &id).as_deref() == Some(&file[..]));
    let (back, _) = download(&mut client, version_data(&id)).await.unwrap();
    assert!(back == file);

    // A query names the file by URL, never by its bytes.
    let soql = format!("SELECT Id, Title, VersionData FROM ContentVersion WHERE Id = '{id}'");
    let page = client
        .query(&soql, salesforce_host::PLAIN_QUERY)
        .await
        .unwrap();
    let records: serde_json::Value = serde_json::from_str(&page.records).unwrap();
    let url = records[0]["VersionData"].as_str().unwrap();
    assert!(
        url.ends_with(&format!("/sobjects/ContentVersion/{id}/VersionData")),
        "{url}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_its_declared_size_is_never_stored() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    client.authenticate().await.unwrap();
    let before = mock.requests().len();

    let longer = upload(&mut client, &target(10), &[7u8; 12]).await;
    match component_error(longer) {
        wit::Error::InvalidRequest(p) => {
            assert!(p.message.contains("longer than the 10 bytes"), "{p:?}");
            assert!(p.message.contains("nothing was stored"), "{p:?}");
        }
        other => panic!("{other:?}"),
    }
    let shorter = upload(&mut client, &target(20), &[7u8; 10]).await;
    match component_error(shorter) {
        wit::Error::InvalidRequest(p) => {
            assert!(p.message.contains("10 of the 20 bytes"), "{p:?}");
        }
        other => panic!("{other:?}"),
    }
    let stored = mock
        .requests()
        .iter()
        .skip(before)
        .filter(|r| r.method == "POST" && r.path.ends_with("/sobjects/ContentVersion"))
        .count();
    assert_eq!(
        stored, 0,
        "an aborted request never reaches the handler whole"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_target_is_refused_before_anything_is_sent() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    client.authenticate().await.unwrap();
    mock.clear_requests();
    let mut t = target(3);
    t.fields_json = json!({"Title": "no path"}).to_string();
    match component_error(upload(&mut client, &t, b"abc").await) {
        wit::Error::InvalidRequest(p) => assert!(p.message.contains("PathOnClient"), "{p:?}"),
        other => panic!("{other:?}"),
    }
    assert!(mock.requests().is_empty(), "nothing sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_refused_for_an_expired_session_starts_over_after_renewal() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    client.authenticate().await.unwrap();
    mock.knobs().expire_all_sessions();
    let file = tricky_bytes(600 << 10);
    let id = upload(&mut client, &target(file.len() as u64), &file)
        .await
        .unwrap();
    assert_eq!(client.logins(), 2);
    assert!(mock.blob("ContentVersion", &id).as_deref() == Some(&file[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_documents_file_is_replaced_in_place() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    let folder = "00lxx000000AbCdAAK";
    let id = mock.put_blob(
        "Document",
        json!({"Name": "logo", "FolderId": folder, "ContentType": "image/png"}),
        b"old".to_vec(),
    );
    let t = UploadTarget {
        sobject: "Document".into(),
        id: Some(id.clone()),
        fields_json: "{}".into(),
        file_name: "logo.png".into(),
        content_type: Some("image/png".into()),
        size: 3,
    };
    assert_eq!(upload(&mut client, &t, b"new").await.unwrap(), id);
    assert_eq!(mock.blob("Document", &id).as_deref(), Some(&b"new"[..]));
}
