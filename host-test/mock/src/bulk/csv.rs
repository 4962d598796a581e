//! Salesforce's CSV dialect [S-CSV][S-SAMPLES]: RFC 4180 quoting (a quote
//! inside a value doubled, line breaks allowed inside quotes), the job's
//! `columnDelimiter` and `lineEnding`, UTF-8 only, values never trimmed.
//! Reading and writing go through the `csv` crate.

use ::csv::{QuoteStyle, ReaderBuilder, StringRecord, Terminator, WriterBuilder};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Delimiter {
    Comma,
    Tab,
    Pipe,
    Semicolon,
    Caret,
    Backquote,
}

impl Delimiter {
    /// The six values of `columnDelimiter` [S-CREATE].
    const ALL: [(Delimiter, &'static str, u8); 6] = [
        (Delimiter::Comma, "COMMA", b','),
        (Delimiter::Tab, "TAB", b'\t'),
        (Delimiter::Pipe, "PIPE", b'|'),
        (Delimiter::Semicolon, "SEMICOLON", b';'),
        (Delimiter::Caret, "CARET", b'^'),
        (Delimiter::Backquote, "BACKQUOTE", b'`'),
    ];

    pub(crate) fn parse(s: &str) -> Option<Delimiter> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == s)
            .map(|(d, _, _)| *d)
    }

    pub(crate) fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(d, _, _)| *d == self)
            .map_or("COMMA", |e| e.1)
    }

    fn byte(self) -> u8 {
        Self::ALL
            .iter()
            .find(|(d, _, _)| *d == self)
            .map_or(b',', |e| e.2)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum LineEnding {
    Lf,
    Crlf,
}

impl LineEnding {
    pub(crate) fn parse(s: &str) -> Option<LineEnding> {
        match s {
            "LF" => Some(LineEnding::Lf),
            "CRLF" => Some(LineEnding::Crlf),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "LF",
            LineEnding::Crlf => "CRLF",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    pub delimiter: Delimiter,
    pub line_ending: LineEnding,
}

/// A parsed upload: its header as written and its rows.
pub(crate) struct Parsed {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Dialect {
    /// Parse an upload, or say why the job fails, in the words of a
    /// failed job's `errorMessage` ("Code : text" [S-AMP]).
    pub(crate) fn read(&self, data: &[u8]) -> Result<Parsed, String> {
        let text = std::str::from_utf8(data)
            // Unverified wording: Salesforce takes UTF-8 only [S-CSV].
            .map_err(|_| "InvalidBatch : The data is not valid UTF-8".to_string())?;
        self.check_line_endings(text)?;
        let mut reader = ReaderBuilder::new()
            .delimiter(self.delimiter.byte())
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(h)) => fields(&h),
            Some(Err(e)) => return Err(format!("InvalidBatch : Failed to parse CSV: {e}")),
            None => {
                return Ok(Parsed {
                    header: Vec::new(),
                    rows: Vec::new(),
                })
            }
        };
        let mut rows = Vec::new();
        for (n, record) in records.enumerate() {
            let record = record.map_err(|e| format!("InvalidBatch : Failed to parse CSV: {e}"))?;
            if record.len() != header.len() {
                // Unverified wording; a ragged row is a client error either way.
                return Err(format!(
                    "ClientInputError : Row {} has {} columns, the header has {}",
                    n + 1,
                    record.len(),
                    header.len()
                ));
            }
            rows.push(fields(&record));
        }
        Ok(Parsed { header, rows })
    }

    /// Every record must end as declared: "must match the file" [S-CREATE].
    /// Line breaks inside quoted values are data and may be either.
    fn check_line_endings(&self, text: &str) -> Result<(), String> {
        let bytes = text.as_bytes();
        let mut quoted = false;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    let crlf = i > 0 && bytes[i - 1] == b'\r';
                    if crlf != (self.line_ending == LineEnding::Crlf) {
                        return Err(format!(
                            "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {}",
                            self.line_ending.as_str()
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Write rows in this dialect; `header` is written as given (callers
    /// quote what Salesforce quotes), every value is quoted [S-GUIDE66].
    pub(crate) fn write(&self, header: &str, rows: &[Vec<String>]) -> Vec<u8> {
        let mut out = header.as_bytes().to_vec();
        out.extend_from_slice(self.terminator_bytes());
        let mut w = WriterBuilder::new()
            .delimiter(self.delimiter.byte())
            .quote_style(QuoteStyle::Always)
            .terminator(self.terminator())
            .from_writer(out);
        for row in rows {
            let _ = w.write_record(row);
        }
        w.into_inner().unwrap_or_default()
    }

    /// One header line from names: `quoted` ones always in quotes, the
    /// rest only where needed (how the docs' result CSVs look [S-GUIDE66]).
    pub(crate) fn header_line(&self, quoted: &[&str], plain: &[String]) -> String {
        let mut line = Vec::new();
        if !quoted.is_empty() {
            let mut w = WriterBuilder::new()
                .delimiter(self.delimiter.byte())
                .quote_style(QuoteStyle::Always)
                .terminator(Terminator::Any(b'\n'))
                .from_writer(&mut line);
            let _ = w.write_record(quoted);
        }
        let mut rest = Vec::new();
        if !plain.is_empty() {
            let mut w = WriterBuilder::new()
                .delimiter(self.delimiter.byte())
                .quote_style(QuoteStyle::Necessary)
                .terminator(Terminator::Any(b'\n'))
                .from_writer(&mut rest);
            let _ = w.write_record(plain);
        }
        let join = |v: Vec<u8>| {
            String::from_utf8_lossy(&v)
                .trim_end_matches('\n')
                .to_string()
        };
        let (a, b) = (join(line), join(rest));
        match (a.is_empty(), b.is_empty()) {
            (_, true) => a,
            (true, false) => b,
            _ => format!("{a}{}{b}", self.delimiter.byte() as char),
        }
    }

    fn terminator(&self) -> Terminator {
        match self.line_ending {
            LineEnding::Lf => Terminator::Any(b'\n'),
            LineEnding::Crlf => Terminator::CRLF,
        }
    }

    fn terminator_bytes(&self) -> &'static [u8] {
        match self.line_ending {
            LineEnding::Lf => b"\n",
            LineEnding::Crlf => b"\r\n",
        }
    }
}

fn fields(r: &StringRecord) -> Vec<String> {
    r.iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lf(delimiter: Delimiter) -> Dialect {
        Dialect {
            delimiter,
            line_ending: LineEnding::Lf,
        }
    }

    #[test]
    fn quotes_embedded_newlines_and_delimiters() {
        let p = lf(Delimiter::Comma)
            .read(b"Name,Phone\n\"Acme, \"\"the\"\"\nbest\",1\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.header, ["Name", "Phone"]);
        assert_eq!(p.rows, [["Acme, \"the\"\nbest", "1"]]);
    }

    #[test]
    fn a_line_ending_other_than_declared_fails() {
        assert!(lf(Delimiter::Comma).read(b"Name\r\nA\r\n").is_err());
        let crlf = Dialect {
            delimiter: Delimiter::Tab,
            line_ending: LineEnding::Crlf,
        };
        assert!(crlf.read(b"Name\tPhone\nA\t1\n").is_err());
        let p = crlf
            .read(b"Name\tPhone\r\n\"A\nB\"\t1\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.rows, [["A\nB", "1"]]);
    }

    #[test]
    fn results_quote_values_and_sf_columns_only() {
        let d = lf(Delimiter::Comma);
        let header = d.header_line(&["sf__Id", "sf__Created"], &["Name".into()]);
        assert_eq!(header, "\"sf__Id\",\"sf__Created\",Name");
        let out = d.write(&header, &[vec!["001".into(), "true".into(), "A, B".into()]]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"sf__Id\",\"sf__Created\",Name\n\"001\",\"true\",\"A, B\"\n"
        );
    }
}
