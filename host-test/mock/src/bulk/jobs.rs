//! The job table: one `Job` per Bulk 2.0 job, its state machine, the
//! JobInfo JSON Salesforce answers with, the paged job list, and `settle`,
//! which moves a closed job through `InProgress` to its end on the mock's clock.

use super::apply::Outcome;
use super::csv::Dialect;
use super::query::Table;
use super::{apply, bad_request, query};
use crate::data::{datetime_string, now_secs, SObject};
use crate::errors::{self, ApiError};
use crate::state::{lock, Shared, USER_ID};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Job lists come 1,000 to a page [S-ALLINGEST].
const LIST_PAGE: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum State {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Open => "Open",
            State::UploadComplete => "UploadComplete",
            State::InProgress => "InProgress",
            State::JobComplete => "JobComplete",
            State::Failed => "Failed",
            State::Aborted => "Aborted",
        }
    }

    /// `JOB_COMPLETE`, `IN_PROGRESS` …: how the v47 412 message spells it [S-Q412].
    pub(crate) fn shouting(self) -> &'static str {
        match self {
            State::Open => "OPEN",
            State::UploadComplete => "UPLOAD_COMPLETE",
            State::InProgress => "IN_PROGRESS",
            State::JobComplete => "JOB_COMPLETE",
            State::Failed => "FAILED",
            State::Aborted => "ABORTED",
        }
    }

    pub(crate) fn terminal(self) -> bool {
        matches!(self, State::JobComplete | State::Failed | State::Aborted)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Operation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
    Query,
    QueryAll,
}

impl Operation {
    pub(crate) fn parse(s: &str) -> Option<Operation> {
        Some(match s {
            "insert" => Operation::Insert,
            "update" => Operation::Update,
            "upsert" => Operation::Upsert,
            "delete" => Operation::Delete,
            "hardDelete" => Operation::HardDelete,
            "query" => Operation::Query,
            "queryAll" => Operation::QueryAll,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
            Operation::Query => "query",
            Operation::QueryAll => "queryAll",
        }
    }
}

/// What an ingest job carries, or a query job computes.
pub(crate) enum Payload {
    Ingest {
        upload: Option<Vec<u8>>,
        outcome: Option<Outcome>,
    },
    Query {
        soql: String,
        table: Option<Table>,
    },
}

pub(crate) struct Job {
    pub id: String,
    pub operation: Operation,
    pub object: &'static SObject,
    pub external_id: Option<&'static str>,
    pub dialect: Dialect,
    /// As in the URL that created it, e.g. `62.0`.
    pub api_version: String,
    created: String,
    modstamp: String,
    pub state: State,
    /// When it was closed (query jobs: created), on the mock's clock.
    closed_at: Option<Instant>,
    pub error_message: Option<String>,
    pub processed: usize,
    pub failed: usize,
    pub payload: Payload,
}

/// Which JobInfo a response carries: the docs show fewer fields on create
/// and on PATCH than on GET [S-GUIDE66][S-INFO].
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum View {
    Created,
    Patched,
    Listed,
    Full,
}

impl Job {
    pub(crate) fn new(spec: Spec, api_version: &str, payload: Payload) -> Job {
        let now = datetime_string(now_secs());
        Job {
            id: String::new(),
            operation: spec.operation,
            object: spec.object,
            external_id: spec.external_id,
            dialect: spec.dialect,
            api_version: api_version.to_string(),
            created: now.clone(),
            modstamp: now,
            state: State::Open,
            closed_at: None,
            error_message: None,
            processed: 0,
            failed: 0,
            payload,
        }
    }

    pub(crate) fn is_query(&self) -> bool {
        matches!(self.payload, Payload::Query { .. })
    }

    /// Enter `state` now; `UploadComplete` also starts the processing clock.
    pub(crate) fn set_state(&mut self, state: State, st: &Shared) {
        self.state = state;
        self.modstamp = datetime_string(now_secs());
        if state == State::UploadComplete {
            self.closed_at = Some(st.knobs.now());
        }
    }

    /// The JobInfo JSON of this view, absent values left out, not `null` [S-INFO].
    pub(crate) fn info(&self, view: View) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("operation".into(), json!(self.operation.as_str()));
        m.insert("object".into(), json!(self.object.name));
        m.insert("createdById".into(), json!(USER_ID));
        m.insert("createdDate".into(), json!(self.created));
        m.insert("systemModstamp".into(), json!(self.modstamp));
        m.insert("state".into(), json!(self.state.as_str()));
        if let Some(f) = self.external_id {
            m.insert("externalIdFieldName".into(), json!(f));
        }
        // "for future use": always Parallel [S-CREATE].
        m.insert("concurrencyMode".into(), json!("Parallel"));
        m.insert("contentType".into(), json!("CSV"));
        let version: f64 = self.api_version.parse().unwrap_or(0.0);
        m.insert("apiVersion".into(), json!(version));
        if view == View::Patched {
            return Value::Object(m);
        }
        self.describe_more(&mut m, view);
        Value::Object(m)
    }

