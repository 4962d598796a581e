//! Files through the component: a download streamed into any writer and an
//! upload streamed from any reader, a piece at a time, in one instance that
//! lives as long as the transfer. Memory stays at one piece whatever the
//! file's size.

use super::Client;
use crate::bindings::files::{UploadTarget, Uploaded};
use crate::bindings::wit;
use crate::connector::Instance;
use crate::error::HostError;
use std::io::{Read, Seek, SeekFrom, Write};
use wasmtime::component::ResourceAny;

/// Bytes per piece: large enough that the cost of a call vanishes beside
/// the bytes, small enough that memory stays flat.
const PIECE: u32 = 256 * 1024;

/// A record's file field, e.g. ContentVersion `068...` `VersionData`.
#[derive(Clone, Copy, Debug)]
pub struct FileField<'a> {
    pub sobject: &'a str,
    pub id: &'a str,
    pub field: &'a str,
}

/// What a download wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Downloaded {
    /// Bytes written to the sink.
    pub bytes: u64,
    /// The file's type as Salesforce sent it.
    pub content_type: Option<String>,
}

/// Told after each piece: bytes so far, and the total when known.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, Option<u64>) + Send);

fn io(doing: &str, e: std::io::Error) -> HostError {
    HostError::Io(format!("{doing}: {e}"))
}

impl Client {
    /// Downloads a file field into `sink`. A session that expired before
    /// the first byte is renewed once; once bytes are written, a failure
    /// is returned as is (the sink then holds a partial file: discard it).
    pub async fn download(
        &mut self,
        file: FileField<'_>,
        sink: &mut (dyn Write + Send),
        progress: Progress<'_>,
    ) -> Result<Downloaded, HostError> {
        let mut renewed = false;
        loop {
            let session = self.session().await?.clone();
            let mut instance = self.instance().await?;
            let (opened,): (Result<ResourceAny, wit::Error>,) = instance
                .call(
                    "open-download",
                    (&session, file.sobject, file.id, file.field),
                )
                .await?;
            match opened {
                Ok(download) => {
                    let outcome = read_into(&mut instance, download, sink, progress).await;
                    instance.drop_resource(download).await?;
                    return outcome;
                }
                Err(wit::Error::SessionExpired(_)) if !renewed && self.can_reauthenticate() => {
                    renewed = true;
                    drop(instance);
                    self.renew().await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Uploads `size` bytes from `source` (read from its start) as one
    /// multipart request. A session that expired is renewed once and the
    /// upload starts over from the first byte; nothing is stored by a
    /// request that did not complete.
    pub async fn upload<R: Read + Seek + Send>(
        &mut self,
        target: &UploadTarget,
        source: &mut R,
        progress: Progress<'_>,
    ) -> Result<Uploaded, HostError> {
        let mut renewed = false;
        loop {
            source
                .seek(SeekFrom::Start(0))
                .map_err(|e| io("rewinding the file", e))?;
            let session = self.session().await?.clone();
            let mut instance = self.instance().await?;
            let (started,): (Result<ResourceAny, wit::Error>,) =
                instance.call("start-upload", (&session, target)).await?;
            let outcome = match started {
                Ok(upload) => {
                    let outcome = write_from(&mut instance, upload, source, progress).await;
                    instance.drop_resource(upload).await?;
                    outcome
                }
                Err(e) => Err(e.into()),
            };
            match outcome {
                Err(HostError::Component(wit::Error::SessionExpired(_)))
                    if !renewed && self.can_reauthenticate() =>
                {
                    renewed = true;
                    drop(instance);
                    self.renew().await?;
                }
                other => return other,
            }
        }
    }
}

async fn read_into(
    instance: &mut Instance<'_>,
    download: ResourceAny,
    sink: &mut (dyn Write + Send),
    progress: Progress<'_>,
) -> Result<Downloaded, HostError> {
    let (content_type,): (Option<String>,) = instance
        .call("[method]download.content-type", (download,))
        .await?;
    let (size,): (Option<u64>,) = instance.call("[method]download.size", (download,)).await?;
    let mut bytes = 0u64;
    loop {
        let (piece,): (Result<Option<Vec<u8>>, wit::Error>,) = instance
            .call("[method]download.read", (download, PIECE))
            .await?;
        let Some(piece) = piece? else { break };
        sink.write_all(&piece)
            .map_err(|e| io(&format!("writing the file after {bytes} bytes"), e))?;
        bytes += piece.len() as u64;
        progress(bytes, size);
    }
    sink.flush().map_err(|e| io("writing the file", e))?;
    Ok(Downloaded {
        bytes,
        content_type,
    })
}

async fn write_from<R: Read>(
    instance: &mut Instance<'_>,
    upload: ResourceAny,
    source: &mut R,
    progress: Progress<'_>,
) -> Result<Uploaded, HostError> {
    let mut buf = vec![0u8; PIECE as usize];
    let mut sent = 0u64;
    loop {
        let n = read_piece(source, &mut buf)
            .map_err(|e| io(&format!("reading the file after {sent} bytes"), e))?;
        if n == 0 {
            break;
        }
        let (written,): (Result<(), wit::Error>,) = instance
            .call("[method]upload.write", (upload, &buf[..n]))
            .await?;
        written?;
        sent += n as u64;
        progress(sent, None);
    }
    let (finished,): (Result<Uploaded, wit::Error>,) =
        instance.call("[method]upload.finish", (upload,)).await?;
    Ok(finished?)
}

/// Fills `buf` as far as the source allows: a short read is not the end.
fn read_piece<R: Read>(source: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
