//! `/search`: the SOSL subset clients send,
//! `FIND {term} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING Obj[(fields [WHERE …] [ORDER BY …] [LIMIT n])], …] [LIMIT n]`.
//! The term matches case-insensitively as a substring (a trailing `*` is
//! allowed) of Name, and of Email where the object has one.

use crate::data::{sobject, SObject};
use crate::errors::{self, ApiError};
use crate::query::{raw_json, row_out, select_rows_where};
use crate::soql::{self, Select};
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::Value;
use std::sync::Arc;

/// SOSL returns at most this many records unless LIMIT says fewer.
const MAX_RESULTS: usize = 2000;
const DEFAULT_OBJECTS: [&str; 4] = ["Account", "Contact", "Lead", "Opportunity"];

fn malformed(message: impl Into<String>) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, "MALFORMED_SEARCH", message)
}

fn no_braces() -> ApiError {
    malformed("No search term found. The search term must be enclosed in braces.")
}

#[derive(Clone, Copy)]
enum Scope {
    All,
    Name,
    Email,
    Phone,
}

impl Scope {
    fn fields(self) -> &'static [&'static str] {
        match self {
            Scope::All => &["Name", "Email"],
            Scope::Name => &["Name"],
            Scope::Email => &["Email"],
            Scope::Phone => &["Phone"],
        }
    }
}

struct Returning {
    sobject: &'static SObject,
    /// What goes inside the parentheses, `Id` if there were none.
    inner: String,
}

struct Sosl {
    term: String,
    scope: Scope,
    returning: Vec<Returning>,
    limit: usize,
}

/// `{Acme\}}` → `Acme}`; returns the term and what follows the closing brace.
fn braced(s: &str) -> Result<(String, &str), ApiError> {
    let Some(body) = s.strip_prefix('{') else {
        return Err(no_braces());
    };
    let mut term = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, e)) = chars.next() {
                    term.push(e);
                }
            }
            '}' => return Ok((term, &body[i + 1..])),
            c => term.push(c),
        }
    }
    Err(no_braces())
}

/// The leading word of `s` and the rest.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// `(…)` with nesting and quoted strings; returns the inside and the rest.
fn parenthesized(s: &str) -> Result<(&str, &str), ApiError> {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '\'' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' => quoted = true,
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok((&s[1..i], &s[i + 1..]));
                }
            }
            _ => {}
        }
    }
    Err(malformed("unexpected end of search: missing ')'"))
}

fn parse(q: &str) -> Result<Sosl, ApiError> {
    let (find, rest) = word(q);
    if !find.eq_ignore_ascii_case("FIND") {
        return Err(no_braces());
    }
    let (term, mut rest) = braced(rest.trim_start())?;
    let mut sosl = Sosl {
        term,
        scope: Scope::All,
        returning: Vec::new(),
        limit: MAX_RESULTS,
    };
    loop {
        let (kw, after) = word(rest);
        if kw.is_empty() {
            if after.trim().is_empty() {
                break;
            }
            return Err(malformed(format!("unexpected token: {}", after.trim())));
        }
        rest = after;
        match kw.to_ascii_uppercase().as_str() {
            "IN" => {
                let (scope, after) = word(rest);
                let (fields, after) = word(after);
                if !fields.eq_ignore_ascii_case("FIELDS") {
                    return Err(malformed(format!("unexpected token: {fields}")));
                }
                sosl.scope = match scope.to_ascii_uppercase().as_str() {
                    "ALL" => Scope::All,
                    "NAME" => Scope::Name,
                    "EMAIL" => Scope::Email,
                    "PHONE" => Scope::Phone,
                    _ => return Err(malformed(format!("unexpected token: {scope}"))),
                };
                rest = after;
            }
            "RETURNING" => loop {
                let (name, after) = word(rest);
                if name.is_empty() {
                    return Err(malformed("RETURNING needs at least one object"));
                }
                let obj = sobject(name).ok_or_else(|| {
                    errors::rest(
                        StatusCode::BAD_REQUEST,
                        "INVALID_TYPE",
                        format!("sObject type '{name}' is not supported."),
                    )
                })?;
                let after = after.trim_start();
                let (inner, after) = if after.starts_with('(') {
                    let (inner, after) = parenthesized(after)?;
                    (inner.to_string(), after)
                } else {
                    ("Id".to_string(), after)
                };
                sosl.returning.push(Returning {
                    sobject: obj,
                    inner,
                });
                let after = after.trim_start();
                match after.strip_prefix(',') {
                    Some(more) => rest = more,
                    None => {
                        rest = after;
                        break;
                    }
                }
            },
            "LIMIT" => {
                let (n, after) = word(rest);
                sosl.limit = n
                    .parse::<usize>()
                    .map_err(|_| malformed(format!("unexpected token: {n}")))?
                    .min(MAX_RESULTS);
                rest = after;
            }
            _ => return Err(malformed(format!("unexpected token: {kw}"))),
        }
    }
    Ok(sosl)
}