    fn describe_more(&self, m: &mut Map<String, Value>, view: View) {
        // Relative, no leading slash, only while Open [S-GUIDE66][S-INFO].
        if self.state == State::Open && !self.is_query() {
            let url = format!(
                "services/data/v{}/jobs/ingest/{}/batches",
                self.api_version, self.id
            );
            m.insert("contentUrl".into(), json!(url));
        }
        if view != View::Created {
            let kind = if self.is_query() {
                "V2Query"
            } else {
                "V2Ingest"
            };
            m.insert("jobType".into(), json!(kind));
        }
        m.insert(
            "lineEnding".into(),
            json!(self.dialect.line_ending.as_str()),
        );
        m.insert(
            "columnDelimiter".into(),
            json!(self.dialect.delimiter.as_str()),
        );
        if view != View::Full {
            return;
        }
        m.insert("numberRecordsProcessed".into(), json!(self.processed));
        if self.is_query() {
            m.insert("retries".into(), json!(0));
            m.insert("totalProcessingTime".into(), json!(0));
            m.insert("isPkChunkingSupported".into(), json!(true));
            return;
        }
        m.insert("numberRecordsFailed".into(), json!(self.failed));
        m.insert("retries".into(), json!(0));
        for timing in [
            "totalProcessingTime",
            "apiActiveProcessingTime",
            "apexProcessingTime",
        ] {
            m.insert(timing.into(), json!(0));
        }
        if let Some(e) = &self.error_message {
            m.insert("errorMessage".into(), json!(e));
        }
    }
}

/// What a create request asked for, validated.
pub(crate) struct Spec {
    pub operation: Operation,
    pub object: &'static SObject,
    pub external_id: Option<&'static str>,
    pub dialect: Dialect,
}

#[derive(Default)]
pub(crate) struct Jobs {
    jobs: Vec<Job>,
    made: usize,
}

impl Jobs {
    /// Keep `job` under a new `750…` id [S-INFO]; it is not settled yet,
    /// so a create answers with the state it was created in.
    pub(crate) fn add(&mut self, mut job: Job) -> &Job {
        self.made += 1;
        job.id = format!("750{:0>12}AAA", self.made);
        self.jobs.push(job);
        &self.jobs[self.jobs.len() - 1]
    }

    /// The job, brought up to date; an ingest id asked for as a query job
    /// (or the reverse) is as unknown as a deleted one [S-INFO].
    pub(crate) fn get(&mut self, id: &str, query: bool, st: &Shared) -> Result<&mut Job, ApiError> {
        let job = self
            .jobs
            .iter_mut()
            .find(|j| j.id == id && j.is_query() == query)
            .ok_or_else(errors::not_found)?;
        settle(job, st);
        Ok(job)
    }

    pub(crate) fn remove(&mut self, id: &str) {
        self.jobs.retain(|j| j.id != id);
    }

    /// One page of the job list: `{"done","records","nextRecordsUrl"}`,
    /// `nextRecordsUrl` a path with a leading `/`, `null` on the last page [S-ALLQUERY].
    pub(crate) fn list(
        &mut self,
        query: bool,
        keep: impl Fn(&Job) -> bool,
        locator: Option<&str>,
        base: &str,
        st: &Shared,
    ) -> Result<Value, ApiError> {
        let offset = match locator {
            None => 0,
            Some(l) => list_offset(l)?,
        };
        let mut records = Vec::new();
        for job in self.jobs.iter_mut().filter(|j| j.is_query() == query) {
            settle(job, st);
            if keep(job) {
                records.push(job.info(View::Listed));
            }
        }
        let total = records.len();
        let page: Vec<Value> = records.into_iter().skip(offset).take(LIST_PAGE).collect();
        let end = offset + page.len();
        let next = (end < total).then(|| format!("{base}?queryLocator={LOCATOR_PREFIX}-{end}"));
        Ok(json!({ "done": next.is_none(), "records": page, "nextRecordsUrl": next }))
    }
}

/// Shaped like the docs' `01gxx0000000001AAA-1000` [S-ALLINGEST].
const LOCATOR_PREFIX: &str = "01g000000000001AAA";

fn list_offset(locator: &str) -> Result<usize, ApiError> {
    locator
        .strip_prefix(LOCATOR_PREFIX)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|n| n.parse().ok())
        // Unverified: the answer to a foreign queryLocator; REST's is this.
        .ok_or_else(|| bad_request("INVALID_QUERY_LOCATOR", "invalid query locator"))
}

/// Move a closed job on: `InProgress` until the processing delay has passed
/// on the mock's clock, then run it to `JobComplete` or `Failed` [S-INFO].
pub(crate) fn settle(job: &mut Job, st: &Shared) {
    let Some(closed) = job.closed_at else {
        return;
    };
    if !matches!(job.state, State::UploadComplete | State::InProgress) {
        return;
    }
    if st.knobs.now() < closed + st.knobs.bulk_processing_delay() {
        job.state = State::InProgress;
        return;
    }
    let mut store = lock(&st.store);
    match job.payload {
        Payload::Ingest { .. } => apply::run(job, &mut store),
        Payload::Query { .. } => query::run(job, &store),
    }
    job.modstamp = datetime_string(now_secs());
}

/// Finish the job when its delay is up even if nobody looks: a later REST
/// query must see the rows without a poll in between. Without a delay that
/// is now (the caller must not hold `st.bulk`).
pub(crate) fn settle_later(st: Arc<Shared>, id: String, query: bool) {
    let delay = st.knobs.bulk_processing_delay();
    if delay.is_zero() {
        let _ = lock(&st.bulk).get(&id, query, &st);
        return;
    }
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = lock(&st.bulk).get(&id, query, &st);
    });
}
