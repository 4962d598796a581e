//! `/composite/graph` (v50.0+): graphs of record operations in one call.
//! Each graph is its own transaction: a failing node rolls back its graph
//! and no other; the answer is 200 with `isSuccessful` per graph (REST API
//! guide, "Composite Graph", "Using Composite Graphs").
//!
//! Limits, from "Composite Graph Limits": 75 graphs, 500 nodes in all, a
//! reference depth of 15, 15 different nodes (API version, method, object),
//! and after 14 failed graphs the rest are not run. The status codes and
//! messages for a request over a limit are not documented: 400 with
//! `LIMIT_EXCEEDED` (and `INVALID_INPUT` for a malformed graph) is our
//! choice, as is the `PROCESSING_HALTED` wording.

use crate::composite::{self, input_error, parse_sub, run_sub, Sub, SubResult};
use crate::errors::{self, ApiError};
use crate::sobjects::body_object;
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use crate::Listener;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub(crate) const MAX_GRAPHS: usize = 75;
pub(crate) const MAX_NODES: usize = 500;
pub(crate) const MAX_DEPTH: usize = 15;
pub(crate) const MAX_DIFFERENT_NODES: usize = 15;
/// After this many failed graphs the remaining ones are not run.
pub(crate) const MAX_FAILED_GRAPHS: usize = 14;
const GRAPH_SINCE: u32 = 50;

struct Graph {
    id: String,
    nodes: Vec<Sub>,
}

fn limit(message: String) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED", message)
}

fn invalid(message: String) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
}

/// The version, method and object of a node whose URL has one of the
/// shapes a graph allows: `POST sobjects/{S}`; `GET|PATCH|DELETE
/// sobjects/{S}/{id}`; `GET|PATCH|POST|DELETE sobjects/{S}/{field}/{value}`.
fn node_kind(node: &Sub) -> Option<(String, String, String)> {
    let path = node.url.split('?').next()?;
    let rest = path.strip_prefix("/services/data/")?;
    let (version, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("sobjects/")?.trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let m = &node.method;
    let allowed = match segments.len() {
        1 => m == Method::POST,
        2 => [Method::GET, Method::PATCH, Method::DELETE].contains(m),
        3 => [Method::GET, Method::PATCH, Method::POST, Method::DELETE].contains(m),
        _ => false,
    };
    allowed.then(|| {
        (
            version.to_string(),
            m.to_string(),
            segments[0].to_ascii_lowercase(),
        )
    })
}

/// The longest chain of references among `nodes`, counted in nodes; a
/// circle counts as too deep.
fn depth(nodes: &[Sub]) -> usize {
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.reference_id.as_str(), i))
        .collect();
    let refs: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            let mut named = Vec::new();
            composite::mentions(&n.url, &mut named);
            if let Some(b) = &n.body {
                composite::mentions_in(b, &mut named);
            }
            named
                .iter()
                .filter_map(|r| index.get(r.as_str()).copied())
                .collect()
        })
        .collect();
    fn visit(i: usize, refs: &[Vec<usize>], memo: &mut [Option<usize>]) -> usize {
        match memo[i] {
            Some(0) => return usize::MAX / 2,
            Some(d) => return d,
            None => {}
        }
        memo[i] = Some(0);
        let deepest = refs[i]
            .iter()
            .map(|&j| visit(j, refs, memo))
            .max()
            .unwrap_or(0);
        memo[i] = Some(deepest.saturating_add(1));
        deepest.saturating_add(1)
    }
    let mut memo = vec![None; nodes.len()];
    (0..nodes.len())
        .map(|i| visit(i, &refs, &mut memo))
        .max()
        .unwrap_or(0)
}

