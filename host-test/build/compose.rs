//! A composed component (the agent, the service): an adapter plugged with
//! the unchanged connector (wac's `plug`, as `wac plug` does), and its
//! world's doc comments as a `package-docs` section so that hosts listing
//! tools (Wassette) show them.

use std::path::Path;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// `adapter` with every import the connector exports satisfied by it, and
/// the docs of `world` (in `wit`), the composed component's world.
pub fn plug(
    adapter: Vec<u8>,
    connector: Vec<u8>,
    wit: &Path,
    world: &str,
) -> Result<Vec<u8>, String> {
    let mut graph = CompositionGraph::new();
    let socket = Package::from_bytes("salesforce:adapter", None, adapter, graph.types_mut())
        .map_err(|e| format!("the adapter: {e:#}"))?;
    let socket = graph.register_package(socket).map_err(|e| e.to_string())?;
    let plug = Package::from_bytes("salesforce:connector", None, connector, graph.types_mut())
        .map_err(|e| format!("the connector: {e:#}"))?;
    let plug = graph.register_package(plug).map_err(|e| e.to_string())?;
    wac_graph::plug(&mut graph, vec![plug], socket).map_err(|e| format!("plug: {e:#}"))?;
    let debug = std::env::var_os("SF_COMPOSE_DEBUG").is_some();
    let mut bytes = graph
        .encode(EncodeOptions {
            validate: !debug,
            ..EncodeOptions::default()
        })
        .map_err(|e| format!("encode: {}", chain(&e)))?;
    if debug {
        let _ = std::fs::write(format!("/tmp/{world}-unvalidated.wasm"), &bytes);
    }
    push_custom_section(&mut bytes, "package-docs", &package_docs(wit, world)?);
    Ok(bytes)
}

/// The `package-docs` section of a component whose world is `world` of the
/// WIT package in `wit`: version 1, then JSON. A component's own package is
/// `root:component` with the world `root`, so the docs go under that name,
/// with the world's doc and one doc per exported function (what tools
/// read; interface docs would name interfaces the decoded package lacks).
pub fn package_docs(wit: &Path, world: &str) -> Result<Vec<u8>, String> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(wit).map_err(|e| format!("{e:#}"))?;
    let world = resolve
        .select_world(&[package], Some(world))
        .map_err(|e| format!("{e:#}"))?;
    let world = &resolve.worlds[world];
    let mut funcs = serde_json::Map::new();
    for item in world.exports.values() {
        if let wit_parser::WorldItem::Function(f) = item {
            if let Some(docs) = &f.docs.contents {
                funcs.insert(f.name.clone(), serde_json::json!({ "docs": docs }));
            }
        }
    }
    let mut root = serde_json::Map::new();
    if let Some(docs) = &world.docs.contents {
        root.insert("docs".into(), docs.clone().into());
    }
    root.insert("func_exports".into(), funcs.into());
    let docs = serde_json::json!({ "worlds": { "root": root } });
    let mut section = vec![1u8];
    section.extend(serde_json::to_vec(&docs).map_err(|e| e.to_string())?);
    Ok(section)
}

/// An error with its causes, as wac's errors keep the detail in `source`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// Appends a custom section (id 0: a name, then the payload) to a binary.
fn push_custom_section(wasm: &mut Vec<u8>, name: &str, payload: &[u8]) {
    let mut body = leb128(name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    wasm.push(0);
    wasm.extend(leb128(body.len()));
    wasm.extend(body);
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
