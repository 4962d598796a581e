//! Loading a build of the component: compile once (cached on disk as a
//! precompiled `.cwasm`), then a cheap `InstancePre` instantiation per use.

use crate::bindings::{wit, SalesforcePre};
use crate::egress::Egress;
use crate::error::HostError;
pub use crate::guards::Guards;
use crate::memory::MemoryPeak;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, HasData, InstancePre, Lift, Linker, Lower,
    ResourceAny, ResourceTable,
};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What one instance's store holds (the connector's and the agent
/// component's alike).
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    egress: Egress,
    memory: crate::guards::MemoryLimit,
}

/// Gives `wasi:io` its view of the state: the resource table.
struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Exactly the component's imports and nothing else: no filesystem, sockets,
/// environment, stdio or exit, so a component that asked for more would fail
/// to link instead of quietly getting it. docs/hosts.md, "Imports", says why each
/// one is needed.
pub fn link_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::p2::bindings::{clocks, random};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
    use wasmtime_wasi_io::bindings::wasi::io;

    io::error::add_to_linker::<_, HasIo>(linker, |t| &mut t.table)?;
    io::poll::add_to_linker::<_, HasIo>(linker, |t| &mut t.table)?;
    io::streams::add_to_linker::<_, HasIo>(linker, |t| &mut t.table)?;
    clocks::wall_clock::add_to_linker::<_, WasiClocks>(linker, |t| t.clocks())?;
    clocks::monotonic_clock::add_to_linker::<_, WasiClocks>(linker, |t| t.clocks())?;
    random::random::add_to_linker::<_, WasiRandom>(linker, |t| t.random())?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}

impl HostState {
    /// A store's state: `wasi` is what the guest sees of WASI (the
    /// connector: nothing; the agent component: its environment).
    pub(crate) fn new(wasi: WasiCtx, egress: Egress, memory: crate::guards::MemoryLimit) -> Self {
        HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            egress,
            memory,
        }
    }

    pub(crate) fn memory_limit(&mut self) -> &mut crate::guards::MemoryLimit {
        &mut self.memory
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.egress,
        }
    }
}

pub struct Connector {
    engine: Engine,
    pre: InstancePre<HostState>,
    /// Every exported function by its name (`query-more`, `call`, …).
    funcs: HashMap<String, ComponentExportIndex>,
    path: PathBuf,
    code: CodeSource,
    memory_peak: Option<MemoryPeak>,
}

/// Where a loaded component's machine code came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeSource {
    /// Compiled from the `.wasm` at load.
    Compiled,
    /// Read from the user's cache ([`crate::code_cache`]).
    Cache(PathBuf),
    /// A `.cwasm` the caller passed explicitly.
    Precompiled(PathBuf),
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("path", &self.path)
            .finish()
    }
}

/// Bytes of each warm pool slot kept resident between instances: above the
/// 1.1 MiB an idle instance uses, below what paging a query peaks at.
const KEEP_RESIDENT: usize = 2 << 20;

/// The settings compiled code depends on: a `.cwasm` made elsewhere loads
/// only into an engine with these.
pub fn engine_config() -> Config {
    let mut config = Config::new();
    // Guests yield every tick, so the host's deadline holds even against
    // one that spins (`guards`).
    config.epoch_interruption(true);
    config
}

fn engine() -> Result<Engine, HostError> {
    let plain = engine_config();
    let mut pooled = plain.clone();
    // Every call gets a fresh instance: take its memory, tables and fiber
    // stack from slots reserved once instead of mapping new ones each time.
    // The defaults allow 1000 instances alive at once.
    let mut pool = PoolingAllocationConfig::default();
    // A freed slot's low memory (the shadow stack, the data and the first
    // heap pages every call touches) is reset in place rather than handed
    // back to the kernel, and with PAGEMAP_SCAN (Linux 6.7+) only its dirty
    // pages are: ten page faults a call became none, and a call 15% faster.
    pool.linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // The pool reserves terabytes of address space up front. Where that is
    // refused (`ulimit -v`, valgrind, some containers), map per instance.
    let engine = Engine::new(&pooled)
        .or_else(|_| Engine::new(&plain))
        .map_err(|e| HostError::Load(format!("wasmtime engine: {e}")))?;
    crate::guards::start_ticking(&engine);
    Ok(engine)
}

