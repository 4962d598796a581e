//! A Rust caller of `sf-host serve` workers: one function per function of
//! `wit/worker/worker.wit`, each bounded by the caller's deadline.
//!
//! What happens when a worker dies mid-call depends on the call:
//! - a read (a GET, a query, a describe, a read-only tool) is sent again,
//!   to another worker, while the deadline allows;
//! - a write is never sent twice: it fails with
//!   [`CallError::OutcomeUnknown`], since the worker may have performed it
//!   before it died.

use super::bindings::call::salesforce::worker::org_calls as remote;
use super::liveness::{call_headers, Liveness, Lost};
use async_nats::HeaderMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use super::bindings::call::salesforce::connector::{operations, tools, types};

/// The default deadline of one call, retries included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// The pause before a read is sent again.
const RESEND_AFTER: Duration = Duration::from_millis(50);

/// Why a call through the workers failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The connector's own error, as the worker's component returned it.
    #[error("{}", salesforce_message(.0))]
    Salesforce(types::Error),
    /// A write that a worker may or may not have performed.
    #[error(
        "{operation}: the outcome is unknown ({reason}); it was not sent again: \
         look at the org before repeating it"
    )]
    OutcomeUnknown {
        operation: &'static str,
        reason: String,
    },
    /// A read that got no answer within the deadline, resends included.
    #[error("{operation}: no answer within the deadline of {} ms ({reason})", .deadline.as_millis())]
    Deadline {
        operation: &'static str,
        deadline: Duration,
        reason: String,
    },
    /// NATS could not be reached.
    #[error("{0}")]
    Unavailable(String),
}

/// The error's case and what it carries; the connector's errors never hold
/// a secret.
fn salesforce_message(e: &types::Error) -> String {
    format!("the worker's connector returned {e:?}")
}

/// A connection to the workers behind one wRPC prefix.
#[derive(Clone)]
pub struct Caller {
    wrpc: wrpc_transport_nats::Client,
    live: Liveness,
    status: Arc<str>,
    calls: Arc<AtomicU64>,
    deadline: Duration,
}

