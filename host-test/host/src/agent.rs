//! The agent component (the `salesforce-agent` world of `wit/agent.wit`):
//! the connector composed with its adapter, one exported function per tool,
//! credentials from the instance's environment. Load it, list its functions
//! as tools (descriptions from its `package-docs` section, input schemas
//! from its types), and call one with a JSON object of arguments.

use crate::connector::HostState;
use crate::egress::Egress;
use crate::error::HostError;
use crate::guards::{Guards, MemoryLimit};
use serde_json::{json, Map, Value};
use wasmtime::component::types::{ComponentItem, Type};
use wasmtime::component::{Component, Instance, InstancePre, Linker, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;

/// One exported function, as a tool.
#[derive(Clone, Debug)]
pub struct AgentTool {
    /// The function's name, e.g. `soql-query`.
    pub name: String,
    /// Its doc comment from the component's `package-docs`.
    pub description: String,
    params: Vec<(String, Type)>,
}

impl AgentTool {
    /// JSON Schema of the arguments object: a property per parameter; an
    /// `option` may be left out, everything else is required.
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, ty) in &self.params {
            let (schema, optional) = match ty {
                Type::Option(o) => (schema_of(&o.ty()), true),
                other => (schema_of(other), false),
            };
            properties.insert(name.clone(), schema);
            if !optional {
                required.push(Value::from(name.as_str()));
            }
        }
        json!({"type": "object", "properties": properties, "required": required})
    }
}

fn schema_of(ty: &Type) -> Value {
    match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::U32 | Type::U64 => json!({"type": "integer", "minimum": 0}),
        Type::List(l) => json!({"type": "array", "items": schema_of(&l.ty())}),
        _ => json!({"type": "string"}),
    }
}

/// The agent component, compiled and linked once.
pub struct Agent {
    engine: Engine,
    pre: InstancePre<HostState>,
    tools: Vec<AgentTool>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tools.iter().map(|t| t.name.as_str()).collect();
        f.debug_struct("Agent").field("tools", &names).finish()
    }
}

impl Agent {
    /// Whether `wasm` is an agent component (it exports functions at its top
    /// level) rather than the connector (which exports interfaces).
    pub fn is_agent(wasm: &[u8]) -> bool {
        package_docs(wasm).is_some_and(|d| d["worlds"]["root"]["func_exports"].is_object())
    }

    /// Compiles `wasm` and links it with WASI (its environment is the
    /// credentials) and wasi:http through the host's egress policy.
    pub fn from_bytes(wasm: &[u8]) -> Result<Self, HostError> {
        let load = |e: wasmtime::Error| HostError::Load(format!("{e:#}"));
        let engine = Engine::new(&crate::connector::engine_config()).map_err(load)?;
        crate::guards::start_ticking(&engine);
        let component = Component::new(&engine, wasm).map_err(load)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(load)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(load)?;
        let pre = linker.instantiate_pre(&component).map_err(load)?;
        let docs = package_docs(wasm).unwrap_or_default();
        let tools = tools_of(&engine, &component, &docs["worlds"]["root"]["func_exports"]);
        Ok(Agent { engine, pre, tools })
    }

    /// Every exported function, as a tool.
    pub fn tools(&self) -> &[AgentTool] {
        &self.tools
    }

    /// Calls `name` with `arguments` (a JSON object) in a fresh instance
    /// seeing `env`, held to `guards`: what a host that makes an instance per
    /// call does. See [`AgentInstance::call`].
    pub async fn call(
        &self,
        name: &str,
        arguments: &Value,
        env: &[(String, String)],
        egress: Egress,
        guards: Guards,
    ) -> Result<String, HostError> {
        let mut instance = self.instantiate(env, egress, guards).await?;
        instance.call(name, arguments).await
    }

    /// An instance seeing `env`, kept for several calls (and so its session).
    pub async fn instantiate(
        &self,
        env: &[(String, String)],
        egress: Egress,
        guards: Guards,
    ) -> Result<AgentInstance<'_>, HostError> {
        let memory = MemoryLimit::new(guards.max_memory, None);
        let state = HostState::new(WasiCtx::builder().envs(env).build(), egress, memory);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s.memory_limit());
        store.epoch_deadline_async_yield_and_update(1);
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::Trap(format!("{e:#}")))?;
        Ok(AgentInstance {
            agent: self,
            store,
            instance,
            guards,
        })
    }
}

/// One instance of the agent component and its store.
pub struct AgentInstance<'a> {
    agent: &'a Agent,
    store: Store<HostState>,
    instance: Instance,
    guards: Guards,
}

