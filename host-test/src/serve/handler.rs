//! What a worker does with one call: say it took it, find the org, run the
//! connector in a fresh instance with the shared session, renew through the
//! shared store once on expiry, and answer in the wire's types.

use super::convert::Convert;
use super::shared::{Org, Sessions};
use salesforce_host::{tools as host_tools, wit, Client, HostError};
use sf_host::wrpc::bindings::serve::exports::salesforce::worker::org_calls::Handler;
use sf_host::wrpc::bindings::serve::salesforce::connector::{operations, tools, types};
use sf_host::wrpc::liveness::{CALL_ID, DEADLINE_MS, STATUS_SUBJECT};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use wrpc_transport_nats::NatsContext;

/// Time kept back from the caller's deadline for the answer's way back.
const ANSWER_MARGIN: Duration = Duration::from_millis(100);

/// Sessions one call tries: its own, and newer ones after expiries.
const MAX_SESSIONS_PER_CALL: usize = 4;

type Answer<T> = anyhow::Result<Result<T, types::Error>>;

/// Runs `$call` (an expression using the forked client `$c`) for the org
/// named `$org` with the shared session, renewing through the shared store
/// when Salesforce calls it expired, and answers in the wire's types. A
/// session another worker renewed may have expired since: only one this
/// worker just renewed ends the call on expiry.
macro_rules! served {
    ($worker:ident, $cx:ident, $org:ident, |$c:ident| $call:expr) => {{
        let (_flight, deadline) = $worker.take(&$cx).await;
        let Some(org) = $worker.0.orgs.get(&$org) else {
            return Ok(Err($worker.unknown(&$org)));
        };
        let sessions = &$worker.0.sessions;
        let outcome = async {
            let mut held = sessions.current(org, deadline).await?;
            let mut $c = org.client.fork();
            let mut tried = 1;
            loop {
                $c.restore_session(within(held.session.clone(), deadline));
                match $call {
                    Err(HostError::Component(wit::Error::SessionExpired(_)))
                        if !held.fresh
                            && tried < MAX_SESSIONS_PER_CALL
                            && $c.can_reauthenticate() =>
                    {
                        held = sessions.after_expiry(org, &held, deadline).await?;
                        tried += 1;
                    }
                    other => break other,
                }
            }
        }
        .await;
        Ok(outcome
            .map(Convert::convert)
            .map_err(|e| $worker.wire_error(e)))
    }};
}

#[derive(Clone)]
pub struct Worker(Arc<Inner>);

pub struct Inner {
    pub id: String,
    orgs: BTreeMap<String, Org>,
    sessions: Sessions,
    nats: async_nats::Client,
    /// The owner's limits on tools (`--read-only` and the rest).
    guardrails: host_tools::Guardrails,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// A call being served; dropping it ends it.
struct Flight(Arc<Inner>);

impl Drop for Flight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Worker {
    pub fn new(
        id: String,
        orgs: BTreeMap<String, Org>,
        sessions: Sessions,
        nats: async_nats::Client,
        guardrails: host_tools::Guardrails,
    ) -> Self {
        Self(Arc::new(Inner {
            id,
            orgs,
            sessions,
            nats,
            guardrails,
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
        }))
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }

    pub fn org_names(&self) -> Vec<String> {
        self.0.orgs.keys().cloned().collect()
    }

    /// Logins and renewals this worker ran.
    pub fn logins(&self) -> usize {
        self.0.sessions.logins()
    }

    /// Resolves when no call is being served.
    pub async fn idle(&self) {
        loop {
            let notified = self.0.idle.notified();
            if self.0.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Counts the call and tells its caller this worker took it.
    async fn take(&self, cx: &NatsContext) -> (Flight, Option<Duration>) {
        self.0.in_flight.fetch_add(1, Ordering::SeqCst);
        let flight = Flight(self.0.clone());
        let header = |name| {
            cx.headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_string())
        };
        if let (Some(id), Some(status)) = (header(CALL_ID), header(STATUS_SUBJECT)) {
            let taken = format!("{id} {}", self.0.id);
            // A caller that misses this only resends a read sooner.
            let _ = self.0.nats.publish(status, taken.into()).await;
        }
        let deadline = header(DEADLINE_MS)
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis);
        (flight, deadline)
    }

    fn unknown(&self, org: &str) -> types::Error {
        let served: Vec<&str> = self.0.orgs.keys().map(String::as_str).collect();
        types::Error::InvalidRequest(types::FieldProblem {
            field: "org".into(),
            message: format!(
                "no org named `{org}` is served here; the workers serve: {}",
                served.join(", ")
            ),
        })
    }

