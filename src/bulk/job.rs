//! A Bulk API 2.0 job as Salesforce describes it (`JobInfo`), and the
//! options that create one.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{ApiErrorItem, Error};
use serde_json::{json, Value};

/// Ingest jobs (`/jobs/ingest`) or query jobs (`/jobs/query`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Loads CSV into an object.
    Ingest,
    /// Exports a SOQL query as CSV.
    Query,
}

impl JobKind {
    /// The path segment under `/jobs/`.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Query => "query",
        }
    }
}

/// What an ingest job does to each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Create records.
    Insert,
    /// Update records by `Id`.
    Update,
    /// Insert or update by an external id field.
    Upsert,
    /// Delete records by `Id` (to the Recycle Bin).
    Delete,
    /// Delete bypassing the Recycle Bin (needs "Bulk API Hard Delete").
    HardDelete,
}

impl Operation {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Upsert => "upsert",
            Self::Delete => "delete",
            Self::HardDelete => "hardDelete",
        }
    }
}

/// The CSV's field separator (`columnDelimiter`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Delimiter {
    /// `,` (Salesforce's default)
    #[default]
    Comma,
    /// a tab
    Tab,
    /// `|`
    Pipe,
    /// `;`
    Semicolon,
    /// `^`
    Caret,
    /// `` ` ``
    Backquote,
}

impl Delimiter {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comma => "COMMA",
            Self::Tab => "TAB",
            Self::Pipe => "PIPE",
            Self::Semicolon => "SEMICOLON",
            Self::Caret => "CARET",
            Self::Backquote => "BACKQUOTE",
        }
    }
}

/// The CSV's line ending (`lineEnding`); the file must match it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n` (Salesforce's default)
    #[default]
    Lf,
    /// `\r\n`
    Crlf,
}

/// How to create an ingest job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOptions {
    /// The object every row is for, e.g. `Account`.
    pub sobject: String,
    /// What to do with each row.
    pub operation: Operation,
    /// The external id field of an upsert (also a CSV column).
    pub external_id_field: Option<String>,
    /// The field separator.
    pub delimiter: Delimiter,
    /// The line ending.
    pub line_ending: LineEnding,
    /// A Case or Lead assignment rule to run.
    pub assignment_rule_id: Option<String>,
}

impl IngestOptions {
    /// The create request's JSON body, after checking the options.
    pub fn body(&self) -> Result<Value, Error> {
        let sobject = crate::records::api_name("sobject", &self.sobject)?;
        let mut body = json!({
            "object": sobject,
            "operation": self.operation.as_str(),
            "contentType": "CSV",
            "columnDelimiter": self.delimiter.as_str(),
            "lineEnding": match self.line_ending { LineEnding::Lf => "LF", LineEnding::Crlf => "CRLF" },
        });
        match (self.operation, self.external_id_field.as_deref()) {
            (Operation::Upsert, Some(f)) => {
                body["externalIdFieldName"] =
                    crate::records::api_name("external-id-field", f)?.into();
            }
            (Operation::Upsert, None) => {
                return Err(Error::request(
                    "external-id-field",
                    "an upsert job needs the external id field that matches rows (e.g. ExtId__c)",
                ))
            }
            (_, Some(_)) => {
                return Err(Error::request(
                    "external-id-field",
                    "only an upsert job takes an external id field",
                ))
            }
            (_, None) => {}
        }
        if let Some(rule) = &self.assignment_rule_id {
            body["assignmentRuleId"] = crate::records::record_id(rule)?.into();
        }
        Ok(body)
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Accepting its one upload (ingest only).
    Open,
    /// Queued.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Processed; rows may still have failed.
    JobComplete,
    /// Failed as a whole (`error_message` says why); rows processed before
    /// are not rolled back.
    Failed,
    /// Cancelled by a client.
    Aborted,
}

impl JobState {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Open" => Self::Open,
            "UploadComplete" => Self::UploadComplete,
            "InProgress" => Self::InProgress,
            "JobComplete" => Self::JobComplete,
            "Failed" => Self::Failed,
            "Aborted" => Self::Aborted,
            _ => return None,
        })
    }

    /// True once the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }
}

