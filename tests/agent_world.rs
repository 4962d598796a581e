//! `wit/agent.wit` is the tool catalog in WIT: one exported function per
//! tool, with the catalog's words as its doc. The catalog (the component's
//! `tools()`) is the one place those words live; this test renders the WIT
//! from it and fails when the file differs.
//! `SF_BLESS=1 cargo test --release --test agent_world` rewrites the file.

mod common;

use serde_json::Value;
use std::fmt::Write as _;

const AGENT_WIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/wit/agent.wit");

/// The head of the file: what the agent world is and what it imports. (A
/// comment above a doc comment would join the doc, so the note that the
/// file is generated is at its end.)
const HEAD: &str = "\
/// Salesforce for hosts that make every exported function a tool for a
/// language model (Wassette and other MCP hosts of components). Credentials
/// come from the host's environment (`SF_LOGIN_URL`, `SF_CLIENT_ID`,
/// `SF_CLIENT_SECRET`, `SF_USERNAME`, `SF_PASSWORD`, `SF_SECURITY_TOKEN`,
/// `SF_PRIVATE_KEY`, `SF_REFRESH_TOKEN`, `SF_AUDIENCE`, `SF_ACCESS_TOKEN`,
/// `SF_INSTANCE_URL`, `SF_GRANT`, `SF_API_VERSION`), never from arguments:
/// no parameter and no result carries a secret or a session. The session is
/// kept for as long as the host keeps the instance, and renewed once when it
/// expires. The owner's guardrails come from the environment too:
/// `SF_READ_ONLY=true` refuses every write, `SF_ALLOWED_OBJECTS=Account,Contact`
/// refuses any other object (relationship paths and subqueries included),
/// `SF_MAX_ROWS` caps the rows of one call. A result is JSON text; an error
/// is JSON text too, with the connector's typed error in it: `{\"error\":
/// \"invalid-config\", \"field\": \"SF_USERNAME\", \"message\": ...}` (kinds
/// as in the connector's `error`; a guardrail's refusal is `denied`).
world salesforce-agent {
    import wasi:cli/environment@0.2.12;
    import wasi:http/outgoing-handler@0.2.12;
    import wasi:clocks/monotonic-clock@0.2.12;
    import wasi:clocks/wall-clock@0.2.12;
    import wasi:random/random@0.2.12;
";

/// The adapter composed with the unchanged connector into
/// `salesforce-agent`: it reads the environment, keeps the session and maps
/// arguments to the connector's tools; all Salesforce logic stays in the
/// connector.
const ADAPTER: &str = "
/// The adapter that, composed with the connector, makes `salesforce-agent`:
/// it reads the environment, keeps the session and maps each function's
/// arguments to the connector's tool of the same name.
world salesforce-agent-adapter {
    include salesforce-agent;
    import connector;
    import tools;
}

// Generated from the component's tool catalog (src/tools/catalog.json) by
// tests/agent_world.rs: edit the catalog, then
// `SF_BLESS=1 cargo test --release --test agent_world`.
";

/// One parameter of an exported function, from a catalog property.
struct Param {
    name: String,
    ty: String,
    doc: String,
}

fn param(name: &str, schema: &Value, required: bool) -> Param {
    let items = schema["items"]["type"].as_str();
    let (ty, json) = match (schema["type"].as_str(), items) {
        (Some("string"), _) => ("string", false),
        (Some("integer"), _) => ("u32", false),
        (Some("boolean"), _) => ("bool", false),
        (Some("array"), Some("string")) => ("list<string>", false),
        _ => ("string", true),
    };
    let mut name = name.replace('_', "-");
    let mut doc = schema["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if json {
        name.push_str("-json");
        doc = format!("JSON text. {doc}");
    }
    let ty = if required {
        ty.to_string()
    } else {
        format!("option<{ty}>")
    };
    Param { name, ty, doc }
}

/// The catalog's parameters in the order the schema lists them.
fn params(schema: &Value) -> Vec<Param> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(k, v)| param(k, v, required.contains(&k.as_str())))
                .collect()
        })
        .unwrap_or_default()
}

/// `text` as `///` lines of at most about 76 columns, indented four.
fn doc_lines(out: &mut String, text: &str) {
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + word.len() > 72 {
                let _ = writeln!(out, "    /// {line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(
            out,
            "    ///{}{line}",
            if line.is_empty() { "" } else { " " }
        );
    }
}

fn render(tools: &[salesforce_host::tools::Tool]) -> String {
    let mut out = String::from(HEAD);
    for tool in tools {
        let schema: Value = serde_json::from_str(&tool.input_schema).expect("schema is JSON");
        let params = params(&schema);
        let mut doc = tool.description.clone();
        if !params.is_empty() {
            doc.push_str("\n\nParameters:");
            for p in &params {
                let _ = write!(doc, "\n- `{}`: {}", p.name, p.doc);
            }
        }
        out.push('\n');
        doc_lines(&mut out, &doc);
        let list: Vec<String> = params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty))
            .collect();
        let _ = writeln!(
            out,
            "    export {}: func({}) -> result<string, string>;",
            tool.name.replace('_', "-"),
            list.join(", ")
        );
    }
    out.push_str("}\n");
    out.push_str(ADAPTER);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_world_is_the_catalog() {
    let mock = common::mock().await;
    let tools = common::password_client(&mock).tools().await.expect("tools");
    let rendered = render(&tools);
    if std::env::var_os("SF_BLESS").is_some() {
        std::fs::write(AGENT_WIT, &rendered).expect("write wit/agent.wit");
    }
    let current = std::fs::read_to_string(AGENT_WIT).unwrap_or_default();
    assert!(
        current == rendered,
        "wit/agent.wit is not the catalog's rendering; run \
         `SF_BLESS=1 cargo test --release --test agent_world` and review the diff"
    );
    for secret in ["password", "secret", "token", "session", "private"] {
        let signatures = rendered
            .lines()
            .filter(|l| l.trim_start().starts_with("export "));
        for line in signatures {
            assert!(
                !line.contains(secret),
                "a parameter carries a {secret}: {line}"
            );
        }
    }
}

/// Every exported function of the built agent component carries its
/// catalog description where hosts read it (`worlds.root.func_exports`).
#[tokio::test(flavor = "multi_thread")]
async fn the_built_agent_component_carries_the_descriptions() {
    let mock = common::mock().await;
    let tools = common::password_client(&mock).tools().await.expect("tools");
    let wasm = std::fs::read(sf_host::default_agent_component_path()).expect("agent component");
    let docs = salesforce_host::agent::package_docs(&wasm).expect("a package-docs section");
    let funcs = &docs["worlds"]["root"]["func_exports"];
    for tool in &tools {
        let name = tool.name.replace('_', "-");
        let doc = funcs[&name]["docs"].as_str().unwrap_or_default();
        let first_words: String = tool.description.chars().take(40).collect();
        assert!(
            doc.replace('\n', " ").starts_with(&first_words),
            "{name}: {doc:?}"
        );
    }
    assert_eq!(funcs.as_object().map(|f| f.len()), Some(tools.len()));
    assert!(docs["worlds"]["root"]["docs"]
        .as_str()
        .is_some_and(|d| d.contains("SF_CLIENT_SECRET") && !d.contains("Generated")));
}
