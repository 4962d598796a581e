//! The composed agent component in wasmtime, run as a host that makes its
//! functions tools would run it: credentials only in its environment, the
//! mock behind wasi:http with the host's egress policy, each function called
//! by name with plain arguments.

use salesforce_host::egress::{Egress, Policy};
use salesforce_host::send::Sender;
use salesforce_host::wasmtime::component::{Component, Linker, Val};
use salesforce_host::wasmtime::{Config, Engine, Store};
use salesforce_host::wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
use salesforce_mock::{Mock, MockOptions};
use serde_json::Value;
use std::sync::Arc;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

struct Agent {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    egress: Egress,
}

impl WasiView for Agent {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Agent {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.egress,
        }
    }
}

/// The agent component, compiled once, and a linker with WASI and wasi:http.
struct Host {
    engine: Engine,
    component: Component,
    linker: Linker<Agent>,
}

impl Host {
    fn new() -> Self {
        let engine = Engine::new(&Config::new()).expect("engine");
        let component =
            Component::from_file(&engine, sf_host::default_agent_component_path()).expect("load");
        let mut linker = Linker::new(&engine);
        salesforce_host::wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("wasi");
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("http");
        Host {
            engine,
            component,
            linker,
        }
    }

    /// A fresh instance seeing `env`, allowed to reach `origin` only.
    async fn instance(
        &self,
        env: &[(String, String)],
        origin: &str,
    ) -> (Store<Agent>, salesforce_host::wasmtime::component::Instance) {
        let policy = Policy::default();
        policy.allow(origin);
        let egress = Egress {
            policy: Arc::new(policy),
            sender: Sender::new(None).expect("sender"),
            denied: Arc::default(),
            log: None,
        };
        let state = Agent {
            wasi: WasiCtx::builder().envs(env).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            egress,
        };
        let mut store = Store::new(&self.engine, state);
        let instance = self
            .linker
            .instantiate_async(&mut store, &self.component)
            .await
            .expect("instantiate");
        (store, instance)
    }
}

/// Calls the exported function `name`; its `result<string, string>` as
/// `Ok(json)` or `Err(json)`.
async fn call(
    store: &mut Store<Agent>,
    instance: &salesforce_host::wasmtime::component::Instance,
    name: &str,
    args: &[Val],
) -> Result<Value, Value> {
    let func = instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let mut results = [Val::Bool(false)];
    func.call_async(&mut *store, args, &mut results)
        .await
        .expect("no trap");
    let text = |v: &Val| match v {
        Val::String(s) => serde_json::from_str(s).expect("JSON text"),
        other => panic!("{other:?}"),
    };
    match &results[0] {
        Val::Result(Ok(Some(v))) => Ok(text(v)),
        Val::Result(Err(Some(v))) => Err(text(v)),
        other => panic!("{other:?}"),
    }
}

fn s(v: &str) -> Val {
    Val::String(v.into())
}

/// The mock's org as the variables a host (`wassette secret set`) would give.
fn credentials(mock: &Mock) -> Vec<(String, String)> {
    let c = mock.credentials();
    [
        ("SF_LOGIN_URL", mock.http_url()),
        ("SF_CLIENT_ID", c.client_id.clone()),
        ("SF_CLIENT_SECRET", c.client_secret.clone()),
        ("SF_USERNAME", c.username.clone()),
        ("SF_PASSWORD", c.password.clone()),
        ("SF_SECURITY_TOKEN", c.security_token.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_component_queries_writes_and_describes_with_plain_arguments() {
    let mock = Mock::start(MockOptions::default()).await.expect("mock");
    let host = Host::new();
    let (mut store, agent) = host.instance(&credentials(&mock), &mock.http_url()).await;

    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' LIMIT 5";
    let query = Val::Option(None);
    let page = call(
        &mut store,
        &agent,
        "soql-query",
        &[s(soql), query.clone(), query],
    )
    .await
    .expect("query");
    assert!(
        page["records"].as_array().is_some_and(|r| !r.is_empty()),
        "{page}"
    );

    let fields = r#"{"Name": "Agent Test Co", "Industry": "Energy"}"#;
    let created = call(
        &mut store,
        &agent,
        "create-record",
        &[s("Account"), s(fields)],
    )
    .await
    .expect("create");
    let id = created["id"].as_str().expect("an id").to_string();
    let got = call(
        &mut store,
        &agent,
        "get-record",
        &[s("Account"), s(&id), Val::Option(None)],
    )
    .await
    .expect("get");
    assert_eq!(got["Name"], "Agent Test Co");

    let described = call(&mut store, &agent, "describe-sobject", &[s("Account")])
        .await
        .expect("describe");
    assert_eq!(described["name"], "Account");

    // One login for the whole instance: the session is kept inside it.
    assert_eq!(mock.token_requests(), 1);
    for text in [page.to_string(), created.to_string(), described.to_string()] {
        assert!(!text.contains(&mock.credentials().password));
        assert!(
            !text.contains("00D000000000001!"),
            "no access token in a result"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_instance_per_call_logs_in_per_call() {
    let mock = Mock::start(MockOptions::default()).await.expect("mock");
    let host = Host::new();
    for n in 1..=3 {
        let (mut store, agent) = host.instance(&credentials(&mock), &mock.http_url()).await;
        call(&mut store, &agent, "org-limits", &[])
            .await
            .expect("limits");
        assert_eq!(mock.token_requests(), n);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_and_arguments_are_typed_errors_naming_them() {
    let mock = Mock::start(MockOptions::default()).await.expect("mock");
    let host = Host::new();
    let secret = mock.credentials().client_secret.clone();

    let mut env = credentials(&mock);
    env.retain(|(k, _)| k != "SF_PASSWORD");
    env.push(("SF_GRANT".into(), "password".into()));
    let (mut store, agent) = host.instance(&env, &mock.http_url()).await;
    let err = call(&mut store, &agent, "org-limits", &[])
        .await
        .unwrap_err();
    assert_eq!(err["error"], "invalid-config", "{err}");
    assert_eq!(err["field"], "SF_PASSWORD", "{err}");
    assert!(!err.to_string().contains(&secret));

    let mut env = credentials(&mock);
    env.push(("SF_TIMEOUT_MS".into(), "soon".into()));
    let (mut store, agent) = host.instance(&env, &mock.http_url()).await;
    let err = call(&mut store, &agent, "org-limits", &[])
        .await
        .unwrap_err();
    assert_eq!(
        (err["error"].as_str(), err["field"].as_str()),
        (Some("invalid-config"), Some("SF_TIMEOUT_MS"))
    );

    let (mut store, agent) = host.instance(&credentials(&mock), &mock.http_url()).await;
    let err = call(
        &mut store,
        &agent,
        "create-record",
        &[s("Account"), s("{not json")],
    )
    .await
    .unwrap_err();
    assert_eq!(err["field"], "fields-json", "{err}");

    // The host's egress policy still decides: another origin is denied.
    let (mut store, agent) = host
        .instance(&credentials(&mock), "http://127.0.0.2:9")
        .await;
    let err = call(&mut store, &agent, "org-limits", &[])
        .await
        .unwrap_err();
    assert_eq!(err["error"], "denied", "{err}");
}