/// What Salesforce says of a job (`JobInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInfo {
    /// The job id (`750...`).
    pub id: String,
    /// `insert`, `update`, `upsert`, `delete`, `hardDelete`, `query` or
    /// `queryAll`.
    pub operation: String,
    /// The object.
    pub sobject: Option<String>,
    /// Where it is in its life.
    pub state: JobState,
    /// Rows processed so far (failed ones included).
    pub records_processed: u64,
    /// Rows that failed so far (ingest).
    pub records_failed: u64,
    /// Why a failed job failed, e.g. `InvalidBatch : Field name not found : X`.
    pub error_message: Option<String>,
    /// When it was created, as Salesforce writes it.
    pub created_date: Option<String>,
}

impl JobInfo {
    /// A `JobInfo` object; anything else is `unexpected-response`.
    pub fn from_json(v: &Value) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::unexpected(
                200,
                Some("application/json"),
                format!("a bulk job: {why}"),
                v.to_string().as_bytes(),
            )
        };
        let text = |k: &str| v[k].as_str().map(str::to_string);
        let state = v["state"].as_str().ok_or_else(|| bad("no state"))?;
        Ok(Self {
            id: text("id").ok_or_else(|| bad("no id"))?,
            operation: text("operation").unwrap_or_default(),
            sobject: text("object"),
            state: JobState::parse(state)
                .ok_or_else(|| bad(&format!("unknown state `{state}`")))?,
            records_processed: v["numberRecordsProcessed"].as_u64().unwrap_or(0),
            records_failed: v["numberRecordsFailed"].as_u64().unwrap_or(0),
            error_message: text("errorMessage"),
            created_date: text("createdDate"),
        })
    }

    /// A failed job as the typed error it is: the code before ` : ` in its
    /// `errorMessage` (`InvalidBatch : Field name not found : X`).
    pub fn failure(&self) -> Option<Error> {
        if self.state != JobState::Failed {
            return None;
        }
        let message = self
            .error_message
            .clone()
            .unwrap_or_else(|| "the job failed".into());
        let (code, text) = match message.split_once(" : ") {
            Some((code, rest)) if !code.contains(' ') => (code.to_string(), rest.to_string()),
            _ => ("JobFailed".to_string(), message.clone()),
        };
        Some(Error::Api {
            status: 200,
            errors: vec![ApiErrorItem {
                error_code: code,
                message: format!("job {}: {text}", self.id),
                fields: Vec::new(),
            }],
            limit_info: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(operation: Operation, external: Option<&str>) -> IngestOptions {
        IngestOptions {
            sobject: "Account".into(),
            operation,
            external_id_field: external.map(str::to_string),
            delimiter: Delimiter::Tab,
            line_ending: LineEnding::Crlf,
            assignment_rule_id: None,
        }
    }

    #[test]
    fn the_create_body_is_salesforces() {
        let body = options(Operation::Upsert, Some("ExtId__c")).body().unwrap();
        assert_eq!(
            body,
            json!({"object": "Account", "operation": "upsert", "contentType": "CSV",
                   "columnDelimiter": "TAB", "lineEnding": "CRLF", "externalIdFieldName": "ExtId__c"})
        );
        assert_eq!(
            options(Operation::HardDelete, None).body().unwrap()["operation"],
            "hardDelete"
        );
    }

    #[test]
    fn bad_options_name_the_argument() {
        for (o, field) in [
            (options(Operation::Upsert, None), "external-id-field"),
            (
                options(Operation::Insert, Some("ExtId__c")),
                "external-id-field",
            ),
            (
                IngestOptions {
                    sobject: "Acc ount".into(),
                    ..options(Operation::Insert, None)
                },
                "sobject",
            ),
        ] {
            match o.body() {
                Err(Error::InvalidRequest { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn job_info_parses_and_a_failed_job_is_a_typed_error() {
        let v = json!({"id": "7500000000000AAAAA", "operation": "insert", "object": "Account",
            "state": "Failed", "numberRecordsProcessed": 0, "numberRecordsFailed": 0,
            "errorMessage": "InvalidBatch : Field name not found : Nope__c", "apiVersion": 66.0});
        let info = JobInfo::from_json(&v).unwrap();
        assert!(info.state.is_final());
        match info.failure() {
            Some(Error::Api { errors, .. }) => {
                assert_eq!(errors[0].error_code, "InvalidBatch");
                assert!(errors[0].message.contains("Nope__c"));
            }
            other => panic!("{other:?}"),
        }
        assert!(JobInfo::from_json(&json!({"id": "x", "state": "Sleeping"})).is_err());
    }
}
