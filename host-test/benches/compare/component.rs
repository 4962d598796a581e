//! Contender (a): the component in the sf-host wasmtime host, through the
//! host's public API (`Client`), on the host's keep-alive pool.

use crate::clock::Timer;
use crate::mock_process::MockInfo;
use crate::workloads::{self, Measured};
use salesforce_host::PLAIN_QUERY;
use salesforce_host::{wit, Client, ClientOptions, Connector};
use std::sync::Arc;

pub struct ComponentClient {
    connector: Arc<Connector>,
    config: wit::Config,
    options: ClientOptions,
    /// Logged in once, kept across runs (W1, W3): steady state.
    client: Client,
}

impl ComponentClient {
    pub async fn login(connector: Arc<Connector>, mock: &MockInfo, login_url: &str) -> Self {
        let config = mock.config(login_url);
        let options = ClientOptions {
            extra_ca_pem: Some(mock.ca_pem()),
            ..Default::default()
        };
        let mut client =
            Client::new(connector.clone(), config.clone(), options.clone()).expect("client");
        client.authenticate().await.expect("login");
        ComponentClient {
            connector,
            config,
            options,
            client,
        }
    }

    pub async fn w1(&mut self, calls: usize) -> Measured {
        let timer = Timer::start();
        for _ in 0..calls {
            let record = self
                .client
                .get_record("Account", workloads::ACCOUNT_ID, &[])
                .await
                .expect("get record");
            debug_assert!(record.body.contains(workloads::ACCOUNT_ID));
        }
        Measured::one("W1", timer.stop(), calls)
    }

    /// A new client each time: a login, a new connection, every page.
    pub async fn w2(&mut self, iterations: usize) -> Measured {
        let timer = Timer::start();
        for _ in 0..iterations {
            let mut fresh = Client::new(
                self.connector.clone(),
                self.config.clone(),
                self.options.clone(),
            )
            .expect("client");
            fresh.authenticate().await.expect("login");
            let result = fresh
                .query_all_pages(workloads::PAGED_SOQL, PLAIN_QUERY, None)
                .await
                .expect("query");
            assert_eq!(result.fetched as usize, workloads::PAGED_RECORDS);
        }
        Measured::one("W2", timer.stop(), iterations)
    }

    pub async fn w3(&mut self, iterations: usize) -> Measured {
        let mut measured = Measured::default();
        for _ in 0..iterations {
            let timer = Timer::start();
            for fields in workloads::new_accounts("wasm") {
                self.client
                    .create_record("Account", &fields.to_string())
                    .await
                    .expect("create");
            }
            measured.add("W3a", timer.stop(), 1);
            let timer = Timer::start();
            let records = serde_json::Value::Array(workloads::new_accounts("wasm")).to_string();
            let batch = self
                .client
                .create_records("Account", &records, false)
                .await
                .expect("collection");
            assert!(
                batch.results.len() == workloads::BATCH && batch.results.iter().all(|r| r.success)
            );
            measured.add("W3b", timer.stop(), 1);
        }
        measured
    }
}
