//! Figures besides the workloads: the component's size, how long loading and
//! instantiating it take against one loopback round trip, and memory (the
//! host's peak RSS and the component's peak linear memory while paging
//! 100,000 records, in a process of its own so neither the mock nor the
//! other contenders count).

use crate::mock_process::{clean_env, MockInfo, MockProcess};
use crate::native::Native;
use crate::stats::Summary;
use crate::workloads;
use salesforce_host::egress::{Egress, Policy};
use salesforce_host::send::Sender;
use salesforce_host::PLAIN_QUERY;
use salesforce_host::{Client, ClientOptions, Connector, MemoryPeak};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct Probes {
    pub component_bytes: u64,
    /// `Component::deserialize_file` of a precompiled `.cwasm`.
    pub precompiled_load_s: f64,
    /// `Connector::load` of that `.cwasm`: engine, deserialize, link, `InstancePre`.
    pub connector_load_s: f64,
    /// `InstancePre` instantiation of a fresh store (what every call costs).
    pub instantiate_s: f64,
    /// One kept-alive native request to the mock (`GET /services/data/`).
    pub round_trip_http_s: f64,
    pub round_trip_https_s: f64,
    /// The mock process's CPU per W1 call over HTTPS, over every
    /// contender's runs: what a mock serving pre-rendered answers could save.
    pub mock_cpu_per_w1_call_s: f64,
    pub memory: Memory,
}

/// From the memory probe process.
#[derive(Debug, Serialize, Deserialize)]
pub struct Memory {
    pub records: usize,
    pub pages: usize,
    /// The largest page's records as JSON text.
    pub page_bytes: usize,
    /// Linear memory of an instance that has run nothing.
    pub idle_linear_bytes: usize,
    /// Peak linear memory of the first page's instance (query)…
    pub first_page_linear_bytes: usize,
    /// …and of any instance while paging through all of them with
    /// query + query-more: bounded if it is no more than the first's.
    pub paging_linear_bytes: usize,
    /// Peak linear memory of query-all-pages, which returns every record at
    /// once, at W2's 10,000 and at 100,000 records.
    pub all_pages_10k_linear_bytes: usize,
    pub all_pages_100k_linear_bytes: usize,
    /// The probe process's peak RSS (VmHWM) after paging.
    pub host_peak_rss_bytes: usize,
}

fn egress() -> Egress {
    Egress {
        policy: Arc::new(Policy::default()),
        sender: Sender::new(None).expect("sender"),
        denied: Arc::default(),
        log: None,
    }
}

fn seconds(samples: usize, mut f: impl FnMut() -> f64) -> f64 {
    Summary::median_of((0..samples).map(|_| f()).collect())
}

pub async fn measure(mock: &MockProcess, scratch: &Path, samples: usize) -> Probes {
    let wasm = sf_host::default_component_path();
    let cwasm = scratch.join("salesforce_connector.cwasm");
    Connector::precompile(&wasm, &cwasm).expect("precompile");
    let engine =
        salesforce_host::wasmtime::Engine::new(&salesforce_host::connector::engine_config())
            .expect("engine");
    let precompiled_load_s = seconds(samples, || {
        let started = Instant::now();
        // SAFETY: written by `Connector::precompile` just above with the
        // same wasmtime and engine settings.
        let component = unsafe {
            salesforce_host::wasmtime::component::Component::deserialize_file(&engine, &cwasm)
        };
        let elapsed = started.elapsed().as_secs_f64();
        component.expect("deserialize");
        elapsed
    });
    let connector_load_s = seconds(samples, || {
        let started = Instant::now();
        let connector = Connector::load_precompiled(&cwasm).expect("load");
        let elapsed = started.elapsed().as_secs_f64();
        drop(connector);
        elapsed
    });

    let connector = Connector::load(&wasm).expect("load");
    let mut instantiate = Vec::new();
    for _ in 0..samples * 20 {
        let egress = egress();
        let started = Instant::now();
        let instance = connector.instantiate(egress).await.expect("instantiate");
        instantiate.push(started.elapsed().as_secs_f64());
        drop(instance);
    }

    let mut rtt = Vec::new();
    for url in [&mock.info.http_url, &mock.info.https_url] {
        let mut native = Native::login(&mock.info, url).await;
        let mut times = Vec::new();
        for _ in 0..samples * 20 {
            let started = Instant::now();
            native.round_trip().await;
            times.push(started.elapsed().as_secs_f64());
        }
        rtt.push(Summary::median_of(times));
    }

    Probes {
        component_bytes: std::fs::metadata(&wasm).expect("component").len(),
        precompiled_load_s,
        connector_load_s,
        instantiate_s: Summary::median_of(instantiate),
        round_trip_http_s: rtt[0],
        round_trip_https_s: rtt[1],
        mock_cpu_per_w1_call_s: 0.0,
        memory: memory(mock),
    }
}

