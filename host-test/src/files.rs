//! `sf-host download` and `sf-host upload`: a record's file to or from a
//! local file, streamed a piece at a time with a byte count on a terminal.

use crate::cli::{Cli, DownloadArgs, UploadArgs};
use indicatif::{ProgressBar, ProgressStyle};
use salesforce_host::files::UploadTarget;
use salesforce_host::{FileField, HostError};
use std::io::IsTerminal;
use std::path::Path;

/// A byte counter on stderr when it is a terminal; nothing when piped.
fn bar(total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total.unwrap_or(0));
    let template = "[{elapsed}] {bytes}/{total_bytes} {bytes_per_sec}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn io(doing: String) -> impl FnOnce(std::io::Error) -> HostError {
    move |e| HostError::Io(format!("{doing}: {e}"))
}

/// The file field an object keeps its file in.
fn default_field(sobject: &str) -> &'static str {
    if sobject.eq_ignore_ascii_case("ContentVersion") {
        "VersionData"
    } else {
        "Body"
    }
}

pub async fn download(cli: &Cli, args: &DownloadArgs) -> Result<(), HostError> {
    let mut client = crate::client(cli).await?;
    let field = args
        .field
        .as_deref()
        .unwrap_or_else(|| default_field(&args.sobject));
    let partial = args.out.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .map_err(io(format!("cannot write {}", partial.display())))?;
    let mut sink = std::io::BufWriter::new(file);
    let bar = bar(None);
    let mut progress = |bytes: u64, total: Option<u64>| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(bytes);
    };
    let file_field = FileField {
        sobject: &args.sobject,
        id: &args.id,
        field,
    };
    let outcome = client.download(file_field, &mut sink, &mut progress).await;
    bar.finish_and_clear();
    drop(sink);
    let downloaded = match outcome {
        Ok(d) => d,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &args.out)
        .map_err(io(format!("cannot rename {}", partial.display())))?;
    let kind = downloaded.content_type.as_deref().unwrap_or("unknown type");
    eprintln!(
        "wrote {} bytes ({kind}) to {}",
        downloaded.bytes,
        args.out.display()
    );
    Ok(())
}

/// The type of a file by its extension; octet-stream when unknown.
fn content_type_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// The record's fields: `--data`, with a new ContentVersion's
/// `PathOnClient` and `Title` defaulting to the file's name.
fn fields(args: &UploadArgs, name: &str) -> Result<String, HostError> {
    let data = match &args.data {
        Some(d) => crate::commands::read_data(d)?,
        None => "{}".into(),
    };
    let mut fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&data)
        .map_err(|e| HostError::Usage(format!("--data must be a JSON object: {e}")))?;
    if args.id.is_none() && args.object.eq_ignore_ascii_case("ContentVersion") {
        for key in ["PathOnClient", "Title"] {
            fields
                .entry(key)
                .or_insert_with(|| serde_json::Value::String(name.into()));
        }
    }
    Ok(serde_json::Value::Object(fields).to_string())
}

pub async fn upload(cli: &Cli, args: &UploadArgs) -> Result<(), HostError> {
    let mut file = std::fs::File::open(&args.file)
        .map_err(io(format!("cannot read {}", args.file.display())))?;
    let size = file
        .metadata()
        .map_err(io(format!("cannot read {}", args.file.display())))?
        .len();
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| HostError::Usage("the file needs a UTF-8 name".into()))?
        .to_string();
    let target = UploadTarget {
        sobject: args.object.clone(),
        id: args.id.clone(),
        fields_json: fields(args, &name)?,
        content_type: Some(
            args.content_type
                .clone()
                .unwrap_or_else(|| content_type_of(&args.file).into()),
        ),
        file_name: name,
        size,
    };
    let mut client = crate::client(cli).await?;
    let bar = bar(Some(size));
    let mut progress = |bytes: u64, _: Option<u64>| bar.set_position(bytes);
    let outcome = client.upload(&target, &mut file, &mut progress).await;
    bar.finish_and_clear();
    let uploaded = outcome?;
    eprintln!(
        "uploaded {} bytes as {} {}",
        uploaded.bytes, args.object, uploaded.id
    );
    println!("{}", uploaded.id);
    Ok(())
}
