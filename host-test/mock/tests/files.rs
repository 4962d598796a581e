//! Files against the mock over raw HTTP/1.1: ContentVersion, Attachment and
//! Document in describe and SOQL (blob fields as URLs), streamed downloads,
//! multipart and base64 uploads byte for byte, every multipart refusal,
//! the size limits, and Bulk API 2.0 job creation with data in one request.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::time::Duration;
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

/// Bytes a careless multipart reader gets wrong: CR, LF, NUL, `--`, and
/// the boundary's prefix, around random ones.
fn tricky(boundary: &str) -> Vec<u8> {
    let mut b = b"\r\n\0--\r\r\n\n--".to_vec();
    b.extend_from_slice(format!("x--{boundary}--\r\n--{}", &boundary[..4]).as_bytes());
    b.extend(noise(100_000, 7));
    b.extend_from_slice(b"\r\n-\r\n--\r\n");
    b
}

/// A multipart body: each part's header lines, then its bytes.
fn multipart(boundary: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (head, content) in parts {
        b.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
        b.extend_from_slice(content);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

fn json_part(name: &str, fields: Value) -> (String, Vec<u8>) {
    (
        format!(
            "Content-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json"
        ),
        fields.to_string().into_bytes(),
    )
}

fn file_part(name: &str, filename: &str) -> String {
    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream")
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

    async fn upload(&self, method: &str, path: &str, boundary: &str, body: &[u8]) -> Resp {
        let ct = format!("multipart/form-data; boundary={boundary}");
        self.raw(method, &format!("{V}{path}"), &ct, body).await
    }

    /// Upload `file` as a new ContentVersion with these fields; its id.
    async fn upload_version(&self, fields: Value, file: &[u8]) -> String {
        let (head, json) = json_part("entity_content", fields);
        let body = multipart(
            "b0undary",
            &[(&head, &json), (&file_part("VersionData", "f.pdf"), file)],
        );
        let r = self
            .upload("POST", "/sobjects/ContentVersion", "b0undary", &body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
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

    /// Send only a request head declaring `length` bytes of body, and read
    /// the answer the mock gives without waiting for them.
    async fn declare(&self, method: &str, path: &str, content_type: &str, length: u64) -> Resp {
        let host = self
            .mock
            .http_url()
            .trim_start_matches("http://")
            .to_string();
        let mut s = TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "{method} {V}{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n",
            self.token
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
            .await
            .expect("answered before the body")
            .unwrap();
        parse_response(&raw)
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

#[tokio::test(flavor = "multi_thread")]
async fn multipart_uploads_keep_every_byte_and_make_versions() {
    let org = Org::start().await;
    let file = tricky("b0undary");
    let id = org
        .upload_version(json!({"Title": "Q1 brochure", "PathOnClient": "q1.pdf", "FirstPublishLocationId": ACCOUNT}), &file)
        .await;
    assert_eq!(
        org.mock.blob("ContentVersion", &id).as_deref(),
        Some(&file[..])
    );
    let (r, _) = org
        .download(&format!("/sobjects/ContentVersion/{id}/VersionData"))
        .await;
    assert!(r.body == file, "the download differs from the upload");
    let first = org.version(&id).await;
    assert_eq!(
        (
            first["VersionNumber"].as_str(),
            first["ContentSize"].as_u64()
        ),
        (Some("1"), Some(file.len() as u64))
    );

    let doc = first["ContentDocumentId"].as_str().unwrap();
    let second = org
        .upload_version(
            json!({"ContentDocumentId": doc, "ReasonForChange": "typo", "PathOnClient": "q1.pdf"}),
            b"v2",
        )
        .await;
    let v2 = org.version(&second).await;
    assert_eq!(
        (
            v2["ContentDocumentId"].as_str(),
            v2["VersionNumber"].as_str(),
            v2["IsLatest"].as_bool()
        ),
        (Some(doc), Some("2"), Some(true))
    );
    assert_eq!(
        (v2["Title"].as_str(), v2["ReasonForChange"].as_str()),
        (Some("q1"), Some("typo"))
    );
    assert_eq!(org.version(&id).await["IsLatest"], false);
    let r = org
        .soql(&format!(
            "SELECT Id FROM ContentVersion WHERE ContentDocumentId = '{doc}' AND IsLatest = true"
        ))
        .await;
    assert_eq!(r.json()["records"][0]["Id"], second.as_str());

    // The docs' Document shapes: a quoted boundary and a trailing `;`,
    // `entity_document` to insert, `entity_content` to update [S-BLOB-UP].
    let (_, fields) = json_part(
        "x",
        json!({"Description": "Marketing brochure", "Keywords": "marketing", "FolderId": FOLDER, "Name": "Brochure", "Type": "pdf"}),
    );
    let body = multipart("boundary_string", &[
        ("Content-Disposition: form-data; name=\"entity_document\";\r\nContent-Type: application/json", &fields),
        ("Content-Type: application/pdf\r\nContent-Disposition: form-data; name=\"Body\"; filename=\"2011Q1MktgBrochure.pdf\"", &file),
    ]);
    let ct = "multipart/form-data; boundary=\"boundary_string\"";
    let r = org
        .raw("POST", &format!("{V}/sobjects/Document/"), ct, &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["success"], true);
    let doc_id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        org.mock.blob("Document", &doc_id).as_deref(),
        Some(&file[..])
    );
    let (_, rename) = json_part("x", json!({"Name": "Brochure v2"}));
    let body = multipart("boundary_string", &[
        ("Content-Disposition: form-data; name=\"entity_content\";\r\nContent-Type: application/json", &rename),
        (&file_part("Body", "v2.pdf"), b"second"),
    ]);
    let r = org
        .raw(
            "PATCH",
            &format!("{V}/sobjects/Document/{doc_id}"),
            ct,
            &body,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        org.mock.blob("Document", &doc_id).as_deref(),
        Some(&b"second"[..])
    );
    let d = org
        .get(&format!(
            "/sobjects/Document/{doc_id}?fields=Name,BodyLength"
        ))
        .await
        .json();
    assert_eq!(
        (d["Name"].as_str(), d["BodyLength"].as_u64()),
        (Some("Brochure v2"), Some(6))
    );

    let (head, fields) = json_part(
        "entity_attachment",
        json!({"Name": "a.bin", "ParentId": ACCOUNT}),
    );
    let body = multipart(
        "b0undary",
        &[(&head, &fields), (&file_part("Body", "a.bin"), &file)],
    );
    let r = org
        .upload("POST", "/sobjects/Attachment", "b0undary", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let att = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        org.mock.blob("Attachment", &att).as_deref(),
        Some(&file[..])
    );

    // The log keeps the start of a multipart body, not a second copy.
    let logged = org
        .mock
        .requests()
        .into_iter()
        .rfind(|q| q.path.ends_with("/sobjects/Attachment"))
        .unwrap();
    assert_eq!(logged.body.len(), 64 * 1024);
    assert!(body.starts_with(&logged.body));
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_bodies_salesforce_refuses() {
    let org = Org::start().await;
    let (head, fields) = json_part("entity_content", json!({"PathOnClient": "a.txt"}));
    let bin = file_part("VersionData", "a.txt");
    let untyped = "Content-Disposition: form-data; name=\"entity_content\"";
    let (_, no_path) = json_part("x", json!({"Title": "no path"}));
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("the JSON part has no Content-Type", multipart("b0undary", &[(untyped, &fields), (&bin, b"x")]), "INVALID_MULTIPART_REQUEST", "non-binary part"),
        ("the binary part comes alone", multipart("b0undary", &[(&bin, b"x")]), "INVALID_MULTIPART_REQUEST", "non-binary part"),
        ("no binary part", multipart("b0undary", &[(&head, &fields)]), "INVALID_MULTIPART_REQUEST", "binary part named VersionData"),
        ("three parts", multipart("b0undary", &[(&head, &fields), (&bin, b"x"), (&bin, b"y")]), "INVALID_MULTIPART_REQUEST", "exactly two parts"),
        ("the binary part named wrongly", multipart("b0undary", &[(&head, &fields), (&file_part("File", "a.txt"), b"x")]), "INVALID_MULTIPART_REQUEST", "not File"),
        ("the JSON part named wrongly", multipart("b0undary", &[(&json_part("entity_document", json!({})).0, &fields), (&bin, b"x")]), "INVALID_MULTIPART_REQUEST", "entity_content"),
        ("no filename", multipart("b0undary", &[(&head, &fields), ("Content-Disposition: form-data; name=\"VersionData\"", b"x")]), "INVALID_MULTIPART_REQUEST", "filename"),
        ("no PathOnClient", multipart("b0undary", &[(&head, &no_path), (&bin, b"x")]), "REQUIRED_FIELD_MISSING", "PathOnClient"),
        ("JSON that does not parse", multipart("b0undary", &[(&head, b"{\"Title\":"), (&bin, b"x")]), "JSON_PARSER_ERROR", ""),
        ("no closing boundary", b"--b0undary\r\nContent-Disposition: form-data; name=\"entity_content\"\r\nContent-Type: application/json\r\n\r\n{}".to_vec(), "INVALID_MULTIPART_REQUEST", "closing boundary"),
        ("LF line breaks", multipart("b0undary", &[(&head, &fields), (&bin, b"x")]).iter().copied().filter(|b| *b != b'\r').collect(), "INVALID_MULTIPART_REQUEST", "CRLF"),
        ("another boundary", multipart("other", &[(&head, &fields), (&bin, b"x")]), "INVALID_MULTIPART_REQUEST", "does not contain the boundary"),
    ];
    for (what, body, code, words) in cases {
        let r = org
            .upload("POST", "/sobjects/ContentVersion", "b0undary", &body)
            .await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, code.to_string()),
            "{what}: {}",
            r.text()
        );
        assert!(r.error().1.contains(words), "{what}: {}", r.text());
    }
    let r = org
        .raw(
            "POST",
            &format!("{V}/sobjects/ContentVersion"),
            "multipart/form-data",
            b"--x--",
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_MULTIPART_REQUEST".into()),
        "{}",
        r.text()
    );
    let r = org
        .upload(
            "POST",
            "/sobjects/ContentVersion",
            "b0undary",
            &multipart("b0undary", &[(&head, &no_path), (&bin, b"x")]),
        )
        .await;
    assert_eq!(r.json()[0]["fields"], json!(["PathOnClient"]));

    let body = multipart(
        "b0undary",
        &[
            (&head, &json!({"Name": "x"}).to_string().into_bytes()),
            (&file_part("Body", "a"), b"x"),
        ],
    );
    let r = org
        .upload("POST", "/sobjects/Account", "b0undary", &body)
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_MULTIPART_REQUEST".into()),
        "{}",
        r.text()
    );
    let id = org
        .upload_version(json!({"PathOnClient": "a.txt"}), b"one")
        .await;
    let (_, retitle) = json_part("x", json!({"Title": "new"}));
    let body = multipart("b0undary", &[(&head, &retitle), (&bin, b"two")]);
    let r = org
        .upload(
            "PATCH",
            &format!("/sobjects/ContentVersion/{id}"),
            "b0undary",
            &body,
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_FIELD_FOR_INSERT_UPDATE".into()),
        "{}",
        r.text()
    );
    assert_eq!(
        org.mock.blob("ContentVersion", &id).as_deref(),
        Some(&b"one"[..])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_over_the_limits_are_refused_by_their_declared_length() {
    let org = Org::start().await;
    let mp = "multipart/form-data; boundary=b0undary";
    let cases = [
        (
            "POST",
            "/sobjects/ContentVersion",
            mp,
            2_000_000_001u64,
            "2000000000",
        ),
        ("POST", "/sobjects/Attachment", mp, 500_000_001, "500000000"),
        (
            "PATCH",
            "/sobjects/Document/015000000000001AAA",
            mp,
            500_000_001,
            "500000000",
        ),
        (
            "POST",
            "/sobjects/ContentVersion",
            "application/json",
            50_000_001,
            "50000000",
        ),
        // Within Salesforce's limit, beyond what the mock holds in memory.
        (
            "POST",
            "/sobjects/ContentVersion",
            mp,
            600_000_000,
            "too large",
        ),
    ];
    for (method, path, ct, length, words) in cases {
        let r = org.declare(method, path, ct, length).await;
        assert_eq!(
            (r.status, r.error_code()),
            (413, "REQUEST_ENTITY_TOO_LARGE".into()),
            "{path} {length}: {}",
            r.text()
        );
        assert!(r.error().1.contains(words), "{path}: {}", r.text());
    }
}

fn job_body(job: Value, csv: &str) -> Vec<u8> {
    multipart("BOUNDARY", &[
        ("Content-Type: application/json\r\nContent-Disposition: form-data; name=\"job\"", &job.to_string().into_bytes()),
        ("Content-Type: text/csv\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"", csv.as_bytes()),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_multipart_job_create_uploads_and_closes_in_one_request() {
    let org = Org::start().await;
    let job = json!({"object": "Contact", "contentType": "CSV", "operation": "insert", "lineEnding": "LF"});
    let body = job_body(
        job.clone(),
        "FirstName,LastName\nAda,Lovelace\nGrace,Hopper\n",
    );
    let r = org.upload("POST", "/jobs/ingest", "BOUNDARY", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.json();
    assert_eq!(info["state"], "UploadComplete");
    assert!(info.get("contentUrl").is_none(), "{info}");
    let id = info["id"].as_str().unwrap();
    let done = org.get(&format!("/jobs/ingest/{id}")).await.json();
    assert_eq!(
        (
            done["state"].as_str(),
            done["numberRecordsProcessed"].as_u64()
        ),
        (Some("JobComplete"), Some(2)),
        "{done}"
    );
    let ok = org
        .get(&format!("/jobs/ingest/{id}/successfulResults"))
        .await
        .text();
    assert_eq!(ok.lines().count(), 3, "{ok}");
    assert!(ok.contains("\"Grace\",\"Hopper\""), "{ok}");

    // 100,000 characters, not bytes: `é` is two bytes and one character.
    let header = "LastName\n";
    let at_limit = format!("{header}{}", "é".repeat(100_000 - header.len()));
    let r = org
        .upload(
            "POST",
            "/jobs/ingest",
            "BOUNDARY",
            &job_body(job.clone(), &at_limit),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let over = format!("{at_limit}x");
    let r = org
        .upload(
            "POST",
            "/jobs/ingest",
            "BOUNDARY",
            &job_body(job.clone(), &over),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALIDJOB".into()),
        "{}",
        r.text()
    );
    assert!(r.error().1.contains("100,000"), "{}", r.text());

    let swapped = multipart(
        "BOUNDARY",
        &[
            (
                "Content-Type: text/csv\r\nContent-Disposition: form-data; name=\"content\"",
                b"LastName\nX\n",
            ),
            (
                "Content-Type: application/json\r\nContent-Disposition: form-data; name=\"job\"",
                &job.to_string().into_bytes(),
            ),
        ],
    );
    let r = org
        .upload("POST", "/jobs/ingest", "BOUNDARY", &swapped)
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_MULTIPART_REQUEST".into()),
        "{}",
        r.text()
    );
    let bad_job = job_body(
        json!({"object": "Contact", "operation": "explode"}),
        "LastName\nX\n",
    );
    let r = org
        .upload("POST", "/jobs/ingest", "BOUNDARY", &bad_job)
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, "JSON_PARSER_ERROR".into()),
        "{}",
        r.text()
    );
}