impl Connector {
    /// Loads the component at `path` (a `.wasm`), compiling it or taking
    /// its compiled code from the user's cache ([`crate::code_cache`]). A
    /// `.cwasm` is refused here: see [`Connector::load_precompiled`].
    pub fn load(path: &Path) -> Result<Self, HostError> {
        Self::load_with_cache(path, crate::code_cache::default_dir().as_deref())
    }

    /// As [`Connector::load`], with compiled code kept in `cache` (used only
    /// if it is the user's own and closed to others; `None`: compile every
    /// time).
    pub fn load_with_cache(path: &Path, cache: Option<&Path>) -> Result<Self, HostError> {
        if path.extension().is_some_and(|e| e == "cwasm") {
            return Err(HostError::Load(format!(
                "{} is precompiled native code, which runs unchecked; load a .wasm, or pass it \
                 explicitly as precompiled (sf-host --precompiled, Connector::load_precompiled) \
                 if you trust whoever wrote it",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| {
            HostError::Load(format!("cannot read component {}: {e}", path.display()))
        })?;
        Self::from_bytes(&bytes, path, cache)
    }

    /// Loads a component from its bytes (one carried inside a binary, say);
    /// `name` is what errors and `path()` show.
    pub fn from_bytes(bytes: &[u8], name: &Path, cache: Option<&Path>) -> Result<Self, HostError> {
        let engine = engine()?;
        let entry = cache
            .and_then(crate::code_cache::usable)
            .map(|dir| crate::code_cache::entry(&dir, &engine, bytes));
        let cached = entry
            .as_deref()
            .filter(|e| e.exists())
            .and_then(|e| Self::deserialize(&engine, e).ok());
        let (component, code) = match cached {
            Some(c) => (c, CodeSource::Cache(entry.clone().unwrap_or_default())),
            None => {
                let component = Component::new(&engine, bytes).map_err(|e| {
                    HostError::Load(format!(
                        "{} is not a loadable component: {e}",
                        name.display()
                    ))
                })?;
                if let (Some(entry), Ok(code)) = (&entry, component.serialize()) {
                    crate::code_cache::store(entry, &code);
                }
                (component, CodeSource::Compiled)
            }
        };
        Self::from_component(engine, component, name, code)
    }

    /// Loads a `.cwasm` written by [`Connector::precompile`]. It is native
    /// code that runs as it is: pass only a file you wrote or trust.
    pub fn load_precompiled(path: &Path) -> Result<Self, HostError> {
        let engine = engine()?;
        let component = Self::deserialize(&engine, path)?;
        let code = CodeSource::Precompiled(path.to_path_buf());
        Self::from_component(engine, component, path, code)
    }

    fn from_component(
        engine: Engine,
        component: Component,
        path: &Path,
        code: CodeSource,
    ) -> Result<Self, HostError> {
        let mut linker = Linker::<HostState>::new(&engine);
        link_imports(&mut linker).map_err(|e| HostError::Load(format!("linking WASI: {e}")))?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            HostError::Load(format!("{} does not fit this host: {e}", path.display()))
        })?;
        SalesforcePre::new(pre.clone()).map_err(|e| {
            HostError::Load(format!(
                "{} does not export the salesforce world: {e}",
                path.display()
            ))
        })?;
        let funcs = exported_funcs(&engine, &component);
        Ok(Self {
            engine,
            pre,
            funcs,
            path: path.to_path_buf(),
            code,
            memory_peak: None,
        })
    }

    /// Where this component's machine code came from.
    pub fn code_source(&self) -> &CodeSource {
        &self.code
    }

    fn deserialize(engine: &Engine, path: &Path) -> Result<Component, HostError> {
        if !path.exists() {
            return Err(HostError::Load(format!(
                "{} does not exist",
                path.display()
            )));
        }
        // SAFETY: the file was produced by `Component::serialize` of a
        // compatible engine (the cache name or the user's precompile step);
        // wasmtime checks the header and engine compatibility again.
        unsafe { Component::deserialize_file(engine, path) }.map_err(|e| {
            HostError::Load(format!(
                "{} is not a precompiled component for this host: {e}",
                path.display()
            ))
        })
    }

    /// Compiles `wasm` ahead of time into `out` (a `.cwasm`).
    pub fn precompile(wasm: &Path, out: &Path) -> Result<(), HostError> {
        let bytes = std::fs::read(wasm)
            .map_err(|e| HostError::Load(format!("cannot read {}: {e}", wasm.display())))?;
        Self::precompile_bytes(&bytes, wasm, out)
    }

    /// As [`Connector::precompile`], from the component's bytes.
    pub fn precompile_bytes(bytes: &[u8], name: &Path, out: &Path) -> Result<(), HostError> {
        let compiled = engine()?
            .precompile_component(bytes)
            .map_err(|e| HostError::Load(format!("compiling {}: {e}", name.display())))?;
        std::fs::write(out, compiled)
            .map_err(|e| HostError::Load(format!("cannot write {}: {e}", out.display())))
    }

    /// The interfaces the component imports, e.g. `wasi:http/outgoing-handler@0.2.12`.
    pub fn imports(&self) -> Vec<String> {
        let component = self.pre.component();
        let mut names: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        names.sort();
        names
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every instance from now on records its linear memory growth in
    /// `peak` (a measurement for benchmarks; off by default).
    pub fn record_memory_peak(mut self, peak: MemoryPeak) -> Self {
        self.memory_peak = Some(peak);
        self
    }

    /// A fresh instance whose outgoing requests go through `egress`, held to
    /// the default [`Guards`].
    pub async fn instantiate(&self, egress: Egress) -> Result<Instance<'_>, HostError> {
        self.instantiate_guarded(egress, Guards::default()).await
    }

    /// A fresh instance held to `guards`: past its deadline or its memory
    /// cap, a call ends with a typed error instead of running on.
    pub async fn instantiate_guarded(
        &self,
        egress: Egress,
        guards: Guards,
    ) -> Result<Instance<'_>, HostError> {
        let memory = crate::guards::MemoryLimit::new(guards.max_memory, self.memory_peak.clone());
        let state = HostState::new(WasiCtx::builder().build(), egress, memory);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_async_yield_and_update(1);
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::Trap(format!("instantiating the component: {e}")))?;
        Ok(Instance {
            connector: self,
            store,
            instance,
            guards,
        })
    }
}