impl Caller {
    /// Connects to NATS at `url` and follows the workers serving `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CallError> {
        let unavailable = |e: &dyn std::fmt::Display| {
            CallError::Unavailable(format!("cannot reach NATS at {url}: {e}"))
        };
        let nats = async_nats::connect(url)
            .await
            .map_err(|e| unavailable(&e))?;
        let status = format!("{}.status", nats.new_inbox());
        let live = Liveness::follow(&nats, prefix, &status)
            .await
            .map_err(|e| unavailable(&e))?;
        let wrpc = wrpc_transport_nats::Client::new(nats, prefix, None)
            .await
            .map_err(|e| unavailable(&format!("{e:#}")))?;
        Ok(Self {
            wrpc,
            live,
            status: status.into(),
            calls: Arc::default(),
            deadline: DEFAULT_DEADLINE,
        })
    }

    /// Every call from now on ends within `deadline`, resends included.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How many of this caller's calls each worker took, by worker id.
    pub fn taken_by(&self) -> std::collections::BTreeMap<String, usize> {
        self.live.taken_by()
    }

    /// Runs one call: a read is sent again when it is lost, a write never.
    async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        read: bool,
        invoke: F,
    ) -> Result<T, CallError>
    where
        F: Fn(Option<HeaderMap>) -> Fut,
        Fut: Future<Output = anyhow::Result<Result<T, types::Error>>>,
    {
        let until = Instant::now() + self.deadline;
        loop {
            let id = self.calls.fetch_add(1, Ordering::Relaxed).to_string();
            let watch = self.live.watch(&id);
            let remaining = until.saturating_duration_since(Instant::now());
            let cx = Some(call_headers(&id, &self.status, remaining));
            let reason = tokio::select! {
                result = invoke(cx) => match result {
                    Ok(Ok(value)) => return Ok(value),
                    Ok(Err(e)) => return Err(CallError::Salesforce(e)),
                    Err(e) => format!("the call broke off: {e:#}"),
                },
                lost = watch.lost() => match lost {
                    Lost::WorkerGone(w) => format!("worker {w} stopped during the call"),
                    Lost::NotTaken => "no worker took the call".to_string(),
                },
                () = tokio::time::sleep_until(until.into()) => {
                    let who = if watch.taken() { "a worker took it" } else { "no worker took it" };
                    format!("{who}, and no answer came")
                }
            };
            let out_of_time = Instant::now() + RESEND_AFTER >= until;
            if !read {
                return Err(CallError::OutcomeUnknown { operation, reason });
            }
            if out_of_time {
                let deadline = self.deadline;
                return Err(CallError::Deadline {
                    operation,
                    deadline,
                    reason,
                });
            }
            tokio::time::sleep(RESEND_AFTER).await;
        }
    }

    /// The orgs the workers serve.
    pub async fn orgs(&self) -> Result<Vec<String>, CallError> {
        self.run("orgs", true, |cx| async {
            remote::orgs(&self.wrpc, cx).await.map(Ok)
        })
        .await
    }

    /// One REST call; a GET or HEAD is a read, any other method a write.
    pub async fn call(
        &self,
        org: &str,
        request: &types::Request,
    ) -> Result<types::Response, CallError> {
        let read = matches!(request.method, types::Method::Get | types::Method::Head);
        self.run("call", read, |cx| {
            remote::call(&self.wrpc, cx, org, request)
        })
        .await
    }

    /// The first page of a SOQL query.
    pub async fn query(
        &self,
        org: &str,
        soql: &str,
        options: &operations::QueryOptions,
    ) -> Result<operations::QueryPage, CallError> {
        self.run("query", true, |cx| {
            remote::query(&self.wrpc, cx, org, soql, options)
        })
        .await
    }

    /// The page at a `next-records-url`.
    pub async fn query_more(
        &self,
        org: &str,
        next_records_url: &str,
        options: &operations::QueryOptions,
    ) -> Result<operations::QueryPage, CallError> {
        self.run("query-more", true, |cx| {
            remote::query_more(&self.wrpc, cx, org, next_records_url, options)
        })
        .await
    }

    /// One record's fields (all of them when `fields` is empty).
    pub async fn get_record(
        &self,
        org: &str,
        sobject: &str,
        id: &str,
        fields: &[String],
    ) -> Result<operations::JsonResponse, CallError> {
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        self.run("get-record", true, |cx| {
            remote::get_record(&self.wrpc, cx, org, sobject, id, &fields)
        })
        .await
    }

    /// Creates one record: a write, never sent twice.
    pub async fn create_record(
        &self,
        org: &str,
        sobject: &str,
        fields_json: &str,
    ) -> Result<operations::CreatedRecord, CallError> {
        self.run("create-record", false, |cx| {
            remote::create_record(&self.wrpc, cx, org, sobject, fields_json)
        })
        .await
    }

    /// Updates one record: a write, never sent twice.
    pub async fn update_record(
        &self,
        org: &str,
        sobject: &str,
        id: &str,
        fields_json: &str,
    ) -> Result<Option<types::LimitInfo>, CallError> {
        self.run("update-record", false, |cx| {
            remote::update_record(&self.wrpc, cx, org, sobject, id, fields_json)
        })
        .await
    }

    /// Deletes one record: a write, never sent twice.
    pub async fn delete_record(
        &self,
        org: &str,
        sobject: &str,
        id: &str,
    ) -> Result<Option<types::LimitInfo>, CallError> {
        self.run("delete-record", false, |cx| {
            remote::delete_record(&self.wrpc, cx, org, sobject, id)
        })
        .await
    }

    /// Creates or updates one record by an external id: a write.
    pub async fn upsert_record(
        &self,
        org: &str,
        sobject: &str,
        external_id_field: &str,
        external_id: &str,
        fields_json: &str,
    ) -> Result<operations::UpsertOutcome, CallError> {
        self.run("upsert-record", false, |cx| {
            remote::upsert_record(
                &self.wrpc,
                cx,
                org,
                sobject,
                external_id_field,
                external_id,
                fields_json,
            )
        })
        .await
    }

    /// One object's describe.
    pub async fn describe_sobject(
        &self,
        org: &str,
        sobject: &str,
    ) -> Result<operations::JsonResponse, CallError> {
        self.run("describe-sobject", true, |cx| {
            remote::describe_sobject(&self.wrpc, cx, org, sobject)
        })
        .await
    }

    /// The org's limits.
    pub async fn limits(&self, org: &str) -> Result<operations::JsonResponse, CallError> {
        self.run("limits", true, |cx| remote::limits(&self.wrpc, cx, org))
            .await
    }

    /// The connector's tool catalog.
    pub async fn tools(&self) -> Result<Vec<tools::Tool>, CallError> {
        self.run("tools", true, |cx| async {
            remote::tools(&self.wrpc, cx).await.map(Ok)
        })
        .await
    }

    /// Runs one tool; it is a read when the connector's read-only rule
    /// would allow it (`salesforce_connector::guardrails::writes`).
    pub async fn invoke(
        &self,
        org: &str,
        name: &str,
        arguments_json: &str,
    ) -> Result<String, CallError> {
        let read = !salesforce_connector::guardrails::tool_writes(name, arguments_json);
        self.run("invoke", read, |cx| {
            remote::invoke(&self.wrpc, cx, org, name, arguments_json)
        })
        .await
    }
}
