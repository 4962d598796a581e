//! A CSV file cut into parts for Bulk API 2.0 jobs: each part is the header
//! row plus whole rows, copied byte for byte, no larger than the limit, so
//! one part is one job's one upload. Only one part is in memory at a time.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// One job's upload.
#[derive(Debug)]
pub struct Part {
    /// The header row, then the rows.
    pub csv: Vec<u8>,
    /// Rows in it.
    pub rows: u64,
    /// The file's row number of its first row (1 = the row after the header).
    pub first_row: u64,
}

/// Reads `path` part by part.
pub struct Parts {
    records: csv::Reader<BufReader<File>>,
    raw: File,
    header: Vec<u8>,
    limit: usize,
    /// The byte offset and number of the next row not yet in a part.
    next: Option<(u64, u64)>,
    /// The file's length: where the last row ends.
    len: u64,
    record: csv::ByteRecord,
}

impl Parts {
    /// Opens `path`, a CSV with a header row separated by `delimiter`, to cut
    /// into parts of at most `limit` bytes.
    pub fn open(path: &Path, delimiter: u8, limit: usize) -> Result<Self, String> {
        let open = || File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        let raw = open()?;
        let len = raw.metadata().map_err(|e| e.to_string())?.len();
        let records = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::new(open()?));
        let mut parts = Self {
            records,
            raw,
            header: Vec::new(),
            limit,
            len,
            next: None,
            record: csv::ByteRecord::new(),
        };
        if parts.advance()?.is_none() {
            return Err(format!(
                "{} is empty; it needs a header row of field names",
                path.display()
            ));
        }
        parts.next = parts.advance()?;
        let header_end = match parts.next {
            Some((at, _)) => parts.row_start(at)?,
            None => len,
        };
        parts.header = vec![0; usize::try_from(header_end).map_err(|e| e.to_string())?];
        parts
            .raw
            .seek(SeekFrom::Start(0))
            .map_err(|e| e.to_string())?;
        parts
            .raw
            .read_exact(&mut parts.header)
            .map_err(|e| e.to_string())?;
        if parts.header.len() >= limit {
            return Err(format!(
                "the header row of {} alone is over {limit} bytes",
                path.display()
            ));
        }
        Ok(parts)
    }

    /// The header row as the file has it (line ending included).
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Where the row at `at` really begins: the reader counts the `\n` of a
    /// CRLF as the start of the next row, which then skips it.
    fn row_start(&mut self, at: u64) -> Result<u64, String> {
        let mut byte = [0u8];
        self.raw
            .seek(SeekFrom::Start(at))
            .map_err(|e| e.to_string())?;
        self.raw.read_exact(&mut byte).map_err(|e| e.to_string())?;
        Ok(if byte[0] == b'\n' { at + 1 } else { at })
    }

    /// Reads a row; its start offset (where the row itself begins, past the
    /// previous line ending, whatever it is) and row number.
    fn advance(&mut self) -> Result<Option<(u64, u64)>, String> {
        let row = self.records.position().record();
        match self.records.read_byte_record(&mut self.record) {
            Ok(true) => Ok(self.record.position().map(|p| (p.byte(), p.record()))),
            Ok(false) => Ok(None),
            Err(e) => Err(format!("row {row}: {e}")),
        }
    }

    /// The next part, or `None` at the end of the file.
    pub fn next_part(&mut self) -> Result<Option<Part>, String> {
        let Some((start, first_row)) = self.next else {
            return Ok(None);
        };
        let budget = (self.limit - self.header.len()) as u64;
        let mut rows = 0u64;
        let end = loop {
            rows += 1;
            self.next = self.advance()?;
            let end = self.next.map_or(self.len, |(at, _)| at);
            if rows == 1 && end - start > budget {
                return Err(format!(
                    "row {first_row} alone is larger than a part ({} bytes)",
                    self.limit
                ));
            }
            // Stop before the next row would overflow the part (its end as
            // read may stop short of a CRLF's `\n`: count one byte more).
            if self.next.is_none() || self.records.position().byte() + 1 - start > budget {
                break end;
            }
        };
        let end = match self.next {
            Some(_) => self.row_start(end)?,
            None => end,
        };
        let start = self.row_start(start)?;
        let mut csv = self.header.clone();
        let len = usize::try_from(end - start).map_err(|e| e.to_string())?;
        csv.resize(self.header.len() + len, 0);
        self.raw
            .seek(SeekFrom::Start(start))
            .map_err(|e| e.to_string())?;
        self.raw
            .read_exact(&mut csv[self.header.len()..])
            .map_err(|e| e.to_string())?;
        Ok(Some(Part {
            csv,
            rows,
            first_row,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn all(path: &Path, limit: usize) -> Vec<(String, u64, u64)> {
        let mut parts = Parts::open(path, b',', limit).unwrap();
        let mut out = Vec::new();
        while let Some(p) = parts.next_part().unwrap() {
            out.push((String::from_utf8(p.csv).unwrap(), p.rows, p.first_row));
        }
        out
    }

    #[test]
    fn parts_keep_rows_whole_and_byte_for_byte() {
        let text = "Name,Note\r\nA,\"one\ntwo\"\r\nB,\"say \"\"hi\"\"\"\r\nC,x\r\n";
        let f = file(text);
        assert_eq!(all(f.path(), 1 << 20), [(text.to_string(), 3, 1)]);
        let parts = all(f.path(), 30);
        assert_eq!(parts.len(), 3, "{parts:?}");
        for (csv, _, _) in &parts {
            assert!(
                csv.starts_with("Name,Note\r\n") && csv.len() <= 30,
                "{csv:?}"
            );
        }
        assert_eq!(parts[0].0, "Name,Note\r\nA,\"one\ntwo\"\r\n");
        assert_eq!((parts[1].2, parts[2].2), (2, 3));
        let rejoined: String = parts
            .iter()
            .map(|(c, _, _)| &c["Name,Note\r\n".len()..])
            .collect();
        assert_eq!(rejoined, &text["Name,Note\r\n".len()..]);
    }

    #[test]
    fn a_row_larger_than_a_part_or_an_empty_file_is_refused() {
        let f = file("Name\nthis row is far too long for the limit\nok\n");
        let mut parts = Parts::open(f.path(), b',', 20).unwrap();
        assert!(parts.next_part().unwrap_err().contains("row 1"));
        assert!(Parts::open(file("").path(), b',', 20).is_err());
        let f = file("Name\n");
        assert!(Parts::open(f.path(), b',', 20)
            .unwrap()
            .next_part()
            .unwrap()
            .is_none());
    }
}
