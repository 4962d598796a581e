//! The composed agent component in the host library (`salesforce_host::Agent`),
//! run as a host that makes its functions tools would run it: credentials
//! only in its environment, the mock behind wasi:http with the host's
//! egress policy, each function called by name with a JSON object of
//! arguments.

use salesforce_host::egress::{Egress, Policy};
use salesforce_host::send::Sender;
use salesforce_host::{Agent, Guards, HostError};
use salesforce_mock::{Mock, MockOptions};
use serde_json::{json, Value};
use std::sync::Arc;

fn agent() -> Agent {
    let wasm = std::fs::read(sf_host::default_agent_component_path()).expect("agent component");
    assert!(Agent::is_agent(&wasm));
    Agent::from_bytes(&wasm).expect("load")
}

/// Egress to `origin` only.
fn egress(origin: &str) -> Egress {
    let policy = Policy::default();
    policy.allow(origin);
    Egress {
        policy: Arc::new(policy),
        sender: Sender::new(None).expect("sender"),
        denied: Arc::default(),
        log: None,
    }
}

/// A tool's JSON result, or its JSON error.
fn json_of(r: Result<String, HostError>) -> Result<Value, Value> {
    match r {
        Ok(text) => Ok(serde_json::from_str(&text).expect("JSON result")),
        Err(HostError::Tool(text)) => Err(serde_json::from_str(&text).expect("JSON error")),
        Err(other) => panic!("{other}"),
    }
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
    let agent = agent();
    let mut instance = agent
        .instantiate(
            &credentials(&mock),
            egress(&mock.http_url()),
            Guards::default(),
        )
        .await
        .expect("instance");
    let mut call = async |name: &str, args: Value| json_of(instance.call(name, &args).await);

    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' LIMIT 5";
    let page = call("soql-query", json!({"soql": soql}))
        .await
        .expect("query");
    assert!(
        page["records"].as_array().is_some_and(|r| !r.is_empty()),
        "{page}"
    );

    let fields = json!({"Name": "Agent Test Co", "Industry": "Energy"}).to_string();
    let created = call(
        "create-record",
        json!({"sobject": "Account", "fields-json": fields}),
    )
    .await
    .expect("create");
    let id = created["id"].as_str().expect("an id").to_string();
    let got = call(
        "get-record",
        json!({"sobject": "Account", "id": id, "fields": ["Name"]}),
    )
    .await
    .expect("get");
    assert_eq!(got["Name"], "Agent Test Co");
    let described = call("describe-sobject", json!({"sobject": "Account"}))
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
    let agent = agent();
    for n in 1..=3 {
        let out = agent
            .call(
                "org-limits",
                &json!({}),
                &credentials(&mock),
                egress(&mock.http_url()),
                Guards::default(),
            )
            .await;
        json_of(out).expect("limits");
        assert_eq!(mock.token_requests(), n);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_and_arguments_are_typed_errors_naming_them() {
    let mock = Mock::start(MockOptions::default()).await.expect("mock");
    let agent = agent();
    let secret = mock.credentials().client_secret.clone();
    let run = async |env: &[(String, String)], origin: &str, name: &str, args: Value| {
        let out = agent
            .call(name, &args, env, egress(origin), Guards::default())
            .await;
        json_of(out).expect_err("an error")
    };
    let url = mock.http_url();

    let mut env = credentials(&mock);
    env.retain(|(k, _)| k != "SF_PASSWORD");
    env.push(("SF_GRANT".into(), "password".into()));
    let err = run(&env, &url, "org-limits", json!({})).await;
    assert_eq!(
        (err["error"].as_str(), err["field"].as_str()),
        (Some("invalid-config"), Some("SF_PASSWORD"))
    );
    assert!(!err.to_string().contains(&secret));

    let mut env = credentials(&mock);
    env.push(("SF_TIMEOUT_MS".into(), "soon".into()));
    let err = run(&env, &url, "org-limits", json!({})).await;
    assert_eq!(
        (err["error"].as_str(), err["field"].as_str()),
        (Some("invalid-config"), Some("SF_TIMEOUT_MS"))
    );

    let args = json!({"sobject": "Account", "fields-json": "{not json"});
    let err = run(&credentials(&mock), &url, "create-record", args).await;
    assert_eq!(err["field"], "fields-json", "{err}");

    // The host's egress policy still decides: another origin is denied.
    let err = run(
        &credentials(&mock),
        "http://127.0.0.2:9",
        "org-limits",
        json!({}),
    )
    .await;
    assert_eq!(err["error"], "denied", "{err}");
}

#[test]
fn the_tools_are_the_functions_with_their_descriptions_and_schemas() {
    let agent = agent();
    let tool = agent
        .tools()
        .iter()
        .find(|t| t.name == "soql-query")
        .expect("soql-query");
    assert!(tool.description.starts_with("Run a read-only SOQL query"));
    let schema = tool.input_schema();
    assert_eq!(schema["required"], json!(["soql"]));
    assert_eq!(schema["properties"]["max-records"]["type"], "integer");
    assert_eq!(agent.tools().len(), 24);
}

/// The owner's guardrails arrive in the environment, as Wassette's secrets
/// do, and hold whatever the model asks.
#[tokio::test(flavor = "multi_thread")]
async fn guardrails_in_the_environment_hold() {
    let mock = Mock::start(MockOptions::default()).await.expect("mock");
    let agent = agent();
    let mut env = credentials(&mock);
    env.extend([
        ("SF_READ_ONLY".into(), "true".into()),
        ("SF_ALLOWED_OBJECTS".into(), "Account".into()),
        ("SF_MAX_ROWS".into(), "2".into()),
    ]);
    let run = async |name: &str, args: Value| {
        let out = agent
            .call(
                name,
                &args,
                &env,
                egress(&mock.http_url()),
                Guards::default(),
            )
            .await;
        json_of(out)
    };
    let page = run(
        "soql-query",
        json!({"soql": "SELECT Name FROM Account", "max-records": 10}),
    )
    .await
    .expect("a query of Account");
    assert_eq!(
        (&page["fetched"], &page["truncated"]),
        (&json!(2), &json!(true))
    );
    let refusals = [
        (
            "create-record",
            json!({"sobject": "Account", "fields-json": "{\"Name\": \"X\"}"}),
            "SF_READ_ONLY",
        ),
        (
            "soql-query",
            json!({"soql": "SELECT Name, (SELECT LastName FROM Contacts) FROM Account"}),
            "`Contact`",
        ),
        (
            "soql-query",
            json!({"soql": "SELECT Account.Name FROM Contact"}),
            "`Contact`",
        ),
    ];
    for (name, args, says) in refusals {
        let err = run(name, args).await.expect_err("refused");
        assert_eq!(err["error"], "denied", "{err}");
        assert!(err.to_string().contains(says), "{name}: {err}");
    }
    env.retain(|(k, _)| k != "SF_MAX_ROWS");
    env.push(("SF_MAX_ROWS".into(), "none".into()));
    let err = json_of(
        agent
            .call(
                "org-limits",
                &json!({}),
                &env,
                egress(&mock.http_url()),
                Guards::default(),
            )
            .await,
    )
    .expect_err("a bad guardrail is refused");
    assert_eq!(
        (err["error"].as_str(), err["field"].as_str()),
        (Some("invalid-config"), Some("SF_MAX_ROWS"))
    );
}
