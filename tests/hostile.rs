//! Servers no Salesforce org would be, against which every call must still
//! end: query pages that loop, fresh pages forever, a body dripped one byte
//! at a time forever, a body larger than the instance may hold. Each ends
//! with a typed error within its deadline.

mod common;

use common::*;
use salesforce_host::wit;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a hostile server answers one request, given its path and query.
type Answer = fn(&str) -> Reply;

enum Reply {
    Json(String),
    /// One byte every 50 ms, forever.
    Drip,
    /// `n` bytes of a JSON string, chunked.
    Huge(usize),
}

/// Serves `answer` on loopback; returns `http://127.0.0.1:PORT`.
async fn serve(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, answer));
        }
    });
    url
}

async fn connection(mut stream: TcpStream, answer: Answer) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let chunked =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let _ = match answer(&target) {
        Reply::Json(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(format!("{head}{body}").as_bytes()).await
        }
        Reply::Drip => {
            let _ = stream.write_all(chunked.as_bytes()).await;
            loop {
                if stream.write_all(b"1\r\n \r\n").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Reply::Huge(n) => {
            let _ = stream.write_all(chunked.as_bytes()).await;
            let piece = vec![b'x'; 1 << 20];
            let mut sent = 0;
            while sent < n {
                let frame = [format!("{:x}\r\n", piece.len()).as_bytes(), &piece, b"\r\n"].concat();
                if stream.write_all(&frame).await.is_err() {
                    return;
                }
                sent += piece.len();
            }
            stream.write_all(b"0\r\n\r\n").await
        }
    };
}

fn page(id: &str, next: &str) -> Reply {
    Reply::Json(format!(
        r#"{{"totalSize":1000000,"done":false,"nextRecordsUrl":"/services/data/v66.0/query/{next}","records":[{{"attributes":{{"type":"Account"}},"Id":"{id}"}}]}}"#
    ))
}

/// A client for a session on `url` (an access token: no login involved).
fn hostile_client(
    url: &str,
    deadline: Duration,
    max_memory: Option<usize>,
) -> salesforce_host::Client {
    let mut mock_config = wit::Config::new(wit::Grant::AccessToken(wit::AccessTokenGrant {
        access_token: "00D000000000001!hostile-test-token".into(),
        instance_url: url.into(),
    }));
    mock_config.timeout_ms = Some(2_000);
    mock_config.max_response_bytes = Some(512 << 20);
    let options = salesforce_host::ClientOptions {
        deadline: Some(deadline),
        max_memory,
        ..Default::default()
    };
    salesforce_host::Client::new(connector(), mock_config, options).expect("client")
}

const SOQL: &str = "SELECT Id FROM Account";

#[tokio::test(flavor = "multi_thread")]
async fn pages_that_loop_end_the_call() {
    let url = serve(|target| match target.rsplit('/').next().unwrap_or("") {
        "A-1" => page("b", "B-1"),
        "B-1" => page("a", "A-1"),
        _ => page("first", "A-1"),
    })
    .await;
    let mut client = hostile_client(&url, Duration::from_secs(30), None);
    let err = component_error(
        client
            .query_all_pages(SOQL, salesforce_host::PLAIN_QUERY, None)
            .await,
    );
    match err {
        wit::Error::UnexpectedResponse(u) => assert!(u.reason.contains("loop"), "{}", u.reason),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_fresh_pages_end_at_the_deadline() {
    let url = serve(|target| {
        let n: u64 = target
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        page(&format!("r{n}"), &format!("P-{}", n + 1))
    })
    .await;
    let deadline = Duration::from_secs(2);
    let mut client = hostile_client(&url, deadline, None);
    let started = Instant::now();
    let err = component_error(
        client
            .query_all_pages(SOQL, salesforce_host::PLAIN_QUERY, None)
            .await,
    );
    assert!(matches!(err, wit::Error::Timeout(_)), "{err:?}");
    // A generous guard against a hang, not a measurement.
    assert!(started.elapsed() < deadline * 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_drip_ends_at_the_deadline() {
    let url = serve(|_| Reply::Drip).await;
    let deadline = Duration::from_secs(2);
    let mut client = hostile_client(&url, deadline, None);
    let started = Instant::now();
    let err = component_error(client.limits().await);
    assert!(matches!(err, wit::Error::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < deadline * 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_larger_than_memory_is_a_typed_error() {
    let url = serve(|_| Reply::Huge(160 << 20)).await;
    let mut client = hostile_client(&url, Duration::from_secs(60), Some(64 << 20));
    let err = component_error(client.limits().await);
    assert!(matches!(err, wit::Error::ResponseTooLarge(_)), "{err:?}");
}

/// The component's own `deadline-ms` ends a drip before the host's guard
/// (its deadline plus a margin) has to: a `timeout` that names it.
#[tokio::test(flavor = "multi_thread")]
async fn the_components_deadline_ends_a_drip_first() {
    let url = serve(|_| Reply::Drip).await;
    let client = hostile_client(&url, Duration::from_secs(60), None);
    let mut config = client.config().clone();
    config.deadline_ms = Some(1_500);
    let mut client =
        salesforce_host::Client::new(connector(), config, Default::default()).expect("client");
    let started = Instant::now();
    match component_error(client.limits().await) {
        wit::Error::Timeout(m) => assert!(m.contains("deadline-ms of 1500 ms"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
}
