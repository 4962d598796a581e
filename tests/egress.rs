//! Where the bearer token may go. A second listener on loopback records every
//! byte it receives; the mock points the connector at it in every way a
//! server can (instance_url, nextRecordsUrl, redirects), and the listener must
//! receive nothing. A positive control proves the listener does record.

mod common;

use common::{client, component_error, config, get, password_client, password_grant};
use salesforce_host::{wit, HostError, PLAIN_QUERY};
use salesforce_mock::Fault;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A plain HTTP server on loopback that keeps everything it is sent and
/// answers every request with an empty query page.
struct Collector {
    url: String,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Collector {
    async fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        sink.lock().expect("lock").extend_from_slice(&buf[..n]);
                        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                            let body = r#"{"totalSize":0,"done":true,"records":[]}"#;
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            let _ = conn.write_all(head.as_bytes()).await;
                            let _ = conn.write_all(body.as_bytes()).await;
                        }
                    }
                });
            }
        });
        Collector { url, received }
    }

    fn host_port(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().expect("lock")).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn instance_url_elsewhere_gets_no_token_unless_allowed() {
    let mock = common::mock().await;
    let other = Collector::start().await;
    mock.knobs()
        .set_instance_url_override(Some(other.url.clone()));

    let mut c = password_client(&mock);
    match component_error(c.authenticate().await) {
        wit::Error::Denied(m) => assert!(m.contains(&other.url), "{m}"),
        e => panic!("{e:?}"),
    }
    // A call logs in again, and is refused again.
    assert!(matches!(
        component_error(c.call(&get("/services/data/v62.0/limits")).await),
        wit::Error::Denied(_)
    ));
    assert_eq!(other.received(), "", "the other host received something");

    // Control: allowed explicitly, the same instance_url is used, and the
    // collector sees the bearer token arrive.
    let mut cfg = config(&mock, &mock.http_url(), password_grant(&mock));
    cfg.allowed_hosts = Some(vec![other.host_port()]);
    let mut allowed = client(&mock, cfg);
    allowed
        .call(&get("/services/data/v62.0/limits"))
        .await
        .expect("allowed host answers");
    let seen = other.received().to_ascii_lowercase();
    assert!(seen.contains("authorization: bearer "), "{seen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn next_records_url_and_redirects_to_another_host_are_not_followed() {
    let mock = common::mock().await;
    let other = Collector::start().await;
    let mut c = password_client(&mock);
    c.authenticate().await.expect("login");

    let elsewhere = format!(
        "{}/services/data/v62.0/query/01gD0000000001-2000",
        other.url
    );
    let page =
        format!(r#"{{"totalSize":4000,"done":false,"nextRecordsUrl":"{elsewhere}","records":[]}}"#);
    let hostile_page = || Fault::Status {
        status: 200,
        content_type: "application/json;charset=UTF-8".into(),
        body: page.clone(),
        retry_after: None,
    };
    mock.knobs().fail_next(1, hostile_page());
    let first = c.query("SELECT Id FROM Account", PLAIN_QUERY).await;
    let more = match first {
        Ok(p) => c
            .query_more(
                p.next_records_url.as_deref().unwrap_or(&elsewhere),
                PLAIN_QUERY,
            )
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    assert!(matches!(
        more,
        Err(HostError::Component(
            wit::Error::InvalidRequest(_) | wit::Error::UnexpectedResponse(_)
        ))
    ));
    mock.knobs().fail_next(1, hostile_page());
    assert!(c
        .query_all_pages("SELECT Id FROM Account", PLAIN_QUERY, None)
        .await
        .is_err());
    assert!(c.query_more(&elsewhere, PLAIN_QUERY).await.is_err());

    for status in [301, 302, 307, 308] {
        mock.knobs().fail_next(
            1,
            Fault::Redirect {
                status,
                location: format!("{}/services/data/v62.0/limits", other.url),
            },
        );
        match component_error(c.call(&get("/services/data/v62.0/limits")).await) {
            wit::Error::UnexpectedResponse(u) => {
                assert_eq!(u.status, status);
                assert!(u.reason.contains("not followed"), "{}", u.reason);
            }
            e => panic!("{status}: {e:?}"),
        }
    }
    assert_eq!(other.received(), "", "the other host received something");
    assert_eq!(
        c.denied_requests(),
        0,
        "the component refused before the host had to"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_host_denies_an_edited_session() {
    let mock = common::mock().await;
    let other = Collector::start().await;
    let mut c = password_client(&mock);
    let mut session = c.authenticate().await.expect("login").clone();
    // A stored session whose instance URL was changed on the way back in:
    // the component cannot know, so the host's allowlist must stop it.
    session.instance_url = other.url.clone();
    let mut resumed = password_client(&mock);
    resumed.restore_session(session);
    match component_error(resumed.call(&get("/services/data/v62.0/limits")).await) {
        wit::Error::Denied(m) => assert!(m.contains(&other.url), "{m}"),
        e => panic!("{e:?}"),
    }
    assert_eq!(resumed.denied_requests(), 1);
    assert_eq!(other.received(), "");
}