/// Runs the memory probe (this binary with `__probe-memory`) and reads its JSON.
fn memory(mock: &MockProcess) -> Memory {
    let out = clean_env(&mut std::process::Command::new(
        std::env::current_exe().expect("current exe"),
    ))
    .arg("__probe-memory")
    .envs(mock.info.env(&mock.raw))
    .stderr(std::process::Stdio::inherit())
    .output()
    .expect("memory probe");
    assert!(out.status.success(), "memory probe failed: {}", out.status);
    serde_json::from_slice(&out.stdout).expect("memory probe JSON")
}

/// Peak linear memory of one query-all-pages call.
async fn all_pages_peak(client: &mut Client, peak: &MemoryPeak, soql: &str) -> usize {
    peak.reset();
    let all = client
        .query_all_pages(soql, PLAIN_QUERY, None)
        .await
        .expect("all pages");
    assert!(!all.truncated);
    peak.bytes()
}

/// VmHWM of this process, bytes.
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// A logged-in client whose component records its peak linear memory, as
/// the memory probes use it.
pub async fn measured_client(mock: &MockInfo) -> (Arc<Connector>, Client, MemoryPeak) {
    let peak = MemoryPeak::default();
    let connector = Arc::new(
        Connector::load(&sf_host::default_component_path())
            .expect("load")
            .record_memory_peak(peak.clone()),
    );
    let options = ClientOptions {
        extra_ca_pem: Some(mock.ca_pem()),
        ..Default::default()
    };
    let mut client =
        Client::new(connector.clone(), mock.config(&mock.https_url), options).expect("client");
    client.authenticate().await.expect("login");
    (connector, client, peak)
}

/// `__probe-memory`: one host (`Connector` + `Client`, as in sf-host) pages
/// through 100,000 records with query + query-more, each page a fresh
/// instance as every call is; then query-all-pages.
pub fn memory_main() {
    let mock = MockInfo::from_env();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let memory = runtime.block_on(async {
        let (connector, mut client, peak) = measured_client(&mock).await;

        peak.reset();
        drop(connector.instantiate(egress()).await.expect("instantiate"));
        let idle_linear_bytes = peak.bytes();

        peak.reset();
        let soql = workloads::paged_soql(workloads::PROBE_RECORDS);
        let mut page = client.query(&soql, PLAIN_QUERY).await.expect("query");
        let first_page_linear_bytes = peak.bytes();
        let (mut records, mut pages, mut page_bytes) = (0, 0, 0);
        loop {
            let batch: Vec<serde::de::IgnoredAny> =
                serde_json::from_str(&page.records).expect("records JSON");
            records += batch.len();
            pages += 1;
            page_bytes = page_bytes.max(page.records.len());
            match page.next_records_url.take() {
                Some(next) => {
                    page = client
                        .query_more(&next, PLAIN_QUERY)
                        .await
                        .expect("query more")
                }
                None => break,
            }
        }
        assert_eq!(records, workloads::PROBE_RECORDS);
        let paging_linear_bytes = peak.bytes();
        let host_peak_rss_bytes = peak_rss();

        let all_pages_10k_linear_bytes =
            all_pages_peak(&mut client, &peak, workloads::PAGED_SOQL).await;
        let all_pages_100k_linear_bytes = all_pages_peak(&mut client, &peak, &soql).await;
        Memory {
            records,
            pages,
            page_bytes,
            idle_linear_bytes,
            first_page_linear_bytes,
            paging_linear_bytes,
            all_pages_10k_linear_bytes,
            all_pages_100k_linear_bytes,
            host_peak_rss_bytes,
        }
    });
    println!("{}", serde_json::to_string(&memory).expect("JSON"));
}
