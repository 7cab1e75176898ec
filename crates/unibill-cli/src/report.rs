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
    /// The run stopped (e.g. the vendor refused the key) before this row
    /// was sent; `--resume` runs it.
    NotAttempted,
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

/// The rows a report already holds, as bit sets of line numbers (a few
/// hundred kilobytes for millions of rows): those done, and among them
/// those whose last outcome was a failure.
#[derive(Debug, Default)]
pub struct Done {
    done: Bits,
    failed: Bits,
}

#[derive(Debug, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn get(&self, row: u64) -> bool {
        let (w, b) = ((row / 64) as usize, row % 64);
        self.0.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    fn set(&mut self, row: u64, on: bool) {
        let (w, b) = ((row / 64) as usize, row % 64);
        if self.0.len() <= w {
            if !on {
                return;
            }
            self.0.resize(w + 1, 0);
        }
        if on {
            self.0[w] |= 1 << b;
        } else {
            self.0[w] &= !(1 << b);
        }
    }
}

impl Done {
    /// Whether `row` is done, and so skipped by `--resume`; with
    /// `retry_failed`, a row whose last outcome was a failure is not.
    pub fn contains(&self, row: u64, retry_failed: bool) -> bool {
        self.done.get(row) && !(retry_failed && self.failed.get(row))
    }

    /// Records one report line (later lines of a row win).
    fn insert(&mut self, row: u64, status: &str) {
        let (done, failed) = match status {
            // A planned row (a dry run) was not written: a real run
            // resumed from that report still has to apply it.
            "not_attempted" | "planned" => (false, false),
            "failed" => (true, true),
            _ => (true, false),
        };
        self.done.set(row, done);
        self.failed.set(row, failed);
    }

    /// How many rows are recorded as done.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.done.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Reads the rows of an existing report (a missing file holds none;
    /// a torn last line, from a killed run, is ignored). A row marked
    /// `not_attempted`, or `planned` by a dry run, is not done.
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
            #[serde(default)]
            status: String,
        }
        for line in BufReader::new(file).split(b'\n') {
            if let Ok(r) = serde_json::from_slice::<Row>(&line?) {
                done.insert(r.row, &r.status);
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
        d.insert(3, "applied");
        d.insert(200, "failed");
        d.insert(7, "not_attempted");
        d.insert(9, "planned");
        assert!(d.contains(3, false) && d.contains(200, false) && !d.contains(4, false));
        assert!(!d.contains(7, false), "not attempted rows are run again");
        assert!(!d.contains(9, false), "rows a dry run planned are run");
        assert!(d.contains(3, true) && !d.contains(200, true));
        d.insert(200, "applied");
        assert!(d.contains(200, true), "the last line of a row wins");
        assert_eq!(d.len(), 2);
    }
}