/// The functions of every exported interface, by name (they are unique
/// across the world's interfaces).
fn exported_funcs(engine: &Engine, component: &Component) -> HashMap<String, ComponentExportIndex> {
    let mut funcs = HashMap::new();
    for (interface, item) in component.component_type().exports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        let Some(at) = component.get_export_index(None, interface) else {
            continue;
        };
        for (name, item) in instance.exports(engine) {
            if let ComponentItem::ComponentFunc(_) = item.ty {
                if let Some(index) = component.get_export_index(Some(&at), name) {
                    funcs.insert(name.to_string(), index);
                }
            }
        }
    }
    funcs
}

/// One fresh instance of the component and the store it lives in.
pub struct Instance<'a> {
    connector: &'a Connector,
    store: Store<HostState>,
    instance: wasmtime::component::Instance,
    guards: Guards,
}

impl Instance<'_> {
    /// Drops a resource the component handed out (a download or an
    /// upload), letting it release what it holds.
    pub async fn drop_resource(&mut self, resource: ResourceAny) -> Result<(), HostError> {
        resource
            .resource_drop_async(&mut self.store)
            .await
            .map_err(|e| HostError::Trap(format!("dropping a resource: {e}")))
    }

    /// Calls the exported function `name` (e.g. `query-more`) with `params`.
    /// Only this function is looked up and type-checked: binding all thirty
    /// exports for every instance was a quarter of a call's host time.
    pub async fn call<P, R>(&mut self, name: &str, params: P) -> Result<R, HostError>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let path = self.connector.path.display();
        let index = self
            .connector
            .funcs
            .get(name)
            .ok_or_else(|| HostError::Load(format!("{path} does not export `{name}`")))?;
        let func = self
            .instance
            .get_typed_func::<P, R>(&mut self.store, index)
            .map_err(|e| {
                HostError::Load(format!(
                    "`{name}` in {path} does not have the type this host expects: {e:#}"
                ))
            })?;
        let deadline = self.guards.deadline;
        let outcome =
            tokio::time::timeout(deadline, func.call_async(&mut self.store, params)).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(_) => Err(HostError::Component(wit::Error::Timeout(format!(
                "`{name}` ran past the host's deadline of {} ms and was stopped",
                deadline.as_millis()
            )))),
            // The component traps when the allocation it needed was refused:
            // the cap's doing, reported as the size limit it is.
            Ok(Err(_)) if self.store.data().memory.refused.is_some() => {
                Err(HostError::Component(wit::Error::ResponseTooLarge(
                    u64::try_from(self.guards.max_memory).unwrap_or(u64::MAX),
                )))
            }
            Ok(Err(e)) => Err(HostError::Trap(format!("{name}: {e}"))),
        }
    }
}
