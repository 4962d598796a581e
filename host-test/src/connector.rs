//! Loading a build of the component: compile once (cached on disk as a
//! precompiled `.cwasm`), then a cheap `InstancePre` instantiation per use.

use crate::bindings::SalesforcePre;
use crate::egress::Egress;
use crate::error::HostError;
use crate::memory::MemoryPeak;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, HasData, InstancePre, Lift, Linker, Lower,
    ResourceTable,
};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The component built from this repository by `build.rs`.
pub fn default_component_path() -> PathBuf {
    PathBuf::from(env!("SF_COMPONENT_PATH"))
}

/// What one instance's store holds.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    egress: Egress,
    memory_peak: Option<MemoryPeak>,
}

/// Gives `wasi:io` its view of the state: the resource table.
struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Exactly the component's imports and nothing else: no filesystem, sockets,
/// environment, stdio or exit, so a component that asked for more would fail
/// to link instead of quietly getting it. README, "Imports", says why each
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
    memory_peak: Option<MemoryPeak>,
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

fn engine() -> Result<Engine, HostError> {
    let mut pooled = Config::new();
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
    Engine::new(&pooled)
        .or_else(|_| Engine::new(&Config::new()))
        .map_err(|e| HostError::Load(format!("wasmtime engine: {e}")))
}

/// `<component>.<hash>.cwasm`: the hash covers the component's bytes and the
/// engine's compatibility settings, so a rebuilt component or another
/// wasmtime never loads stale code.
fn cache_path(engine: &Engine, path: &Path, bytes: &[u8]) -> PathBuf {
    use sha2::{Digest, Sha256};
    use std::hash::{Hash, Hasher};
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(compat.finish().to_le_bytes());
    let digest = h.finalize();
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{tag}.cwasm"));
    path.with_file_name(name)
}

impl Connector {
    /// Loads `path` (a `.wasm` component, or a `.cwasm` from [`Connector::precompile`]).
    pub fn load(path: &Path) -> Result<Self, HostError> {
        let engine = engine()?;
        let bytes = std::fs::read(path).map_err(|e| {
            HostError::Load(format!("cannot read component {}: {e}", path.display()))
        })?;
        let component = if path.extension().is_some_and(|e| e == "cwasm") {
            Self::deserialize(&engine, path)?
        } else {
            let cached = cache_path(&engine, path, &bytes);
            match Self::deserialize(&engine, &cached) {
                Ok(c) => c,
                Err(_) => {
                    let component = Component::new(&engine, &bytes).map_err(|e| {
                        HostError::Load(format!(
                            "{} is not a loadable component: {e}",
                            path.display()
                        ))
                    })?;
                    // Best effort: a read-only directory only costs the next start.
                    if let Ok(serialized) = component.serialize() {
                        let tmp = cached.with_extension("tmp");
                        if std::fs::write(&tmp, serialized).is_ok() {
                            let _ = std::fs::rename(&tmp, &cached);
                        }
                    }
                    component
                }
            }
        };
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
            memory_peak: None,
        })
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
        let engine = engine()?;
        let bytes = std::fs::read(wasm)
            .map_err(|e| HostError::Load(format!("cannot read {}: {e}", wasm.display())))?;
        let compiled = engine
            .precompile_component(&bytes)
            .map_err(|e| HostError::Load(format!("compiling {}: {e}", wasm.display())))?;
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

    /// A fresh instance whose outgoing requests go through `egress`.
    pub async fn instantiate(&self, egress: Egress) -> Result<Instance<'_>, HostError> {
        let state = HostState {
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            egress,
            memory_peak: self.memory_peak.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        if store.data().memory_peak.is_some() {
            store.limiter(|s| s.memory_peak.as_mut().expect("checked just above"));
        }
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::Trap(format!("instantiating the component: {e}")))?;
        Ok(Instance {
            connector: self,
            store,
            instance,
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
}

impl Instance<'_> {
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
        func.call_async(&mut self.store, params)
            .await
            .map_err(|e| HostError::Trap(format!("{name}: {e}")))
    }
}
