//! `sf-host bulk`: Bulk API 2.0 from the command line. `import` cuts a CSV
//! into parts (one job each, Salesforce's one upload per job), waits with
//! progress, and writes the failed rows with their errors to a file;
//! `export` streams a query job's pages into a file; `jobs` and `abort`.

mod parts;
mod progress;

use crate::cli::{BulkCommand, Cli, ImportArgs};
use parts::Parts;
use progress::Progress;
use salesforce_host::bulk::{
    ColumnDelimiter, IngestOperation, IngestOptions, JobInfo, JobKind, JobState, LineEnding,
    ResultSet,
};
use salesforce_host::{wit, Client, HostError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How long one wait call polls before it returns to update the progress.
const WAIT_SLICE_MS: u32 = 2_000;

pub async fn run(cli: &Cli, command: &BulkCommand) -> Result<(), HostError> {
    let mut client = crate::client(cli).await?;
    match command {
        BulkCommand::Import(args) => import(&mut client, args).await,
        BulkCommand::Export {
            soql,
            all,
            out,
            page_size,
        } => export(&mut client, soql, *all, out, *page_size).await,
        BulkCommand::Jobs => jobs(&mut client).await,
        BulkCommand::Abort { id } => abort(&mut client, id).await,
    }
}

fn usage(message: impl Into<String>) -> HostError {
    HostError::Usage(message.into())
}

fn delimiter_byte(d: ColumnDelimiter) -> u8 {
    match d {
        ColumnDelimiter::Comma => b',',
        ColumnDelimiter::Tab => b'\t',
        ColumnDelimiter::Pipe => b'|',
        ColumnDelimiter::Semicolon => b';',
        ColumnDelimiter::Caret => b'^',
        ColumnDelimiter::Backquote => b'`',
    }
}

/// One uploaded part and its job.
struct Loaded {
    job: JobInfo,
    rows: u64,
}

async fn import(client: &mut Client, args: &ImportArgs) -> Result<(), HostError> {
    let delimiter = args.delimiter.into();
    let mb = usize::try_from(args.part_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    let limit = args.part_bytes.unwrap_or(mb);
    let mut parts = Parts::open(&args.file, delimiter_byte(delimiter), limit).map_err(usage)?;
    let options = IngestOptions {
        sobject: args.object.clone(),
        operation: args.operation.into(),
        external_id_field: args.external_id.clone(),
        column_delimiter: Some(delimiter),
        line_ending: Some(match parts.header().ends_with(b"\r\n") {
            true => LineEnding::Crlf,
            false => LineEnding::Lf,
        }),
        assignment_rule_id: None,
    };
    let progress = Progress::start();
    let mut loaded: Vec<Loaded> = Vec::new();
    while let Some(part) = parts.next_part().map_err(usage)? {
        let uploaded: u64 = loaded.iter().map(|l| l.rows).sum();
        let job = upload(client, &options, &part.csv)
            .await
            .map_err(|e| not_uploaded(e, uploaded, part.first_row, &loaded))?;
        loaded.push(Loaded {
            job,
            rows: part.rows,
        });
        progress.uploaded(uploaded + part.rows, loaded.len());
    }
    let finished = wait_all(client, &mut loaded, &progress).await?;
    progress.finish();
    report(client, args, &finished).await
}

/// Creates a job for one part, uploads it and closes it; a failed upload
/// aborts the job, so nothing half-uploaded is processed.
async fn upload(
    client: &mut Client,
    options: &IngestOptions,
    csv: &[u8],
) -> Result<JobInfo, HostError> {
    let text = std::str::from_utf8(csv).map_err(|e| {
        usage(format!(
            "the CSV is not UTF-8 ({e}); Salesforce takes UTF-8 only"
        ))
    })?;
    let job = client.create_ingest_job(options).await?;
    if let Err(e) = client.upload_job_data(&job.id, text).await {
        let _ = client.abort_job(JobKind::Ingest, &job.id).await;
        return Err(e);
    }
    client.close_job(&job.id).await
}

/// A failed upload, saying exactly what was and was not sent.
fn not_uploaded(e: HostError, uploaded: u64, first_row: u64, loaded: &[Loaded]) -> HostError {
    let jobs: Vec<&str> = loaded.iter().map(|l| l.job.id.as_str()).collect();
    let before = match jobs.is_empty() {
        true => "nothing was uploaded".to_string(),
        false => format!(
            "rows 1 to {uploaded} were uploaded in jobs {} and are being processed",
            jobs.join(", ")
        ),
    };
    HostError::Usage(format!(
        "{e}; {before}; rows from {first_row} on were not uploaded (re-run with only those rows)"
    ))
}

/// Waits for every job to finish, updating the progress between waits.
async fn wait_all(
    client: &mut Client,
    loaded: &mut [Loaded],
    progress: &Progress,
) -> Result<Vec<JobInfo>, HostError> {
    loop {
        for l in loaded.iter_mut().filter(|l| !l.job.state.is_final()) {
            l.job = match client
                .wait_for_job(JobKind::Ingest, &l.job.id, WAIT_SLICE_MS)
                .await
            {
                Ok(info) => info,
                // A failed job: its rows are reported as unprocessed below.
                Err(HostError::Component(wit::Error::ApiError(_))) => {
                    client.job_status(JobKind::Ingest, &l.job.id).await?
                }
                Err(e) => return Err(e),
            };
        }
        let jobs: Vec<&JobInfo> = loaded.iter().map(|l| &l.job).collect();
        progress.processing(&jobs);
        if jobs.iter().all(|j| j.state.is_final()) {
            return Ok(loaded.iter().map(|l| l.job.clone()).collect());
        }
    }
}

/// The generated `JobState` has no methods of its own.
trait Final {
    /// True once the job will not change any more.
    fn is_final(&self) -> bool;
}

impl Final for JobState {
    fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

/// The summary, and the failed and unprocessed rows in files beside the
/// input; exit code 4 when any row failed.
async fn report(client: &mut Client, args: &ImportArgs, jobs: &[JobInfo]) -> Result<(), HostError> {
    let processed: u64 = jobs.iter().map(|j| j.records_processed).sum();
    let failed: u64 = jobs.iter().map(|j| j.records_failed).sum();
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    println!(
        "bulk {} {}: {} job(s) {}, {processed} rows processed, {failed} failed",
        args.operation.name(),
        args.object,
        jobs.len(),
        ids.join(" ")
    );
    let first = ids.first().copied().unwrap_or("none");
    let failures = collect(
        client,
        jobs,
        ResultSet::Failed,
        &beside(&args.file, "failed", first),
    )
    .await?;
    let unfinished: Vec<JobInfo> = jobs
        .iter()
        .filter(|j| j.state != JobState::JobComplete)
        .cloned()
        .collect();
    let unprocessed = collect(
        client,
        &unfinished,
        ResultSet::Unprocessed,
        &beside(&args.file, "unprocessed", first),
    )
    .await?;
    if let Some((path, rows)) = &failures {
        println!(
            "{rows} failed rows, each with its sf__Error: {}",
            path.display()
        );
    }
    if let Some((path, rows)) = &unprocessed {
        println!(
            "{rows} rows never processed (a job failed or was aborted): {}",
            path.display()
        );
    }
    for job in jobs.iter().filter(|j| j.state == JobState::Failed) {
        println!(
            "job {} failed: {}",
            job.id,
            job.error_message.as_deref().unwrap_or("no reason given")
        );
    }
    match (failures, unprocessed) {
        (None, None) => Ok(()),
        _ => Err(rows_failed(failed)),
    }
}

fn rows_failed(failed: u64) -> HostError {
    HostError::Component(wit::Error::ApiError(wit::ApiFailure {
        status: 200,
        errors: vec![wit::ApiErrorItem {
            error_code: "ROWS_NOT_WRITTEN".into(),
            message: format!(
                "{failed} rows failed or were not processed; see the files named above"
            ),
            fields: vec![],
        }],
        limit_info: None,
    }))
}

/// `accounts.csv` → `accounts.failed-750….csv` in the same folder.
fn beside(input: &Path, what: &str, job: &str) -> PathBuf {
    let stem = input.file_stem().and_then(|s| s.to_str()).unwrap_or("bulk");
    input.with_file_name(format!("{stem}.{what}-{job}.csv"))
}

/// One result set of every job into `path` (one header row); `None` when
/// no job has a row of it.
async fn collect(
    client: &mut Client,
    jobs: &[JobInfo],
    which: ResultSet,
    path: &Path,
) -> Result<Option<(PathBuf, u64)>, HostError> {
    let mut file: Option<std::fs::File> = None;
    let mut rows = 0u64;
    for job in jobs {
        let csv = client.ingest_results(&job.id, which).await?;
        let Some((header, body)) = csv.split_once('\n') else {
            continue;
        };
        if body.trim().is_empty() {
            continue;
        }
        let out = match &mut file {
            Some(f) => f,
            None => {
                let mut f = std::fs::File::create(path)
                    .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
                writeln!(f, "{header}").map_err(|e| usage(e.to_string()))?;
                file.insert(f)
            }
        };
        rows += csv::Reader::from_reader(csv.as_bytes())
            .into_byte_records()
            .count() as u64;
        out.write_all(body.as_bytes())
            .map_err(|e| usage(e.to_string()))?;
    }
    Ok(file.map(|_| (path.to_path_buf(), rows)))
}

async fn export(
    client: &mut Client,
    soql: &str,
    all: bool,
    out: &Path,
    page_size: u32,
) -> Result<(), HostError> {
    let progress = Progress::start();
    let mut job = client.create_query_job(soql, all, None).await?;
    while !job.state.is_final() {
        job = client
            .wait_for_job(JobKind::Query, &job.id, WAIT_SLICE_MS)
            .await?;
        progress.processing(&[&job]);
    }
    if job.state == JobState::Aborted {
        return Err(usage(format!("query job {} was aborted", job.id)));
    }
    let partial = out.with_extension("partial");
    let mut file = std::fs::File::create(&partial)
        .map(std::io::BufWriter::new)
        .map_err(|e| usage(format!("cannot write {}: {e}", partial.display())))?;
    let mut written = 0u64;
    let mut count = |rows: u64| {
        written = rows;
        progress.exported(rows);
    };
    let saved = client
        .save_query_results(&job.id, page_size, &mut file, &mut count)
        .await;
    let written = saved.map_err(|e| {
        usage(format!(
            "{e}; {written} rows were written to {} before it",
            partial.display()
        ))
    })?;
    drop(file);
    std::fs::rename(&partial, out).map_err(|e| {
        usage(format!(
            "cannot move {} to {}: {e}",
            partial.display(),
            out.display()
        ))
    })?;
    progress.finish();
    println!(
        "bulk export: job {}, {written} rows written to {}",
        job.id,
        out.display()
    );
    Ok(())
}

async fn jobs(client: &mut Client) -> Result<(), HostError> {
    println!(
        "{:<20} {:<10} {:<12} {:<16} {:>10} {:>8}",
        "ID", "KIND", "OPERATION", "STATE", "PROCESSED", "FAILED"
    );
    for kind in [JobKind::Ingest, JobKind::Query] {
        let mut next: Option<String> = None;
        loop {
            let page = client.list_jobs(kind, next.as_deref()).await?;
            for j in &page.jobs {
                println!(
                    "{:<20} {:<10} {:<12} {:<16} {:>10} {:>8}",
                    j.id,
                    format!("{kind:?}").to_lowercase(),
                    j.operation,
                    format!("{:?}", j.state),
                    j.records_processed,
                    j.records_failed
                );
            }
            match page.next_url {
                Some(url) => next = Some(url),
                None => break,
            }
        }
    }
    Ok(())
}

/// Aborts the job, whichever kind it is.
async fn abort(client: &mut Client, id: &str) -> Result<(), HostError> {
    let job = match client.abort_job(JobKind::Ingest, id).await {
        Err(HostError::Component(wit::Error::ApiError(e))) if e.status == 404 => {
            client.abort_job(JobKind::Query, id).await?
        }
        other => other?,
    };
    println!("job {} is {:?}", job.id, job.state);
    Ok(())
}

impl From<crate::cli::Delimiter> for ColumnDelimiter {
    fn from(d: crate::cli::Delimiter) -> Self {
        use crate::cli::Delimiter as D;
        match d {
            D::Comma => Self::Comma,
            D::Tab => Self::Tab,
            D::Pipe => Self::Pipe,
            D::Semicolon => Self::Semicolon,
            D::Caret => Self::Caret,
            D::Backquote => Self::Backquote,
        }
    }
}

impl From<crate::cli::BulkOperation> for IngestOperation {
    fn from(o: crate::cli::BulkOperation) -> Self {
        use crate::cli::BulkOperation as O;
        match o {
            O::Insert => Self::Insert,
            O::Update => Self::Update,
            O::Upsert => Self::Upsert,
            O::Delete => Self::Delete,
            O::HardDelete => Self::HardDelete,
        }
    }
}
