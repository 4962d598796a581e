//! Composite Graph (`/composite/graph`, v50.0+): several graphs of
//! subrequests ("nodes") in one call. Each graph is its own transaction: a
//! failing node rolls back its graph only, and the other graphs stand.
//!
//! The documented limits are checked here before anything is sent (REST API
//! guide, "Composite Graph Limits"): at most 75 graphs, 500 nodes in all,
//! a reference depth of 15, and 15 different nodes (method and object).
//! Nodes may only be record operations under `/sobjects/`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::composite::{self, Subrequest, Subresponse};
use crate::error::Error;
use crate::http::{Method, Transport};
use crate::limits::LimitInfo;
use crate::rest::{self, CallRequest};
use crate::session::Session;
use serde_json::{json, Value};

/// Graphs per request.
pub const MAX_GRAPHS: usize = 75;
/// Nodes per request, all graphs together (and so per graph too).
pub const MAX_NODES: usize = 500;
/// The longest chain of `@{reference}`s in a graph, counted in nodes.
pub const MAX_DEPTH: usize = 15;
/// Different nodes per request: distinct method and object pairs.
pub const MAX_DIFFERENT_NODES: usize = 15;

/// One graph: its id and its nodes, run in one transaction.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Unique in the request; starts with a letter or digit.
    pub graph_id: String,
    /// The nodes, in order; later ones may refer to earlier ones with
    /// `@{referenceId.field}`.
    pub requests: Vec<Subrequest>,
}

/// What became of one graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphOutcome {
    /// The graph's id.
    pub graph_id: String,
    /// True when every node succeeded and the graph was committed.
    pub is_successful: bool,
    /// One response per node, in request order; in a failed graph the
    /// failing node carries its error and the others `PROCESSING_HALTED`.
    pub responses: Vec<Subresponse>,
}

/// Every graph's outcome, in request order, and the API usage reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphResult {
    /// One outcome per graph, in request order.
    pub graphs: Vec<GraphOutcome>,
    /// The API usage reported with the answer (the call counts as one).
    pub limit_info: Option<LimitInfo>,
}

/// The object a node's URL names, if its shape is one a graph allows:
/// `POST sobjects/{S}`; `GET|PATCH|DELETE sobjects/{S}/{id}`;
/// `GET|PATCH|POST|DELETE sobjects/{S}/{field}/{value}`.
fn node_object<'a>(data_path: &str, method: Method, url: &'a str) -> Option<&'a str> {
    let path = url.split('?').next().unwrap_or_default();
    let rest = path
        .strip_prefix(data_path)?
        .strip_prefix("/sobjects/")?
        .trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let allowed = match segments.len() {
        1 => method == Method::Post,
        2 => matches!(method, Method::Get | Method::Patch | Method::Delete),
        3 => matches!(
            method,
            Method::Get | Method::Patch | Method::Post | Method::Delete
        ),
        _ => false,
    };
    allowed.then_some(segments[0])
}

/// The referenceIds that `@{…}` expressions in `text` name.
fn mentions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        let after = &rest[start + 2..];
        let end = after.find(['.', '[', '}']).unwrap_or(after.len());
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// The longest chain of references in one graph, counted in nodes; `None`
/// when the references go round in a circle.
pub fn depth(nodes: &[Subrequest]) -> Option<usize> {
    // At most 500 nodes: a linear search costs less code than a map.
    let index = |r: &str| nodes.iter().position(|n| n.reference_id == r);
    let refs: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            let mut to: Vec<usize> = mentions(&n.url)
                .into_iter()
                .chain(n.body.as_deref().map(mentions).unwrap_or_default())
                .filter_map(index)
                .collect();
            to.sort_unstable();
            to.dedup();
            to
        })
        .collect();
    // Iterative longest path over at most 500 nodes: `None` = unvisited,
    // `Some(0)` = on the current path (a cycle when met again).
    let mut memo: Vec<Option<usize>> = vec![None; nodes.len()];
    fn visit(i: usize, refs: &[Vec<usize>], memo: &mut [Option<usize>]) -> Option<usize> {
        match memo[i] {
            Some(0) => return None,
            Some(d) => return Some(d),
            None => {}
        }
        memo[i] = Some(0);
        let mut deepest = 0;
        for &j in &refs[i] {
            deepest = deepest.max(visit(j, refs, memo)?);
        }
        memo[i] = Some(deepest + 1);
        memo[i]
    }
    (0..nodes.len()).try_fold(0, |max, i| Some(max.max(visit(i, &refs, &mut memo)?)))
}

