//! The scenario of `hosts/node/host.js` and `hosts/python/host.py`, run
//! through the wasmtime host (`salesforce_host::Client`), as the same JSON document:
//! `{"results": {step: {"ok": …} | {"err": {"tag", "val"}}}, "timings-ms": …}`
//! with WIT's kebab-case names. Keep the three in step.

use crate::common;
use salesforce_host::{ops, wit, Client, HostError};
use salesforce_mock::Mock;
use serde_json::{json, Map, Value};
use sf_host::MockConfig;
use std::time::Instant;

pub const SOQL: &str =
    "SELECT Id, Name, AnnualRevenue FROM Account WHERE Name LIKE 'Acme 0%' ORDER BY Name";
const BATCH_SIZE: u32 = 200;
const TOOL_SOQL: &str = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme 000%' ORDER BY Name";

/// Runs the scenario against `mock` at `login_url`; `unreachable_url` is a
/// login URL where nothing listens.
pub async fn run(mock: &Mock, login_url: &str, unreachable_url: &str) -> Value {
    let mut doc = Doc::default();
    let mut client = login_client(mock, login_url, &mock.credentials().password);
    let login = doc
        .step("authenticate", async {
            client.authenticate().await.map(|s| {
                json!({
                    "instance-url": s.instance_url, "org-id": s.org_id, "user-id": s.user_id,
                    "token-type": s.token_type, "scope": s.scope, "api-version": s.api_version,
                    "signature-verified": s.signature_verified,
                })
            })
        })
        .await;
    if login.is_some() {
        let options = ops::QueryOptions {
            batch_size: Some(BATCH_SIZE),
            ..salesforce_host::PLAIN_QUERY
        };
        doc.step("query-pages", async {
            let mut pages = vec![client.query(SOQL, options).await?];
            while let Some(next) = pages.last().and_then(|p| p.next_records_url.clone()) {
                pages.push(client.query_more(&next, options).await?);
            }
            Ok(Value::from_iter(pages.iter().map(|p| {
                json!({"records": p.records, "total-size": p.total_size, "done": p.done,
                       "next-records-url": p.next_records_url})
            })))
        })
        .await;
        doc.step("query-all-pages", async {
            let r = client.query_all_pages(SOQL, options, None).await?;
            Ok(json!({"records": r.records, "total-size": r.total_size, "fetched": r.fetched,
                      "pages": r.pages, "truncated": r.truncated, "next-records-url": r.next_records_url}))
        })
        .await;
        let created = doc
            .step("create-record", async {
                let c = client
                    .create_record("Account", r#"{"Name":"Portable Co"}"#)
                    .await?;
                Ok(json!({"id": c.id}))
            })
            .await;
        if let Some(id) = created.as_ref().and_then(|c| c["id"].as_str()) {
            let fields = ["Name".to_string()];
            doc.step("get-record", async {
                Ok(client.get_record("Account", id, &fields).await?.body.into())
            })
            .await;
            doc.step("delete-record", async {
                client
                    .delete_record("Account", id)
                    .await
                    .map(|_| Value::Null)
            })
            .await;
            doc.step("get-deleted-record", async {
                Ok(client.get_record("Account", id, &fields).await?.body.into())
            })
            .await;
        }
        doc.step("tools", async {
            Ok(Value::from_iter(client.tools().await?.into_iter().map(|t| {
                json!({"name": t.name, "description": t.description, "input-schema": t.input_schema})
            })))
        })
        .await;
        doc.step("invoke", async {
            let args = json!({"soql": TOOL_SOQL}).to_string();
            Ok(client.invoke("soql_query", &args).await?.into())
        })
        .await;
        doc.step("invoke-bad-argument", async {
            Ok(client.invoke("soql_query", r#"{"soql":5}"#).await?.into())
        })
        .await;
    }
    renewal(&mut doc, mock, login_url).await;
    let unexpected = |_: &wit::Session| Value::from("unexpected: logged in");
    let mut wrong = login_client(mock, login_url, "not-the-password");
    doc.step("wrong-password", async {
        wrong.authenticate().await.map(unexpected)
    })
    .await;
    let mut unreachable = login_client(mock, unreachable_url, &mock.credentials().password);
    doc.step("unreachable", async {
        unreachable.authenticate().await.map(unexpected)
    })
    .await;
    json!({"results": doc.results, "timings-ms": doc.timings})
}

/// Renewal through the component's `renew`: a refresh-token login, a call
/// with an expired access token (renewed once by the client, then retried),
/// and one more renewal; the refresh token rotates each time.
async fn renewal(doc: &mut Doc, mock: &Mock, login_url: &str) {
    let grant = wit::Grant::RefreshToken(wit::RefreshTokenGrant {
        refresh_token: mock.credentials().refresh_token.clone(),
    });
    let config = mock.config(login_url, grant);
    let mut client =
        Client::new(common::connector(), config, common::options(mock)).expect("client");
    let refresh_token = |c: &Client| c.current_session().and_then(|s| s.refresh_token.clone());
    let login = doc
        .step("refresh-login", async {
            let s = client.authenticate().await?;
            Ok(json!({"has-refresh-token": s.refresh_token.is_some()}))
        })
        .await;
    if login.is_none() {
        return;
    }
    doc.step("renew-expired", async {
        let before = refresh_token(&client);
        let mut stale = client.current_session().cloned().expect("logged in");
        stale.access_token = "00D000000000001!expired".into();
        client.restore_session(stale);
        let limits = client.limits().await?;
        Ok(
            json!({"limits-ok": limits.body.contains("DailyApiRequests"),
                  "rotated": refresh_token(&client) != before}),
        )
    })
    .await;
    doc.step("renew-again", async {
        let before = refresh_token(&client);
        client.renew().await?;
        Ok(json!({"rotated": refresh_token(&client) != before}))
    })
    .await;
}

/// A client with the hosts' config: the mock's app, a password grant, every
/// other setting at its default.
fn login_client(mock: &Mock, login_url: &str, password: &str) -> Client {
    let mut grant = mock.password_grant();
    if let wit::Grant::Password(g) = &mut grant {
        g.password = password.to_string();
    }
    Client::new(
        common::connector(),
        mock.config(login_url, grant),
        common::options(mock),
    )
    .expect("client")
}

#[derive(Default)]
struct Doc {
    results: Map<String, Value>,
    timings: Map<String, Value>,
}

impl Doc {
    /// Runs one step, timing it; returns its ok value. A host error that is
    /// not the component's (a trap, a load failure) fails the test.
    async fn step(
        &mut self,
        name: &str,
        f: impl std::future::Future<Output = Result<Value, HostError>>,
    ) -> Option<Value> {
        let start = Instant::now();
        let result = f.await;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        self.timings
            .insert(name.into(), json!((ms * 1000.0).round() / 1000.0));
        let (entry, ok) = match result {
            Ok(v) => (json!({ "ok": v }), Some(v)),
            Err(HostError::Component(e)) => (json!({ "err": error(&e) }), None),
            Err(e) => panic!("{name}: the wasmtime host failed: {e}"),
        };
        self.results.insert(name.into(), entry);
        ok
    }
}

/// The component's error as the other hosts print it: `{"tag", "val"}` with WIT names.
pub fn error(e: &wit::Error) -> Value {
    use wit::Error as E;
    let (tag, val) = match e {
        E::InvalidConfig(p) => ("invalid-config", problem(p)),
        E::InvalidRequest(p) => ("invalid-request", problem(p)),
        E::AuthenticationFailed(o) => (
            "authentication-failed",
            json!({"status": o.status, "error": o.error, "description": o.description, "hint": o.hint}),
        ),
        E::SessionExpired(m) => ("session-expired", json!(m)),
        E::SessionRefused(r) => (
            "session-refused",
            json!({"status": r.status, "error-code": r.error_code, "message": r.message,
                   "hint": r.hint}),
        ),
        E::LoginRequired(m) => ("login-required", json!(m)),
        E::ApiError(a) => (
            "api-error",
            json!({
                "status": a.status,
                "errors": Value::from_iter(a.errors.iter().map(|i| json!({
                    "error-code": i.error_code, "message": i.message, "fields": i.fields,
                }))),
                "limit-info": a.limit_info.as_ref().map(limit_info),
            }),
        ),
        E::MultipleChoices(urls) => ("multiple-choices", json!(urls)),
        E::RateLimited(r) => (
            "rate-limited",
            json!({"status": r.status, "code": r.code, "message": r.message,
                   "retry-after-seconds": r.retry_after_seconds}),
        ),
        E::Transport(m) => ("transport", json!(m)),
        E::Timeout(m) => ("timeout", json!(m)),
        E::UnexpectedResponse(u) => (
            "unexpected-response",
            json!({"status": u.status, "content-type": u.content_type, "reason": u.reason,
                   "excerpt": u.excerpt}),
        ),
        E::Denied(m) => ("denied", json!(m)),
        E::ResponseTooLarge(n) => ("response-too-large", json!(n)),
    };
    json!({"tag": tag, "val": val})
}

fn problem(p: &wit::FieldProblem) -> Value {
    json!({"field": p.field, "message": p.message})
}

fn limit_info(l: &wit::LimitInfo) -> Value {
    let usage = |u: &wit::Usage| json!({"used": u.used, "max": u.max});
    json!({
        "api-usage": l.api_usage.as_ref().map(usage),
        "per-app-api-usage": l.per_app_api_usage.as_ref()
            .map(|a| json!({"used": a.used, "max": a.max, "app-name": a.app_name})),
        "api-bursts": l.api_bursts.as_ref().map(usage),
    })
}
