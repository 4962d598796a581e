//! The `bulk` interface: conversions between the WIT's records and
//! `crate::bulk`, and each function run with a validated session.

#[allow(unused_imports)]
use crate::prelude::*;

use super::exports::salesforce::connector::bulk as wit_bulk;
use super::exports::salesforce::connector::types as wit;
use super::operations::with;
use crate::bulk::{
    self, Delimiter, IngestOptions, JobInfo, JobKind, JobState, LineEnding, Operation, ResultSet,
};

fn kind(k: wit_bulk::JobKind) -> JobKind {
    match k {
        wit_bulk::JobKind::Ingest => JobKind::Ingest,
        wit_bulk::JobKind::Query => JobKind::Query,
    }
}

fn delimiter(d: Option<wit_bulk::ColumnDelimiter>) -> Delimiter {
    use wit_bulk::ColumnDelimiter as D;
    match d {
        None | Some(D::Comma) => Delimiter::Comma,
        Some(D::Tab) => Delimiter::Tab,
        Some(D::Pipe) => Delimiter::Pipe,
        Some(D::Semicolon) => Delimiter::Semicolon,
        Some(D::Caret) => Delimiter::Caret,
        Some(D::Backquote) => Delimiter::Backquote,
    }
}

fn options(o: wit_bulk::IngestOptions) -> IngestOptions {
    use wit_bulk::IngestOperation as O;
    IngestOptions {
        sobject: o.sobject,
        operation: match o.operation {
            O::Insert => Operation::Insert,
            O::Update => Operation::Update,
            O::Upsert => Operation::Upsert,
            O::Delete => Operation::Delete,
            O::HardDelete => Operation::HardDelete,
        },
        external_id_field: o.external_id_field,
        delimiter: delimiter(o.column_delimiter),
        line_ending: match o.line_ending {
            Some(wit_bulk::LineEnding::Crlf) => LineEnding::Crlf,
            _ => LineEnding::Lf,
        },
        assignment_rule_id: o.assignment_rule_id,
    }
}

fn info_out(i: JobInfo) -> wit_bulk::JobInfo {
    use wit_bulk::JobState as S;
    wit_bulk::JobInfo {
        id: i.id,
        operation: i.operation,
        sobject: i.sobject,
        state: match i.state {
            JobState::Open => S::Open,
            JobState::UploadComplete => S::UploadComplete,
            JobState::InProgress => S::InProgress,
            JobState::JobComplete => S::JobComplete,
            JobState::Failed => S::Failed,
            JobState::Aborted => S::Aborted,
        },
        records_processed: i.records_processed,
        records_failed: i.records_failed,
        error_message: i.error_message,
        created_date: i.created_date,
    }
}

type Info = Result<wit_bulk::JobInfo, wit::Error>;

impl wit_bulk::Guest for super::Component {
    fn create_ingest_job(s: wit::Session, o: wit_bulk::IngestOptions) -> Info {
        with(s, |t, s| bulk::create_ingest_job(t, s, &options(o))).map(info_out)
    }

    fn upload_job_data(s: wit::Session, job_id: String, csv: String) -> Result<(), wit::Error> {
        with(s, |t, s| bulk::upload_job_data(t, s, &job_id, &csv))
    }

    fn close_job(s: wit::Session, job_id: String) -> Info {
        with(s, |t, s| bulk::close_job(t, s, &job_id)).map(info_out)
    }

    fn abort_job(s: wit::Session, k: wit_bulk::JobKind, job_id: String) -> Info {
        with(s, |t, s| bulk::abort_job(t, s, kind(k), &job_id)).map(info_out)
    }

    fn delete_job(s: wit::Session, k: wit_bulk::JobKind, job_id: String) -> Result<(), wit::Error> {
        with(s, |t, s| bulk::delete_job(t, s, kind(k), &job_id))
    }

    fn job_status(s: wit::Session, k: wit_bulk::JobKind, job_id: String) -> Info {
        with(s, |t, s| bulk::job_status(t, s, kind(k), &job_id)).map(info_out)
    }

    fn wait_for_job(s: wit::Session, k: wit_bulk::JobKind, job_id: String, wait_ms: u32) -> Info {
        with(s, |t, s| {
            bulk::wait_for_job(t, s, kind(k), &job_id, wait_ms)
        })
        .map(info_out)
    }

    fn ingest_results(
        s: wit::Session,
        job_id: String,
        which: wit_bulk::ResultSet,
    ) -> Result<String, wit::Error> {
        let which = match which {
            wit_bulk::ResultSet::Successful => ResultSet::Successful,
            wit_bulk::ResultSet::Failed => ResultSet::Failed,
            wit_bulk::ResultSet::Unprocessed => ResultSet::Unprocessed,
        };
        with(s, |t, s| bulk::ingest_results(t, s, &job_id, which))
    }

    fn create_query_job(
        s: wit::Session,
        soql: String,
        all: bool,
        d: Option<wit_bulk::ColumnDelimiter>,
    ) -> Info {
        with(s, |t, s| {
            bulk::create_query_job(t, s, &soql, all, delimiter(d))
        })
        .map(info_out)
    }

    fn query_results(
        s: wit::Session,
        job_id: String,
        locator: Option<String>,
        max_records: Option<u32>,
    ) -> Result<wit_bulk::ResultPage, wit::Error> {
        with(s, |t, s| {
            bulk::query_results(t, s, &job_id, locator.as_deref(), max_records)
        })
        .map(|p| wit_bulk::ResultPage {
            csv: p.csv,
            records: p.records,
            next_locator: p.next_locator,
        })
    }

    fn list_jobs(
        s: wit::Session,
        k: wit_bulk::JobKind,
        next_url: Option<String>,
    ) -> Result<wit_bulk::JobList, wit::Error> {
        with(s, |t, s| {
            bulk::list_jobs(t, s, kind(k), next_url.as_deref())
        })
        .map(|l| wit_bulk::JobList {
            jobs: l.jobs.into_iter().map(info_out).collect(),
            next_url: l.next_url,
        })
    }
}