/// `Id, Name WHERE …` → `SELECT Id, Name FROM Obj WHERE …`.
fn as_soql(r: &Returning) -> String {
    let upper = r.inner.to_ascii_uppercase();
    let split = ["WHERE", "ORDER", "LIMIT", "OFFSET"]
        .iter()
        .filter_map(|kw| {
            upper.match_indices(kw).map(|(i, _)| i).find(|&i| {
                let before = upper[..i].chars().next_back();
                let after = upper[i + kw.len()..].chars().next();
                before.is_none_or(char::is_whitespace) && after.is_none_or(char::is_whitespace)
            })
        })
        .min()
        .unwrap_or(r.inner.len());
    let (fields, tail) = r.inner.split_at(split);
    let fields = if fields.trim().is_empty() {
        "Id"
    } else {
        fields.trim()
    };
    format!("SELECT {fields} FROM {} {tail}", r.sobject.name)
}

/// `GET /search?q=FIND+{…}…`
pub(crate) async fn search(
    State(st): State<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = raw
        .as_deref()
        .map(|r| form_urlencoded::parse(r.as_bytes()))
        .and_then(|mut pairs| pairs.find(|(k, _)| k == "q"))
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut sosl = parse(q.trim())?;
    let term = sosl
        .term
        .trim()
        .trim_matches('"')
        .trim_end_matches('*')
        .trim()
        .to_lowercase();
    if term.chars().count() < 2 {
        return Err(malformed(format!(
            "search term must be longer than one character: {}",
            sosl.term
        )));
    }
    if sosl.returning.is_empty() {
        sosl.returning = DEFAULT_OBJECTS
            .iter()
            .filter_map(|n| sobject(n))
            .map(|o| Returning {
                sobject: o,
                inner: "Id".into(),
            })
            .collect();
    }
    let mut queries = Vec::new();
    for r in &sosl.returning {
        let parsed = soql::parse(&as_soql(r))
            .map_err(|e| errors::rest(StatusCode::BAD_REQUEST, e.code, e.message))?;
        if matches!(parsed.select, Select::Count) {
            return Err(malformed("COUNT() is not allowed in a search"));
        }
        queries.push(parsed);
    }
    let store = lock(&st.store);
    let mut rows: Vec<String> = Vec::new();
    for q in &queries {
        let Select::Fields(fields) = &q.select else {
            continue;
        };
        let searched: Vec<&str> = sosl
            .scope
            .fields()
            .iter()
            .copied()
            .filter(|f| q.sobject.field(f).is_some())
            .collect();
        let hits = select_rows_where(&store, q, false, |rec| {
            searched
                .iter()
                .any(|f| matches!(rec.get(f), Value::String(s) if s.to_lowercase().contains(&term)))
        });
        for rec in hits {
            if rows.len() >= sosl.limit {
                break;
            }
            let out = row_out(&store, q, fields, rec, &v.0);
            rows.push(serde_json::to_string(&out).unwrap_or_default());
        }
    }
    drop(store);
    Ok(raw_json(format!(
        r#"{{"searchRecords":[{}]}}"#,
        rows.join(",")
    )))
}
