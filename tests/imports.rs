//! The component's import surface: what a host must provide to load it.
//! Read from the binary with wasmparser (the parser behind wasm-tools), and
//! cross-checked with what wasmtime resolves when it links.

mod common;

use wasmparser::{Parser, Payload};

/// Everything the component may import. Each one is explained in the
/// "What the component imports" table of docs/hosts.md; adding one is a
/// decision, not an accident.
const EXPECTED: [&str; 8] = [
    "wasi:clocks/monotonic-clock@0.2.12",
    "wasi:clocks/wall-clock@0.2.12",
    "wasi:http/outgoing-handler@0.2.12",
    "wasi:http/types@0.2.12",
    "wasi:io/error@0.2.12",
    "wasi:io/poll@0.2.12",
    "wasi:io/streams@0.2.12",
    "wasi:random/random@0.2.12",
];

/// The component's own (top-level) imports, as `wasm-tools component wit` lists them.
fn top_level_imports(wasm: &[u8]) -> Vec<String> {
    let mut depth = 0usize;
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("the component parses") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    names.push(import.expect("import entry").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    names.sort();
    names
}

#[test]
fn imports_are_exactly_the_documented_minimum() {
    let connector = common::connector();
    let wasm = std::fs::read(connector.path()).expect("component file");
    let imports = top_level_imports(&wasm);
    println!("{}", imports.join("\n"));
    assert_eq!(imports, EXPECTED, "the import surface changed");
    // wasmtime sees the same list, and `common::connector()` already linked it
    // with `link_imports`, which provides these and nothing else.
    assert_eq!(connector.imports(), EXPECTED);

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/hosts.md"))
        .expect("docs/hosts.md");
    for import in EXPECTED {
        let interface = import.split('@').next().unwrap_or(import);
        assert!(
            doc.contains(&format!("`{interface}`")),
            "the Imports table in docs/hosts.md must say why {interface} is needed"
        );
    }
}

/// The composed files (the connector with `agent/`, and with `service/`)
/// add `wasi:cli/environment` for their credentials, and nothing else; the
/// service's export uses the `wasi:http/types` already imported. Read from
/// the built binaries, and each has its row in docs/hosts.md.
#[test]
fn the_composed_files_add_only_the_environment() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/hosts.md"))
        .expect("docs/hosts.md");
    let mut expected: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
    expected.push("wasi:cli/environment@0.2.12".into());
    expected.sort();
    for (path, file) in [
        (
            sf_host::default_agent_component_path(),
            "salesforce_agent.wasm",
        ),
        (
            sf_host::default_service_component_path(),
            "salesforce_service.wasm",
        ),
    ] {
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(top_level_imports(&wasm), expected, "{file}'s imports");
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{file}`")))
            .unwrap_or_else(|| panic!("docs/hosts.md has a row for {file}"));
        assert!(row.contains("`wasi:cli/environment`"), "{row}");
    }
}

#[test]
fn host_links_nothing_beyond_the_list() {
    // A linker with only `link_imports` must refuse a component that wants
    // more: prove it with a component importing wasi:cli/environment.
    use salesforce_host::wasmtime::component::{Component, Linker};
    let mut types = wasm_encoder::ComponentTypeSection::new();
    use wasm_encoder::{ComponentTypeRef, ComponentValType, PrimitiveValType};
    // (instance (export "initial-cwd" (func (result (option string)))))
    let mut environment = wasm_encoder::InstanceType::new();
    environment
        .ty()
        .defined_type()
        .option(ComponentValType::Primitive(PrimitiveValType::String));
    let no_params: [(&str, ComponentValType); 0] = [];
    environment
        .ty()
        .function()
        .params(no_params)
        .result(Some(ComponentValType::Type(0)));
    environment.export("initial-cwd", ComponentTypeRef::Func(1));
    types.instance(&environment);
    let mut imports = wasm_encoder::ComponentImportSection::new();
    imports.import("wasi:cli/environment@0.2.12", ComponentTypeRef::Instance(0));
    let mut greedy = wasm_encoder::Component::new();
    greedy.section(&types).section(&imports);

    let engine = salesforce_host::wasmtime::Engine::default();
    let component = Component::new(&engine, greedy.finish()).expect("valid component");

    // Control: a full WASI linker accepts it, so the refusal below is about
    // what `link_imports` leaves out, not a malformed component.
    let mut full = Linker::<salesforce_host::connector::HostState>::new(&engine);
    salesforce_host::wasmtime_wasi::p2::add_to_linker_async(&mut full).expect("links");
    full.instantiate_pre(&component)
        .expect("a full WASI host provides wasi:cli/environment");

    let mut linker = Linker::<salesforce_host::connector::HostState>::new(&engine);
    salesforce_host::connector::link_imports(&mut linker).expect("links");
    let err = linker
        .instantiate_pre(&component)
        .err()
        .expect("wasi:cli must not be provided");
    assert!(err.to_string().contains("wasi:cli/environment"), "{err}");
}
