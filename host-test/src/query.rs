//! `query`: every page of a SOQL query, up to `--max` records, as JSON,
//! NDJSON (streamed page by page) or CSV.

use crate::cli::{Cli, Format};
use crate::output;
use salesforce_host::{ops, wit, HostError};
use serde_json::Value;
use std::collections::HashSet;
use std::io::{IsTerminal, Write};

pub async fn run(
    cli: &Cli,
    soql: &str,
    all: bool,
    format: Format,
    max: Option<u64>,
) -> Result<(), HostError> {
    let mut client = crate::client(cli).await?;
    let options = ops::QueryOptions {
        include_deleted: all,
        ..salesforce_host::PLAIN_QUERY
    };
    let mut page = client.query(soql, options).await?;
    let mut fetch = Fetch::new(format, max, page.total_size);
    let mut seen = HashSet::new();
    while fetch.take(&page)? {
        match page.next_records_url.take() {
            // Pages that lead back to one already fetched would loop forever.
            Some(next) if !seen.insert(next.clone()) => {
                return Err(unexpected(
                    "a nextRecordsUrl leads back to a page already fetched: the pages form a loop",
                ))
            }
            Some(next) => page = client.query_more(&next, options).await?,
            None => break,
        }
    }
    fetch.finish();
    Ok(())
}

/// The records fetched so far, and where they go.
struct Fetch {
    format: Format,
    max: usize,
    total: u64,
    fetched: usize,
    truncated: bool,
    /// JSON and CSV need every record before printing; NDJSON streams.
    records: Vec<Value>,
    progress: bool,
}

impl Fetch {
    fn new(format: Format, max: Option<u64>, total: u64) -> Self {
        let max = max.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        Fetch {
            format,
            max,
            total,
            fetched: 0,
            truncated: false,
            records: Vec::new(),
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// Takes a page's records up to `--max`; whether to fetch the next page.
    fn take(&mut self, page: &ops::QueryPage) -> Result<bool, HostError> {
        let mut batch: Vec<Value> = serde_json::from_str(&page.records)
            .map_err(|_| unexpected("a query page is not JSON"))?;
        let room = self.max.saturating_sub(self.fetched);
        self.truncated =
            batch.len() > room || (batch.len() == room && page.next_records_url.is_some());
        batch.truncate(room);
        self.fetched += batch.len();
        if self.format == Format::Ndjson {
            let mut stdout = std::io::stdout().lock();
            for r in &batch {
                let _ = writeln!(stdout, "{r}");
            }
        } else {
            self.records.extend(batch);
        }
        if self.progress {
            eprint!("\r{} / {} records", self.fetched, self.total);
        }
        Ok(!self.truncated)
    }

    /// Prints what JSON and CSV kept back, and says whether `--max` cut it short.
    fn finish(self) {
        if self.progress {
            eprintln!();
        }
        if self.truncated {
            eprintln!(
                "truncated: stopped at --max {} of {} records",
                self.fetched, self.total
            );
        }
        let mut stdout = std::io::stdout().lock();
        match self.format {
            Format::Ndjson => {}
            Format::Json => {
                let v = serde_json::json!({"totalSize": self.total, "done": !self.truncated, "truncated": self.truncated, "records": self.records});
                let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
                let _ = writeln!(stdout, "{pretty}");
            }
            Format::Csv => {
                let _ = stdout.write_all(output::csv(&self.records).as_bytes());
            }
        }
    }
}

fn unexpected(reason: &str) -> HostError {
    HostError::Component(wit::Error::UnexpectedResponse(wit::Unexpected {
        status: 200,
        content_type: None,
        reason: reason.into(),
        excerpt: String::new(),
    }))
}
