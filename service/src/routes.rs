//! Requests to answers, over plain data: which route a method and path ask
//! for, the catalog as JSON, the arguments a body holds, and a tool's result
//! or typed error as an answer. Every answer is JSON; every refusal has the
//! agent's error shape, `{"error": kind, ...}`.

use crate::status;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};
use salesforce_adapter_kit::{errors, Error, Tool};
use serde_json::{json, Value};

/// The largest request body read; a larger one is refused with 413 before
/// (or as soon as) it exceeds this. Tool arguments are small: a composite
/// request or a 200-record collection is well under it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the edge writes back: a status, headers, and a JSON body.
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    fn json(status: u16, body: String) -> Self {
        Answer {
            status,
            headers: vec![("content-type", "application/json".to_string())],
            body,
        }
    }

    /// A refusal of the service's own, in the typed errors' shape.
    fn refusal(status: u16, kind: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"error": kind, "message": message}).to_string(),
        )
    }

    fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// What a request asks the connector for.
#[derive(Debug, PartialEq)]
pub enum Route {
    /// `GET /tools`
    Catalog,
    /// `POST /tools/{name}`
    Tool(String),
}

/// The connector as the routes need it, so that they run natively in tests.
pub trait Backend {
    /// The tool catalog (no network).
    fn tools(&self) -> Vec<Tool>;
    /// Runs a tool in the kept session, logging in when there is none.
    fn invoke(&self, name: &str, arguments: &str) -> Result<String, Error>;
}

/// The answer to one request. `body` reads the request body, bounded by
/// `MAX_BODY_BYTES`; it is called only for a known tool, so a wrong route
/// or name never reads a body, and only a well-formed request logs in.
pub fn handle(
    method: &str,
    path: &str,
    body: impl FnOnce() -> Result<Vec<u8>, Answer>,
    backend: &impl Backend,
) -> Answer {
    let name = match route(method, path) {
        Ok(Route::Catalog) => return catalog(&backend.tools()),
        Ok(Route::Tool(name)) => name,
        Err(refused) => return refused,
    };
    if !backend.tools().iter().any(|t| t.name == name) {
        let message = format!("there is no tool named `{name}`; GET /tools lists them");
        return Answer::refusal(404, "not-found", &message);
    }
    let arguments = match body().and_then(|b| arguments(&b)) {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    answer(backend.invoke(&name, &arguments))
}

/// The route `method` and `path` (with or without a query) ask for, or the
/// 404 or 405 that refuses them.
pub fn route(method: &str, path: &str) -> Result<Route, Answer> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let allowed = match path.trim_end_matches('/') {
        "/tools" => ("GET", Route::Catalog),
        tool => match tool.strip_prefix("/tools/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                ("POST", Route::Tool(name.to_string()))
            }
            _ => {
                let message =
                    "no such path: GET /tools lists the tools, POST /tools/{name} runs one";
                return Err(Answer::refusal(404, "not-found", message));
            }
        },
    };
    match allowed {
        (want, route) if method == want => Ok(route),
        (want, _) => {
            let message = format!("{path} answers {want} only");
            Err(Answer::refusal(405, "method-not-allowed", &message).header("allow", want.into()))
        }
    }
}

/// `{"tools": [{"name", "description", "inputSchema"}]}`: the MCP shape,
/// each schema a JSON object.
pub fn catalog(tools: &[Tool]) -> Answer {
    let tools: Vec<Value> = tools
        .iter()
        .map(|t| {
            let schema: Value =
                serde_json::from_str(&t.input_schema).unwrap_or_else(|_| json!({"type": "object"}));
            json!({"name": t.name, "description": t.description, "inputSchema": schema})
        })
        .collect();
    Answer::json(200, json!({ "tools": tools }).to_string())
}

/// Whether a declared `Content-Length` is already too large (413 without
/// reading the body).
pub fn check_length(content_length: &[u8]) -> Result<(), Answer> {
    let declared = core::str::from_utf8(content_length)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => Err(too_large()),
        _ => Ok(()),
    }
}

/// 413: the body is larger than `MAX_BODY_BYTES`.
pub fn too_large() -> Answer {
    let message = format!("the request body is larger than {MAX_BODY_BYTES} bytes");
    Answer::refusal(413, "body-too-large", &message)
}

/// 400: the body could not be read to its end.
pub fn unreadable() -> Answer {
    invalid_body("the request body could not be read")
}

fn invalid_body(message: &str) -> Answer {
    Answer::json(
        400,
        json!({"error": "invalid-request", "field": "body", "message": message}).to_string(),
    )
}

/// The tool's arguments: the body must be a JSON object (an empty body is
/// no arguments).
pub fn arguments(body: &[u8]) -> Result<String, Answer> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok("{}".to_string());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v.to_string()),
        Ok(_) => Err(invalid_body("the body must be a JSON object of arguments")),
        Err(_) => Err(invalid_body("the body is not JSON")),
    }
}