/// The request body, or the first limit or rule the graphs break.
fn body(s: &Session, graphs: &[Graph]) -> Result<Value, Error> {
    check_counts(graphs)?;
    let data_path = s.data_path();
    // Method and object of every node, to count the different ones.
    let mut kinds: Vec<(&str, String)> = Vec::new();
    let mut out = Vec::with_capacity(graphs.len());
    for (g, graph) in graphs.iter().enumerate() {
        check_graph_id(graphs, g)?;
        out.push(graph_body(s, &data_path, g, graph, &mut kinds)?);
    }
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.len() > MAX_DIFFERENT_NODES {
        return Err(Error::request(
            "graphs",
            format!(
                "{} different nodes (method and object pairs); a request takes at most \
                 {MAX_DIFFERENT_NODES}",
                kinds.len()
            ),
        ));
    }
    Ok(json!({ "graphs": out }))
}

/// How many graphs, and how many nodes in all.
fn check_counts(graphs: &[Graph]) -> Result<(), Error> {
    let nodes: usize = graphs.iter().map(|g| g.requests.len()).sum();
    if graphs.is_empty() || graphs.len() > MAX_GRAPHS {
        return Err(Error::request(
            "graphs",
            format!("needs 1 to {MAX_GRAPHS} graphs, got {}", graphs.len()),
        ));
    }
    if nodes > MAX_NODES {
        return Err(Error::request(
            "graphs",
            format!("{nodes} nodes in all; a request takes at most {MAX_NODES}"),
        ));
    }
    Ok(())
}

/// Graph `g`'s id: unique, and starting with a letter or digit.
fn check_graph_id(graphs: &[Graph], g: usize) -> Result<(), Error> {
    let id = &graphs[g].graph_id;
    let valid_id =
        id.starts_with(|c: char| c.is_ascii_alphanumeric()) && !id.chars().any(char::is_control);
    if !valid_id || graphs[..g].iter().any(|other| other.graph_id == *id) {
        return Err(Error::request(
            "graphs",
            format!("graph {g}: graph-id `{id}` must be unique and start with a letter or digit"),
        ));
    }
    Ok(())
}

/// One graph's part of the body; each node's method and object go to `kinds`.
fn graph_body<'a>(
    s: &Session,
    data_path: &str,
    g: usize,
    graph: &'a Graph,
    kinds: &mut Vec<(&'a str, String)>,
) -> Result<Value, Error> {
    let id = &graph.graph_id;
    if graph.requests.is_empty() {
        return Err(Error::request(
            "graphs",
            format!("graph {g} (`{id}`) has no nodes"),
        ));
    }
    let mut seen = alloc::collections::BTreeSet::new();
    let mut entries = Vec::with_capacity(graph.requests.len());
    for (i, node) in graph.requests.iter().enumerate() {
        let at = format!("graph {g} (`{id}`) node {i}");
        entries.push(composite::entry(s, node, "graphs", &at, &mut seen)?);
        let masked = node.url.replace(['@', '{', '}'], "x");
        let object = node_object(data_path, node.method, &masked).ok_or_else(|| {
            Error::request(
                "graphs",
                format!(
                    "{at}: a graph node must be POST {data_path}/sobjects/{{object}}, \
                     GET, PATCH or DELETE …/sobjects/{{object}}/{{id}}, or GET, PATCH, POST \
                     or DELETE …/sobjects/{{object}}/{{field}}/{{value}}; got {} {}",
                    node.method.as_str(),
                    node.url
                ),
            )
        })?;
        kinds.push((node.method.as_str(), object.to_ascii_lowercase()));
    }
    match depth(&graph.requests) {
        None => Err(Error::request(
            "graphs",
            format!("graph {g} (`{id}`): its @{{references}} go round in a circle"),
        )),
        Some(d) if d > MAX_DEPTH => Err(Error::request(
            "graphs",
            format!("graph {g} (`{id}`): references {d} nodes deep; at most {MAX_DEPTH}"),
        )),
        Some(_) => Ok(json!({ "graphId": id, "compositeRequest": entries })),
    }
}

