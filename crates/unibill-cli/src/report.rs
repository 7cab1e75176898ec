//! The bulk report: one JSON line per input row, written as rows finish.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::Serialize;
use unibill::{ErrorKind, PlannedRequest};

/// How one row ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At least one write was sent.
    Applied,
    /// Nothing needed writing.
    Unchanged,
    /// Dry run: the writes were planned, none sent.
    Planned,
    /// The row failed.
    Failed,
}

/// Why a row failed.
#[derive(Debug, Serialize)]
pub struct RowError {
    /// `validation`, `not_found`, `input` (the row could not be read), …
    pub kind: String,
    /// The message (library errors cap and escape vendor text).
    pub message: String,
}

/// One line of the report.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    /// Line number in the input file.
    pub row: u64,
    /// The customer reference as written.
    #[serde(rename = "ref")]
    pub reference: &'a str,
    /// How the row ended.
    pub status: Status,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RowError>,
    /// The writes sent (planned, on a dry run).
    pub writes: &'a [PlannedRequest],
}

/// `ErrorKind` as snake_case text (`NotFound` -> `not_found`).
pub fn kind_name(kind: ErrorKind) -> String {
    let debug = format!("{kind:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The rows a report already holds, as a bit set of line numbers (a few
/// hundred kilobytes for millions of rows).
#[derive(Debug, Default)]
pub struct Done(Vec<u64>);

impl Done {
    /// Whether `row` is recorded.
    pub fn contains(&self, row: u64) -> bool {
        let (w, b) = ((row / 64) as usize, row % 64);
        self.0.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    fn insert(&mut self, row: u64) {
        let (w, b) = ((row / 64) as usize, row % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << b;
    }

    /// How many rows are recorded.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Reads the rows of an existing report (a missing file holds none;
    /// a torn last line, from a killed run, is ignored).
    pub fn read(path: &Path) -> std::io::Result<Self> {
        let mut done = Done::default();
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
            Err(e) => return Err(e),
        };
        #[derive(serde::Deserialize)]
        struct Row {
            row: u64,
        }
        for line in BufReader::new(file).lines() {
            if let Ok(r) = serde_json::from_str::<Row>(&line?) {
                done.insert(r.row);
            }
        }
        Ok(done)
    }
}

/// Writes report lines, each flushed as it is written so that a run
/// stopped at any point leaves whole lines behind.
pub struct Report {
    out: Option<File>,
}

impl Report {
    /// No report.
    pub fn none() -> Self {
        Self { out: None }
    }

    /// A report at `path`, appended to when `append` (resume), else replaced.
    pub fn open(path: &Path, append: bool) -> std::io::Result<Self> {
        let mut opts = OpenOptions::new();
        opts.create(true);
        if append {
            opts.append(true);
        } else {
            opts.write(true).truncate(true);
        }
        let mut file = opts.open(path)?;
        if append {
            // A killed run may have left a torn line: start on a fresh one.
            let len = file.metadata()?.len();
            if len > 0 {
                use std::io::{Read, Seek, SeekFrom};
                let mut last = [0u8; 1];
                let mut reader = File::open(path)?;
                reader.seek(SeekFrom::Start(len - 1))?;
                reader.read_exact(&mut last)?;
                if last[0] != b'\n' {
                    file.write_all(b"\n")?;
                }
            }
        }
        Ok(Self { out: Some(file) })
    }

    /// Writes one line.
    pub fn write(&mut self, entry: &Entry<'_>) -> std::io::Result<()> {
        if let Some(out) = &mut self.out {
            let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        Ok(())
    }

    /// Flushes to disk.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if let Some(out) = &mut self.out {
            out.flush()?;
            out.sync_data()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names() {
        assert_eq!(kind_name(ErrorKind::NotFound), "not_found");
        assert_eq!(kind_name(ErrorKind::Validation), "validation");
    }

    #[test]
    fn done_set() {
        let mut d = Done::default();
        d.insert(3);
        d.insert(200);
        assert!(d.contains(3) && d.contains(200) && !d.contains(4));
        assert_eq!(d.len(), 2);
    }
}