/// A tool's result (200, the connector's JSON as it is) or its typed error,
/// with the status `status::status_of` gives it.
pub fn answer(result: Result<String, Error>) -> Answer {
    match result {
        Ok(json) => Answer::json(200, json),
        Err(e) => {
            let refused = Answer::json(status::status_of(&e), errors::to_json(&e));
            match status::retry_after(&e) {
                Some(seconds) => refused.header("retry-after", seconds.to_string()),
                None => refused,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;
    use salesforce_adapter_kit::FieldProblem;

    /// A connector with one tool that records what it was asked.
    #[derive(Default)]
    struct Fake {
        invoked: RefCell<Vec<(String, String)>>,
        fail: Option<Error>,
    }

    impl Backend for Fake {
        fn tools(&self) -> Vec<Tool> {
            vec![Tool {
                name: "soql_query".into(),
                description: "Run a query".into(),
                input_schema: r#"{"type":"object","required":["soql"]}"#.into(),
            }]
        }

        fn invoke(&self, name: &str, arguments: &str) -> Result<String, Error> {
            self.invoked
                .borrow_mut()
                .push((name.to_string(), arguments.to_string()));
            match &self.fail {
                Some(e) => Err(e.clone()),
                None => Ok(r#"{"records":[]}"#.to_string()),
            }
        }
    }

    fn body(text: &str) -> impl FnOnce() -> Result<Vec<u8>, Answer> + '_ {
        move || Ok(text.as_bytes().to_vec())
    }

    fn never() -> Result<Vec<u8>, Answer> {
        panic!("the body must not be read")
    }

    fn json_of(a: &Answer) -> Value {
        serde_json::from_str(&a.body).unwrap_or_default()
    }

    #[test]
    fn the_catalog_is_the_mcp_shape_with_schemas_as_objects() {
        let a = handle("GET", "/tools", never, &Fake::default());
        assert_eq!(a.status, 200);
        let v = json_of(&a);
        assert_eq!(v["tools"][0]["name"], "soql_query");
        assert_eq!(v["tools"][0]["inputSchema"]["required"][0], "soql");
    }

    #[test]
    fn a_tool_runs_with_the_body_as_its_arguments() {
        let fake = Fake::default();
        let a = handle(
            "POST",
            "/tools/soql_query?trace=1",
            body(r#"{"soql":"SELECT Id FROM Account"}"#),
            &fake,
        );
        assert_eq!((a.status, a.body.as_str()), (200, r#"{"records":[]}"#));
        let invoked = fake.invoked.borrow();
        assert_eq!(invoked[0].0, "soql_query");
        assert_eq!(
            serde_json::from_str::<Value>(&invoked[0].1).unwrap_or_default(),
            json!({"soql": "SELECT Id FROM Account"})
        );
    }

    #[test]
    fn wrong_paths_methods_and_names_are_refused_without_reading_or_invoking() {
        let fake = Fake::default();
        let cases = [
            ("GET", "/", 404, None),
            ("GET", "/tools/soql_query/x", 404, None),
            ("POST", "/tools", 405, Some("GET")),
            ("GET", "/tools/soql_query", 405, Some("POST")),
            ("DELETE", "/tools/soql_query", 405, Some("POST")),
            ("POST", "/tools/drop_database", 404, None),
        ];
        for (method, path, status, allow) in cases {
            let a = handle(method, path, never, &fake);
            assert_eq!(a.status, status, "{method} {path}");
            let allowed = a.headers.iter().find(|(k, _)| *k == "allow");
            assert_eq!(allowed.map(|(_, v)| v.as_str()), allow, "{method} {path}");
            assert!(json_of(&a)["error"].is_string(), "{}", a.body);
        }
        assert!(fake.invoked.borrow().is_empty());
    }

    #[test]
    fn bodies_that_are_not_a_json_object_are_400_and_never_invoke() {
        let fake = Fake::default();
        for text in ["{", "[1]", "\"soql\"", "SELECT Id FROM Account"] {
            let a = handle("POST", "/tools/soql_query", body(text), &fake);
            assert_eq!(a.status, 400, "{text}");
            assert_eq!(json_of(&a)["field"], "body");
        }
        assert!(fake.invoked.borrow().is_empty());
        let a = handle("POST", "/tools/soql_query", body(" "), &fake);
        assert_eq!(a.status, 200);
        assert_eq!(fake.invoked.borrow()[0].1, "{}");
    }

    #[test]
    fn a_declared_length_over_the_limit_is_413() {
        assert_eq!(check_length(b"1048577").map_err(|a| a.status), Err(413));
        assert!(check_length(b"1048576").is_ok());
        assert!(
            check_length(b"x").is_ok(),
            "hyper refuses a bad length itself"
        );
        let a = handle(
            "POST",
            "/tools/soql_query",
            || Err(too_large()),
            &Fake::default(),
        );
        assert_eq!(a.status, 413);
    }

    #[test]
    fn typed_errors_keep_their_json_and_get_their_status() {
        let fake = Fake {
            fail: Some(Error::InvalidRequest(FieldProblem {
                field: "soql".into(),
                message: "`soql` is required".into(),
            })),
            ..Fake::default()
        };
        let a = handle("POST", "/tools/soql_query", body("{}"), &fake);
        assert_eq!(a.status, 400);
        assert_eq!(
            json_of(&a),
            json!({"error": "invalid-request", "field": "soql", "message": "`soql` is required"})
        );
    }

    #[test]
    fn rate_limited_says_when_to_retry() {
        use salesforce_adapter_kit::bindings::salesforce::connector::types::RateLimit;
        let limited = Error::RateLimited(RateLimit {
            status: 429,
            code: "REQUEST_LIMIT_EXCEEDED".into(),
            message: "slow down".into(),
            retry_after_seconds: Some(30),
        });
        let a = answer(Err(limited));
        assert_eq!(a.status, 429);
        assert!(a.headers.contains(&("retry-after", "30".to_string())));
    }
}