/// Runs the graphs in one call. Each graph commits or rolls back on its
/// own; the answer says which, node by node.
pub fn composite_graph(
    t: &mut dyn Transport,
    s: &Session,
    graphs: &[Graph],
) -> Result<GraphResult, Error> {
    let mut req = CallRequest::new(Method::Post, format!("{}/composite/graph", s.data_path()));
    req.body = Some(body(s, graphs)?.to_string());
    let resp = rest::execute(t, s, &req)?;
    let value = resp.json()?;
    let bad = |why: &str| {
        Error::unexpected(
            resp.status,
            None,
            format!("composite graph answer: {why}"),
            resp.body.as_bytes(),
        )
    };
    let list = value["graphs"]
        .as_array()
        .ok_or_else(|| bad("no `graphs` array"))?;
    let graphs = list
        .iter()
        .map(|g| {
            Ok(GraphOutcome {
                graph_id: g["graphId"].as_str().unwrap_or_default().to_string(),
                is_successful: g["isSuccessful"]
                    .as_bool()
                    .ok_or_else(|| bad("a graph has no `isSuccessful`"))?,
                responses: composite::subresponses(&g["graphResponse"]["compositeResponse"], &bad)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(GraphResult {
        graphs,
        limit_info: resp.limit_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(method: Method, url: &str, reference_id: &str, body: Option<&str>) -> Subrequest {
        Subrequest {
            method,
            url: url.into(),
            reference_id: reference_id.into(),
            body: body.map(str::to_string),
            http_headers: Vec::new(),
        }
    }

    const ACCOUNTS: &str = "/services/data/v62.0/sobjects/Account/";

    fn chain(n: usize) -> Vec<Subrequest> {
        (0..n)
            .map(|i| {
                let body = match i {
                    0 => r#"{"Name":"A"}"#.to_string(),
                    _ => format!(r#"{{"ParentId":"@{{n{}.id}}"}}"#, i - 1),
                };
                node(Method::Post, ACCOUNTS, &format!("n{i}"), Some(&body))
            })
            .collect()
    }

    fn graph(id: &str, requests: Vec<Subrequest>) -> Graph {
        Graph {
            graph_id: id.into(),
            requests,
        }
    }

    fn refused(graphs: &[Graph]) -> String {
        match body(&crate::session::fixture(), graphs) {
            Err(Error::InvalidRequest { field, message }) => {
                assert_eq!(field, "graphs");
                message
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn node_urls_follow_the_documented_shapes() {
        let p = "/services/data/v62.0";
        fn at(m: Method, u: &str) -> Option<&str> {
            node_object("/services/data/v62.0", m, u)
        }
        assert_eq!(
            at(Method::Post, &format!("{p}/sobjects/Account/")),
            Some("Account")
        );
        assert_eq!(
            at(Method::Patch, &format!("{p}/sobjects/Account/001x")),
            Some("Account")
        );
        assert_eq!(
            at(Method::Post, &format!("{p}/sobjects/Account/Ext__c/7")),
            Some("Account")
        );
        assert_eq!(at(Method::Get, &format!("{p}/sobjects/Account")), None);
        assert_eq!(
            at(Method::Post, &format!("{p}/sobjects/Account/001x")),
            None
        );
        assert_eq!(at(Method::Put, &format!("{p}/sobjects/Account/001x")), None);
        assert_eq!(
            at(Method::Get, &format!("{p}/query?q=SELECT+Id+FROM+Account")),
            None
        );
    }

    #[test]
    fn depth_counts_the_longest_chain_and_finds_circles() {
        assert_eq!(depth(&chain(1)), Some(1));
        assert_eq!(depth(&chain(15)), Some(15));
        let circle = vec![
            node(
                Method::Post,
                ACCOUNTS,
                "a",
                Some(r#"{"ParentId":"@{b.id}"}"#),
            ),
            node(
                Method::Post,
                ACCOUNTS,
                "b",
                Some(r#"{"ParentId":"@{a.id}"}"#),
            ),
        ];
        assert_eq!(depth(&circle), None);
    }

    #[test]
    fn the_limits_are_checked_before_sending() {
        assert!(refused(&[graph("g", chain(16))]).contains("16 nodes deep"));
        assert!(body(&crate::session::fixture(), &[graph("g", chain(15))]).is_ok());
        let many: Vec<Graph> = (0..76).map(|i| graph(&format!("g{i}"), chain(1))).collect();
        assert!(refused(&many).contains("1 to 75 graphs, got 76"));
        let big: Vec<Graph> = (0..51)
            .map(|i| graph(&format!("g{i}"), chain(10)))
            .collect();
        assert!(refused(&big).contains("510 nodes"));
        let twice = [graph("g", chain(1)), graph("g", chain(1))];
        assert!(refused(&twice).contains("unique"));
        assert!(refused(&[graph("_g", chain(1))]).contains("start with a letter or digit"));
        let kinds: Vec<Subrequest> = (0..16)
            .map(|i| {
                let url = format!("/services/data/v62.0/sobjects/Obj{i}__c/");
                node(Method::Post, &url, &format!("n{i}"), Some("{}"))
            })
            .collect();
        assert!(refused(&[graph("g", kinds)]).contains("16 different nodes"));
        let query = node(Method::Get, "/services/data/v62.0/query?q=x", "q", None);
        assert!(refused(&[graph("g", vec![query])]).contains("a graph node must be"));
    }
}