    /// The connector's errors as they are; the worker's own problems as
    /// `invalid-config` (its setup) or `transport` (its store).
    fn wire_error(&self, e: HostError) -> types::Error {
        match e {
            HostError::Component(e) => e.convert(),
            HostError::Usage(message) => types::Error::InvalidConfig(types::FieldProblem {
                field: "worker".into(),
                message,
            }),
            other => types::Error::Transport(format!("worker {}: {other}", self.0.id)),
        }
    }

    /// Any org's client, for the catalog (it needs no session).
    fn catalog_client(&self) -> Option<&Client> {
        self.0.orgs.values().next().map(|o| &o.client)
    }
}

/// `session` held to the caller's remaining time, so the component's own
/// deadline ends the call before the caller gives up on it.
fn within(mut session: wit::Session, deadline: Option<Duration>) -> wit::Session {
    if let Some(d) = deadline {
        let ms = d.saturating_sub(ANSWER_MARGIN).as_millis().max(1);
        session.deadline_ms = session.deadline_ms.min(ms.try_into().unwrap_or(u32::MAX));
    }
    session
}

impl Handler<NatsContext> for Worker {
    async fn orgs(&self, cx: NatsContext) -> anyhow::Result<Vec<String>> {
        let _flight = self.take(&cx).await;
        Ok(self.org_names())
    }

    async fn call(
        &self,
        cx: NatsContext,
        org: String,
        request: types::Request,
    ) -> Answer<types::Response> {
        let request: wit::Request = request.convert();
        served!(self, cx, org, |c| c.call(&request).await)
    }

    async fn query(
        &self,
        cx: NatsContext,
        org: String,
        soql: String,
        options: operations::QueryOptions,
    ) -> Answer<operations::QueryPage> {
        let options = options.convert();
        served!(self, cx, org, |c| c.query(&soql, options).await)
    }

    async fn query_more(
        &self,
        cx: NatsContext,
        org: String,
        next_records_url: String,
        options: operations::QueryOptions,
    ) -> Answer<operations::QueryPage> {
        let options = options.convert();
        served!(self, cx, org, |c| c
            .query_more(&next_records_url, options)
            .await)
    }

    async fn get_record(
        &self,
        cx: NatsContext,
        org: String,
        sobject: String,
        id: String,
        fields: Vec<String>,
    ) -> Answer<operations::JsonResponse> {
        served!(self, cx, org, |c| c
            .get_record(&sobject, &id, &fields)
            .await)
    }

    async fn create_record(
        &self,
        cx: NatsContext,
        org: String,
        sobject: String,
        fields_json: String,
    ) -> Answer<operations::CreatedRecord> {
        served!(self, cx, org, |c| c
            .create_record(&sobject, &fields_json)
            .await)
    }

    async fn update_record(
        &self,
        cx: NatsContext,
        org: String,
        sobject: String,
        id: String,
        fields_json: String,
    ) -> Answer<Option<types::LimitInfo>> {
        served!(self, cx, org, |c| c
            .update_record(&sobject, &id, &fields_json)
            .await)
    }

    async fn delete_record(
        &self,
        cx: NatsContext,
        org: String,
        sobject: String,
        id: String,
    ) -> Answer<Option<types::LimitInfo>> {
        served!(self, cx, org, |c| c.delete_record(&sobject, &id).await)
    }

    async fn upsert_record(
        &self,
        cx: NatsContext,
        org: String,
        sobject: String,
        external_id_field: String,
        external_id: String,
        fields_json: String,
    ) -> Answer<operations::UpsertOutcome> {
        served!(self, cx, org, |c| c
            .upsert_record(&sobject, &external_id_field, &external_id, &fields_json)
            .await)
    }

    async fn describe_sobject(
        &self,
        cx: NatsContext,
        org: String,
        sobject: String,
    ) -> Answer<operations::JsonResponse> {
        served!(self, cx, org, |c| c.describe_sobject(&sobject).await)
    }

    async fn limits(&self, cx: NatsContext, org: String) -> Answer<operations::JsonResponse> {
        served!(self, cx, org, |c| c.limits().await)
    }

    async fn tools(&self, cx: NatsContext) -> anyhow::Result<Vec<tools::Tool>> {
        let _flight = self.take(&cx).await;
        let client = self
            .catalog_client()
            .ok_or_else(|| anyhow::anyhow!("this worker serves no org"))?;
        let catalog = client.tools().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(catalog.convert())
    }

    async fn invoke(
        &self,
        cx: NatsContext,
        org: String,
        name: String,
        arguments_json: String,
    ) -> Answer<String> {
        let guardrails = &self.0.guardrails;
        served!(self, cx, org, |c| c
            .invoke_within(guardrails, &name, &arguments_json)
            .await)
    }
}