fn parse(body: &[u8]) -> Result<Vec<Graph>, ApiError> {
    let map = body_object(body)?;
    let Some(Value::Array(list)) = map.get("graphs") else {
        return Err(input_error("The request body must contain a graphs array"));
    };
    if list.is_empty() {
        return Err(input_error("graphs must contain at least one graph"));
    }
    if list.len() > MAX_GRAPHS {
        return Err(limit(format!(
            "The request has {} graphs; at most {MAX_GRAPHS} are allowed.",
            list.len()
        )));
    }
    let mut graphs: Vec<Graph> = Vec::with_capacity(list.len());
    let mut kinds = HashSet::new();
    let mut total = 0;
    for item in list {
        let id = match item.get("graphId") {
            Some(Value::String(id)) if id.starts_with(|c: char| c.is_ascii_alphanumeric()) => {
                id.clone()
            }
            other => {
                return Err(invalid(format!(
                    "Invalid graphId: {}. A graphId must start with an alphanumeric character.",
                    other.unwrap_or(&Value::Null)
                )))
            }
        };
        if graphs.iter().any(|g| g.id == id) {
            return Err(invalid(format!(
                "Duplicate graphId provided in the request: {id}"
            )));
        }
        let Some(Value::Array(requests)) = item.get("compositeRequest") else {
            return Err(input_error(format!(
                "Graph {id} must contain a compositeRequest array"
            )));
        };
        if requests.is_empty() {
            return Err(input_error(format!(
                "Graph {id} must contain at least one node"
            )));
        }
        total += requests.len();
        if total > MAX_NODES {
            return Err(limit(format!(
                "The request has more than {MAX_NODES} nodes."
            )));
        }
        let mut nodes: Vec<Sub> = Vec::with_capacity(requests.len());
        for r in requests {
            let node = parse_sub(r)?;
            if nodes.iter().any(|n| n.reference_id == node.reference_id) {
                return Err(invalid(format!(
                    "Duplicate referenceId provided in graph {id}: {}",
                    node.reference_id
                )));
            }
            let kind = node_kind(&node).ok_or_else(|| {
                invalid(format!(
                    "Graph {id}, node {}: {} {} is not supported in a composite graph; nodes \
                     must be sObject record requests.",
                    node.reference_id, node.method, node.url
                ))
            })?;
            kinds.insert(kind);
            nodes.push(node);
        }
        let d = depth(&nodes);
        if d > MAX_DEPTH {
            return Err(limit(format!(
                "Graph {id} has a depth of more than {MAX_DEPTH}."
            )));
        }
        graphs.push(Graph { id, nodes });
    }
    if kinds.len() > MAX_DIFFERENT_NODES {
        return Err(limit(format!(
            "The request has {} different nodes; at most {MAX_DIFFERENT_NODES} are allowed.",
            kinds.len()
        )));
    }
    Ok(graphs)
}

/// `POST /composite/graph`
pub(crate) async fn graph(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    Extension(version): Extension<ApiVersion>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if version.major() < GRAPH_SINCE {
        return Err(errors::not_found());
    }
    let graphs = parse(&body)?;
    let auth = headers.get(header::AUTHORIZATION);
    let mut failures = 0;
    let mut out = Vec::with_capacity(graphs.len());
    for g in &graphs {
        let results: Vec<SubResult> = if failures >= MAX_FAILED_GRAPHS {
            g.nodes
                .iter()
                .map(|_| {
                    SubResult::error(
                        "PROCESSING_HALTED",
                        format!("This graph was not run: {MAX_FAILED_GRAPHS} graphs of the request had already failed."),
                    )
                })
                .collect()
        } else {
            // Other clients' writes during the graph are lost on rollback;
            // fine for a test org (as in `composite`).
            let snapshot = lock(&st.store).clone();
            let mut refs: HashMap<String, Value> = HashMap::new();
            let mut results = Vec::with_capacity(g.nodes.len());
            let mut failed = None;
            for (i, node) in g.nodes.iter().enumerate() {
                if failed.is_some() {
                    results.push(SubResult::rolled_back());
                    continue;
                }
                let r = run_sub(&st, &listener, auth, node, &refs).await;
                if r.status >= 400 {
                    failed = Some(i);
                }
                refs.insert(node.reference_id.clone(), r.body.clone());
                results.push(r);
            }
            if let Some(f) = failed {
                *lock(&st.store) = snapshot;
                for (i, r) in results.iter_mut().enumerate() {
                    if i != f {
                        *r = SubResult::rolled_back();
                    }
                }
            }
            results
        };
        let ok = results.iter().all(|r| r.status < 400);
        if !ok {
            failures += 1;
        }
        let responses: Vec<Value> = results
            .iter()
            .zip(&g.nodes)
            .map(|(r, n)| r.to_json(&n.reference_id))
            .collect();
        out.push(json!({
            "graphId": g.id,
            "graphResponse": { "compositeResponse": responses },
            "isSuccessful": ok,
        }));
    }
    Ok(errors::json(StatusCode::OK, &json!({ "graphs": out })))
}
