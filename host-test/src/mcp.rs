//! `sf-host mcp`: the component's tool catalog served over the Model Context
//! Protocol on stdio, for agent clients (Claude Desktop, VS Code, ...).
//!
//! The host knows no tool: `tools/list` is the component's `tools()` and
//! `tools/call` its `invoke`. stdout carries MCP messages only; the request
//! log (`-v`) and errors at start-up go to stderr.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use salesforce_host::Client;
use salesforce_host::HostError;
use salesforce_host::{tools, wit};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;

/// The component's tool catalog in MCP's shape (`sf-host tools` prints it too).
pub async fn catalog(client: &Client) -> Result<Vec<Tool>, HostError> {
    client
        .tools()
        .await?
        .into_iter()
        .map(|t| match serde_json::from_str(&t.input_schema) {
            Ok(Value::Object(schema)) => Ok(Tool::new(t.name, t.description, Arc::new(schema))),
            _ => Err(HostError::Load(format!(
                "its tool `{}` has an input schema that is not a JSON object",
                t.name
            ))),
        })
        .collect()
}

/// Serves MCP on stdin/stdout until the client closes stdin, every tool
/// within `guardrails`.
///
/// The client logs in at the first `tools/call`, not here: an MCP client
/// starts its servers when it starts, and a login failure at that moment
/// only shows as "server disconnected", while as a tool result the user (and
/// the model) read the reason. It also spares a login when no tool is called.
pub async fn serve(
    client: Client,
    guardrails: tools::Guardrails,
    export_dir: Option<PathBuf>,
) -> Result<(), HostError> {
    let server = Server {
        tools: catalog(&client).await?,
        state: Mutex::new(State {
            client,
            guardrails,
            refused: None,
            export_dir,
        }),
    };
    let running = server.serve(rmcp::transport::stdio()).await.map_err(|e| {
        HostError::Usage(format!(
            "sf-host mcp speaks MCP on stdin and stdout; start it from an MCP client \
                 (the handshake failed: {e})"
        ))
    })?;
    running
        .waiting()
        .await
        .map_err(|e| HostError::Trap(format!("the MCP service stopped: {e}")))?;
    Ok(())
}

struct Server {
    tools: Vec<Tool>,
    /// One client, so one session for every call. Calls take turns: the
    /// session (and its one re-authentication on expiry) is shared.
    state: Mutex<State>,
}

struct State {
    client: Client,
    guardrails: tools::Guardrails,
    /// The reason the org refused the login. Later calls get it again
    /// without a new attempt: the credentials cannot change before a
    /// restart, and repeated failed logins lock the Salesforce user out.
    refused: Option<String>,
    /// Where `bulk_query` results are saved, when the owner says so.
    export_dir: Option<PathBuf>,
}

impl State {
    /// Runs one tool; every failure is a result the model can read
    /// (`isError`), never a protocol error.
    async fn invoke(&mut self, name: &str, arguments: &str) -> CallToolResult {
        if let Some(reason) = &self.refused {
            return CallToolResult::error(vec![ContentBlock::text(reason.clone())]);
        }
        match self
            .client
            .invoke_within(&self.guardrails, name, arguments)
            .await
        {
            Ok(json) if name == "bulk_query" => {
                let json = self.save_bulk_result(json).await;
                CallToolResult::success(vec![ContentBlock::text(json)])
            }
            Ok(json) => CallToolResult::success(vec![ContentBlock::text(json)]),
            Err(e) => {
                let mut message = e.to_string();
                if matches!(e, HostError::Component(wit::Error::AuthenticationFailed(_))) {
                    message.push_str(
                        "; no further login is attempted: correct the credentials in the \
                         MCP client's configuration and restart the server",
                    );
                    self.refused = Some(message.clone());
                }
                CallToolResult::error(vec![ContentBlock::text(message)])
            }
        }
    }
}

impl State {
    /// Adds `file` (every row, saved under the export directory) and
    /// `rows` to a finished `bulk_query`'s result, or `fileError` saying
    /// why there is no file. The rows stream to disk a page at a time; the
    /// model only ever sees the path.
    async fn save_bulk_result(&mut self, json: String) -> String {
        let Some(dir) = self.export_dir.clone() else {
            return json;
        };
        let Ok(mut result) = serde_json::from_str::<Value>(&json) else {
            return json;
        };
        let job = result["jobId"].as_str().unwrap_or_default().to_string();
        if result["complete"] != Value::Bool(true) || job.is_empty() {
            return json;
        }
        let path = dir.join(format!("{job}.csv"));
        match save(&mut self.client, &job, &path).await {
            Ok(rows) => {
                result["file"] = path.display().to_string().into();
                result["rows"] = rows.into();
            }
            Err(e) => result["fileError"] = e.to_string().into(),
        }
        result.to_string()
    }
}

/// A query job's every row to `path` (PATH.partial until complete).
async fn save(client: &mut Client, job: &str, path: &Path) -> Result<u64, HostError> {
    let partial = path.with_extension("partial");
    let io = |e: std::io::Error| HostError::Io(format!("{}: {e}", partial.display()));
    let file = std::fs::File::create(&partial).map_err(io)?;
    let mut sink = std::io::BufWriter::new(file);
    let saved = client
        .save_query_results(job, 50_000, &mut sink, &mut |_| {})
        .await;
    drop(sink);
    match saved {
        Ok(rows) => std::fs::rename(&partial, path).map(|()| rows).map_err(io),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("sf-host", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // An unknown name is the one protocol error (MCP's -32602): the
        // client asked for something tools/list never offered.
        if !self.tools.iter().any(|t| t.name == request.name) {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{}`; tools/list names the {} tools of this server",
                    request.name,
                    self.tools.len()
                ),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.unwrap_or_default()).to_string();
        let mut state = self.state.lock().await;
        Ok(state.invoke(&request.name, &arguments).await.into())
    }
}
