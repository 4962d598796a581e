//! W1, per-call latency: one authenticated
//! `GET /services/data/v62.0/sobjects/Account/{id}`, repeated, through
//! (a) the component in the wasmtime host, on its keep-alive pool, and
//! (b) a native Rust client on one kept-alive hyper connection that parses
//! the same JSON: the floor, what the sandbox costs. Same mock, same run,
//! runs alternating A B B A …; medians and spread, and their ratio.
//!
//! `cargo bench -p sf-host --bench latency [-- CALLS RUNS]`

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use sf_host::mock::{Mock, MockOptions};
use sf_host::{Client, ClientOptions, Connector};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "001000000000001AAA";

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Native {
    conn: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    authority: String,
    token: String,
}

impl Native {
    async fn connect(base: &str, token: String) -> Native {
        let authority = base.trim_start_matches("http://").to_string();
        let tcp = tokio::net::TcpStream::connect(&authority)
            .await
            .expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (conn, driver) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .expect("handshake");
        tokio::spawn(driver);
        Native {
            conn,
            authority,
            token,
        }
    }

    async fn get_account(&mut self) -> serde_json::Value {
        let req = http::Request::get(format!("/services/data/v62.0/sobjects/Account/{ACCOUNT}"))
            .header("host", &self.authority)
            .header("authorization", format!("Bearer {}", self.token))
            .header("accept", "application/json")
            .body(Empty::new())
            .expect("request");
        self.conn.ready().await.expect("ready");
        let resp = self.conn.send_request(req).await.expect("response");
        assert_eq!(resp.status(), 200);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&body).expect("json")
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let calls = args.first().copied().unwrap_or(500);
    let runs = args.get(1).copied().unwrap_or(7);

    let mock = Mock::start(MockOptions::default()).await.expect("mock");
    let config = mock.config(&mock.http_url(), mock.password_grant());
    let connector =
        Arc::new(Connector::load(&sf_host::default_component_path()).expect("component"));
    let mut component = Client::new(connector, config, ClientOptions::default()).expect("client");
    let token = component
        .authenticate()
        .await
        .expect("login")
        .access_token
        .clone();
    let mut native = Native::connect(&mock.http_url(), token).await;

    // Warm both paths (the engine's code, the pool, the allocator).
    for _ in 0..50 {
        component
            .get_record("Account", ACCOUNT, &[])
            .await
            .expect("component get");
        native.get_account().await;
    }

    let (mut a, mut b) = (Vec::new(), Vec::new());
    for run in 0..runs {
        for first in [run % 2 == 0, run % 2 != 0] {
            let started = Instant::now();
            if first {
                for _ in 0..calls {
                    component
                        .get_record("Account", ACCOUNT, &[])
                        .await
                        .expect("component get");
                }
                a.push(started.elapsed() / calls as u32);
            } else {
                for _ in 0..calls {
                    native.get_account().await;
                }
                b.push(started.elapsed() / calls as u32);
            }
        }
    }
    let spread = |v: &[Duration]| {
        let (lo, hi) = (v.iter().min().copied(), v.iter().max().copied());
        format!(
            "{:.1?}–{:.1?}",
            lo.unwrap_or_default(),
            hi.unwrap_or_default()
        )
    };
    let (ma, mb) = (median(&mut a.clone()), median(&mut b.clone()));
    println!("W1 per-call latency, {calls} calls × {runs} runs, plain HTTP on loopback");
    println!("| contender | median per call | spread (run means) |");
    println!("|---|---|---|");
    println!(
        "| component in sf-host (pooled) | {ma:.1?} | {} |",
        spread(&a)
    );
    println!(
        "| native Rust, hyper keep-alive | {mb:.1?} | {} |",
        spread(&b)
    );
    println!(
        "ratio component / native: {:.2}× (target ≤ 1.25×)",
        ma.as_secs_f64() / mb.as_secs_f64()
    );
}
