//! Files against the mock over raw HTTP/1.1: ContentVersion, Attachment and
//! Document in describe and SOQL (blob fields as URLs), streamed downloads,
//! and their files uploaded as base64 inside JSON.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use support::{parse_response, Org, Resp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const V: &str = "/services/data/v62.0";
const FOLDER: &str = "00l000000000001AAA";
const ACCOUNT: &str = "001000000000001AAA";

/// `n` bytes of every value, in no order (xorshift).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

impl Org {
    async fn get(&self, path: &str) -> Resp {
        self.raw("GET", &format!("{V}{path}"), "", b"").await
    }

    async fn send_json(&self, method: &str, path: &str, body: Value) -> Resp {
        let bytes = body.to_string().into_bytes();
        self.raw(method, &format!("{V}{path}"), "application/json", &bytes)
            .await
    }

    async fn soql(&self, q: &str) -> Resp {
        let qs = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", q)
            .finish();
        self.get(&format!("/query?{qs}")).await
    }

    async fn version(&self, id: &str) -> Value {
        let r = self
            .soql(&format!("SELECT Id, Title, ContentDocumentId, VersionNumber, IsLatest, FileType, FileExtension, ContentSize, ReasonForChange FROM ContentVersion WHERE Id = '{id}'"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["records"][0].clone()
    }

    /// GET a file, reading the body in 16 KiB reads as a streaming client
    /// would: the head, and the body with how many reads it took.
    async fn download(&self, path: &str) -> (Resp, usize) {
        let host = self
            .mock
            .http_url()
            .trim_start_matches("http://")
            .to_string();
        let mut s = TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "GET {V}{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\r\n",
            self.token
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let (mut raw, mut buf, mut reads) = (Vec::new(), vec![0u8; 16 * 1024], 0);
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            reads += 1;
            raw.extend_from_slice(&buf[..n]);
        }
        (parse_response(&raw), reads)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_and_soql_show_blob_fields_as_urls() {
    let org = Org::start().await;
    let id = org.mock.put_blob(
        "ContentVersion",
        json!({"Title": "Q1", "PathOnClient": "reports/q1.PDF"}),
        b"%PDF-1.7".to_vec(),
    );
    assert!(id.starts_with("068"), "{id}");

    let all = org.get("/sobjects").await.json();
    let names: Vec<&str> = all["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for (name, prefix) in [
        ("ContentVersion", "068"),
        ("Attachment", "00P"),
        ("Document", "015"),
    ] {
        assert!(names.contains(&name), "{names:?}");
        let d = org.get(&format!("/sobjects/{name}/describe")).await.json();
        assert_eq!(d["keyPrefix"], prefix);
    }
    let d = org.get("/sobjects/ContentVersion/describe").await.json();
    let field = |n: &str| {
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(field("VersionData")["type"], "base64");
    assert_eq!(
        (
            field("VersionData")["createable"].clone(),
            field("VersionData")["updateable"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(field("PathOnClient")["nillable"], false);
    assert_eq!(field("ContentSize")["createable"], false);

    let url = format!("{V}/sobjects/ContentVersion/{id}/VersionData");
    let r = org.soql(&format!("SELECT Id, VersionData, FileType, FileExtension, ContentSize, VersionNumber, IsLatest, ContentDocumentId, Title FROM ContentVersion WHERE Id = '{id}'")).await;
    let rec = &r.json()["records"][0];
    assert_eq!(rec["VersionData"], url.as_str());
    assert_eq!(
        (rec["FileType"].as_str(), rec["FileExtension"].as_str()),
        (Some("PDF"), Some("pdf"))
    );
    assert_eq!(
        (
            rec["ContentSize"].clone(),
            rec["VersionNumber"].clone(),
            rec["IsLatest"].clone()
        ),
        (json!(8), json!("1"), json!(true))
    );
    assert!(rec["ContentDocumentId"]
        .as_str()
        .unwrap()
        .starts_with("069"));
    assert_eq!(rec["Title"], "Q1");
    let got = org
        .get(&format!("/sobjects/ContentVersion/{id}?fields=VersionData"))
        .await
        .json();
    assert_eq!(got["VersionData"], url.as_str());

    let r = org
        .soql("SELECT Id FROM ContentVersion WHERE VersionData != null")
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_FIELD".into()),
        "{}",
        r.text()
    );
    assert!(r.error().1.contains("can not be filtered"), "{}", r.text());
    let r = org.soql("SELECT Id FROM Attachment ORDER BY Body").await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_FIELD".into()),
        "{}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_uploads_carry_base64_within_its_limit() {
    let org = Org::start().await;
    let data = noise(5000, 3);
    let r = org
        .send_json("POST", "/sobjects/ContentVersion", json!({"Title": "note", "PathOnClient": "note.txt", "VersionData": STANDARD.encode(&data)}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(org.mock.blob("ContentVersion", &id), Some(data));
    assert_eq!(org.version(&id).await["FileType"], "TEXT");

    let r = org
        .send_json(
            "POST",
            "/sobjects/Attachment",
            json!({"Name": "a", "ParentId": ACCOUNT, "Body": "SGVsbG8="}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let att = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        org.mock.blob("Attachment", &att).as_deref(),
        Some(&b"Hello"[..])
    );

    let refused = [
        (
            json!({"PathOnClient": "a.txt", "VersionData": "not base64!"}),
            "ContentVersion",
            "JSON_PARSER_ERROR",
        ),
        (
            json!({"PathOnClient": "a.txt"}),
            "ContentVersion",
            "REQUIRED_FIELD_MISSING",
        ),
        (
            json!({"Name": "a", "ParentId": "a01000000000001AAA", "Body": "eA=="}),
            "Attachment",
            "MALFORMED_ID",
        ),
        (
            json!({"Name": "a", "FolderId": "005000000000001AAA", "Body": "eA=="}),
            "Document",
            "MALFORMED_ID",
        ),
        (
            json!({"Name": "a", "FolderId": FOLDER}),
            "Document",
            "REQUIRED_FIELD_MISSING",
        ),
        (
            json!({"PathOnClient": "a.txt", "VersionData": "eA==", "ContentDocumentId": "069000000000999AAA"}),
            "ContentVersion",
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        ),
    ];
    for (body, obj, code) in refused {
        let r = org
            .send_json("POST", &format!("/sobjects/{obj}"), body.clone())
            .await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, code.to_string()),
            "{body}: {}",
            r.text()
        );
    }
    let r = org
        .send_json(
            "POST",
            "/sobjects/Document",
            json!({"Name": "a", "FolderId": "005000000000001AAA", "Body": "eA=="}),
        )
        .await;
    assert_eq!(
        r.error().1,
        "Folder ID: id value of incorrect type: 005000000000001AAA"
    );
    let r = org
        .send_json(
            "PATCH",
            &format!("/sobjects/ContentVersion/{id}"),
            json!({"VersionData": "eA=="}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_FIELD_FOR_INSERT_UPDATE".into()),
        "{}",
        r.text()
    );

    // 37.5 MB of base64 at most, inside a body under 50 MB [S-BLOB-UP].
    let big = "A".repeat(37_500_004);
    let r = org
        .send_json(
            "POST",
            "/sobjects/ContentVersion",
            json!({"PathOnClient": "big.bin", "VersionData": big}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (413, "REQUEST_ENTITY_TOO_LARGE".into()),
        "{}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_stream_the_stored_bytes_with_the_records_type() {
    let org = Org::start().await;
    let data = noise(3 * 1024 * 1024 + 17, 42);
    let id = org.mock.put_blob(
        "ContentVersion",
        json!({"PathOnClient": "big.pdf"}),
        data.clone(),
    );
    let (r, reads) = org
        .download(&format!("/sobjects/ContentVersion/{id}/VersionData"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert_eq!(
        r.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert!(
        r.body == data,
        "the downloaded bytes differ from the stored ones"
    );
    assert!(reads > 10, "a 3 MB body in {reads} reads");

    let att = org.mock.put_blob(
        "Attachment",
        json!({"Name": "logo.png", "ParentId": ACCOUNT, "ContentType": "image/png"}),
        b"\x89PNG".to_vec(),
    );
    assert!(att.starts_with("00P"));
    let (r, _) = org
        .download(&format!("/sobjects/Attachment/{att}/Body"))
        .await;
    assert_eq!(
        (r.header("content-type"), &r.body[..]),
        (Some("image/png"), &b"\x89PNG"[..])
    );
    let doc = org.mock.put_blob(
        "Document",
        json!({"Name": "raw", "FolderId": FOLDER}),
        vec![0, 1, 2],
    );
    assert!(doc.starts_with("015"));
    let (r, _) = org
        .download(&format!("/sobjects/Document/{doc}/body"))
        .await;
    assert_eq!(
        (r.header("content-type"), &r.body[..]),
        (Some("application/octet-stream"), &[0u8, 1, 2][..])
    );
    let odd = org.mock.put_blob(
        "ContentVersion",
        json!({"PathOnClient": "notes"}),
        b"x".to_vec(),
    );
    let (r, _) = org
        .download(&format!("/sobjects/ContentVersion/{odd}/VersionData"))
        .await;
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_salesforce_refuses() {
    let org = Org::start().await;
    let id = org.mock.put_blob(
        "ContentVersion",
        json!({"PathOnClient": "a.txt"}),
        b"a".to_vec(),
    );
    let cases = [
        (
            "/sobjects/ContentVersion/068000000000999AAA/VersionData",
            404,
            "NOT_FOUND",
        ),
        (
            &format!("/sobjects/ContentVersion/{id}/Title") as &str,
            404,
            "NOT_FOUND",
        ),
        (&format!("/sobjects/Attachment/{id}/Body"), 404, "NOT_FOUND"),
        (
            &format!("/sobjects/Account/{ACCOUNT}/Body"),
            404,
            "NOT_FOUND",
        ),
    ];
    for (path, status, code) in cases {
        let r = org.get(path).await;
        assert_eq!(
            (r.status, r.error_code()),
            (status, code.to_string()),
            "{path}: {}",
            r.text()
        );
    }
    let r = org
        .send_json(
            "DELETE",
            &format!("/sobjects/ContentVersion/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = org
        .get(&format!("/sobjects/ContentVersion/{id}/VersionData"))
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (404, "ENTITY_IS_DELETED".into())
    );

    let other = org.mock.put_blob(
        "ContentVersion",
        json!({"PathOnClient": "b.txt"}),
        b"b".to_vec(),
    );
    let sub = json!({"compositeRequest": [{"method": "GET", "referenceId": "f",
        "url": format!("{V}/sobjects/ContentVersion/{other}/VersionData")}]});
    let r = org.send_json("POST", "/composite", sub).await.json();
    let answer = &r["compositeResponse"][0];
    assert_eq!(answer["httpStatusCode"], 400, "{answer}");
    assert_eq!(answer["body"][0]["errorCode"], "INVALID_API_INPUT");
}