impl AgentInstance<'_> {
    /// Calls `name` with `arguments` (a JSON object; a missing optional is
    /// `none`), held to the deadline. The function's `ok` text, or its error
    /// (JSON text with the connector's typed error) as [`HostError::Tool`].
    pub async fn call(&mut self, name: &str, arguments: &Value) -> Result<String, HostError> {
        let tool = self
            .agent
            .tools
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| HostError::Usage(format!("the agent component has no tool `{name}`")))?;
        let args = tool
            .params
            .iter()
            .map(|(p, ty)| to_val(p, ty, &arguments[p.as_str()]))
            .collect::<Result<Vec<_>, _>>()?;
        let (store, instance) = (&mut self.store, &self.instance);
        let call = async {
            let func = instance
                .get_func(&mut *store, name)
                .ok_or_else(|| wasmtime::format_err!("no export `{name}`"))?;
            let mut results = [Val::Bool(false)];
            func.call_async(&mut *store, &args, &mut results).await?;
            Ok::<_, wasmtime::Error>(results)
        };
        let results = match tokio::time::timeout(self.guards.deadline, call).await {
            Err(_) => return Err(HostError::Tool(deadline_error(self.guards))),
            Ok(r) => r.map_err(|e| HostError::Trap(format!("{e:#}")))?,
        };
        match results {
            [Val::Result(Ok(Some(v)))] => text(&v).map(str::to_string),
            [Val::Result(Err(Some(v)))] => Err(HostError::Tool(text(&v)?.to_string())),
            _ => Err(HostError::Load(format!(
                "`{name}` does not return result<string, string>"
            ))),
        }
    }
}

fn deadline_error(guards: Guards) -> String {
    let ms = guards.deadline.as_millis();
    json!({"error": "timeout", "message": format!("the host stopped the call at its deadline ({ms} ms)")})
        .to_string()
}

fn text(v: &Val) -> Result<&str, HostError> {
    match v {
        Val::String(s) => Ok(s),
        other => Err(HostError::Load(format!(
            "a tool returned {other:?}, not text"
        ))),
    }
}

/// The component's top-level functions with their parameters, and the docs
/// `package-docs` has for them.
fn tools_of(engine: &Engine, component: &Component, docs: &Value) -> Vec<AgentTool> {
    let ty = component.component_type();
    ty.exports(engine)
        .filter_map(|(name, item)| match item.ty {
            ComponentItem::ComponentFunc(f) => Some(AgentTool {
                name: name.to_string(),
                description: docs[name]["docs"].as_str().unwrap_or_default().to_string(),
                params: f.params().map(|(p, t)| (p.to_string(), t)).collect(),
            }),
            _ => None,
        })
        .collect()
}

/// A JSON argument as the parameter's value; a missing optional is `none`.
fn to_val(param: &str, ty: &Type, arg: &Value) -> Result<Val, HostError> {
    let bad = |want: &str| HostError::Usage(format!("argument `{param}` must be {want}"));
    Ok(match (ty, arg) {
        (Type::Option(_), Value::Null) => Val::Option(None),
        (Type::Option(o), v) => Val::Option(Some(Box::new(to_val(param, &o.ty(), v)?))),
        (Type::String, Value::String(s)) => Val::String(s.clone()),
        // A `-json` parameter also takes the JSON itself.
        (Type::String, v) if param.ends_with("-json") && !v.is_null() => Val::String(v.to_string()),
        (Type::String, _) => return Err(bad("a string")),
        (Type::Bool, Value::Bool(b)) => Val::Bool(*b),
        (Type::Bool, _) => return Err(bad("true or false")),
        (Type::U32, v) => Val::U32(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("a whole number"))?,
        ),
        (Type::List(l), Value::Array(items)) => Val::List(
            items
                .iter()
                .map(|i| to_val(param, &l.ty(), i))
                .collect::<Result<_, _>>()?,
        ),
        (Type::List(_), _) => return Err(bad("a list")),
        (other, _) => {
            return Err(HostError::Load(format!(
                "parameter `{param}` has a type this host does not map: {other:?}"
            )))
        }
    })
}

/// The `package-docs` custom section at the component's top level: a
/// version byte, then JSON.
pub fn package_docs(wasm: &[u8]) -> Option<Value> {
    use wasmparser::{Parser, Payload};
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(s) if depth == 0 && s.name() == "package-docs" => {
                let (_version, json) = s.data().split_first()?;
                return serde_json::from_slice(json).ok();
            }
            _ => {}
        }
    }
    None
}
