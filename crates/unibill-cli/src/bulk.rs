//! `unibill bulk`: many updates from a CSV or JSONL file, streamed, with
//! progress, a JSONL report, resume and a clean stop on Ctrl-C.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use unibill::bulk::{bulk_update_stream, BulkOptions};
use unibill::{CustomerPatch, CustomerRef, CustomerUpdater, Error, PlannedRequest};

use crate::input::{CsvRows, Format, JsonlRows, Row};
use crate::report::{kind_name, Done, Entry, Report, RowError, Status};
use crate::{CommonUpdate, Fail, EXIT_FAILED, EXIT_INTERRUPTED};

/// The flags of `unibill bulk`.
#[derive(Debug, Args)]
pub struct BulkArgs {
    /// The input: a `.csv` or `.jsonl` file, or `-` for stdin (with --format).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The input format (default: from the file's extension).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Updates in flight at once (the backend's rate limit applies on top).
    #[arg(long, default_value_t = 8, value_name = "N")]
    concurrency: usize,
    /// Write one JSON line per input row to this file.
    #[arg(long, value_name = "FILE.jsonl")]
    report: Option<PathBuf>,
    /// Skip the rows the report already holds, and append to it.
    #[arg(long, requires = "report")]
    resume: bool,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    progress_secs: f64,
    #[command(flatten)]
    common: CommonUpdate,
}

/// Running counts, shared with the progress display.
#[derive(Default)]
struct Counts {
    applied: AtomicU64,
    unchanged: AtomicU64,
    planned: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
}

impl Counts {
    fn done(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
            + self.unchanged.load(Ordering::Relaxed)
            + self.planned.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
    }

    fn line(&self, started: Instant, total: Option<u64>) -> String {
        let done = self.done();
        let secs = started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let of = total.map(|t| format!("/{t}")).unwrap_or_default();
        let mut s = format!(
            "{done}{of} rows: {} applied, {} unchanged, {} failed",
            self.applied.load(Ordering::Relaxed),
            self.unchanged.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        );
        let planned = self.planned.load(Ordering::Relaxed);
        if planned > 0 {
            s.push_str(&format!(", {planned} planned"));
        }
        let skipped = self.skipped.load(Ordering::Relaxed);
        if skipped > 0 {
            s.push_str(&format!(", {skipped} skipped (already in the report)"));
        }
        s.push_str(&format!(", {rate:.1}/s, {secs:.1}s"));
        s
    }
}

/// What the input side and the result side share: the report, and which
/// input row each bulk item came from.
struct Shared {
    report: Report,
    rows: HashMap<u64, (u64, String)>,
    report_error: Option<std::io::Error>,
}

impl Shared {
    fn record(&mut self, entry: &Entry<'_>) {
        if self.report_error.is_none() {
            if let Err(e) = self.report.write(entry) {
                self.report_error = Some(e);
            }
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

fn open_input(path: &Path) -> Result<Box<dyn Read + Send>, Fail> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let file = File::open(path)
        .map_err(|e| Fail::usage(format!("cannot open {}: {e}", path.display())))?;
    Ok(Box::new(file))
}

/// Counts the lines of a file (for the progress total), without holding it.
fn count_lines(path: &Path) -> Option<u64> {
    if path.as_os_str() == "-" {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    Some(lines + u64::from(last != b'\n'))
}

fn format_of(args: &BulkArgs) -> Result<Format, Fail> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    match args
        .file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
        _ => Err(Fail::usage(format!(
            "cannot tell the format of {}: name it .csv or .jsonl, or give --format csv|jsonl",
            args.file.display()
        ))),
    }
}

fn failed_entry(error: &Error) -> RowError {
    RowError {
        kind: kind_name(error.kind()),
        message: error.to_string(),
    }
}

/// Runs the bulk command.
pub async fn run(updater: &dyn CustomerUpdater, args: BulkArgs) -> Result<u8, Fail> {
    let format = format_of(&args)?;
    let input = open_input(&args.file)?;
    // Everything about the input that can be checked before a request is
    // checked here: the format, the header, the report file.
    let rows: Box<dyn Iterator<Item = Row> + Send> = match format {
        Format::Csv => Box::new(CsvRows::new(input).map_err(Fail::usage)?),
        Format::Jsonl => Box::new(JsonlRows::new(BufReader::new(input))),
    };
    let total = count_lines(&args.file).map(|n| match format {
        Format::Csv => n.saturating_sub(1),
        Format::Jsonl => n,
    });
    let done = match (&args.report, args.resume) {
        (Some(path), true) => Done::read(path)
            .map_err(|e| Fail::usage(format!("cannot read the report {}: {e}", path.display())))?,
        _ => Done::default(),
    };
    let report = match &args.report {
        Some(path) => Report::open(path, args.resume)
            .map_err(|e| Fail::usage(format!("cannot write the report {}: {e}", path.display())))?,
        None => Report::none(),
    };

    let counts = Arc::new(Counts::default());
    let shared = Arc::new(Mutex::new(Shared {
        report,
        rows: HashMap::new(),
        report_error: None,
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    // Ctrl-C: stop taking rows; the ones in flight finish and are
    // reported. A second Ctrl-C ends the process at once.
    let signal_task = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
                eprintln!(
                    "interrupted: finishing the updates in flight (Ctrl-C again to quit now)"
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(EXIT_INTERRUPTED));
                }
            }
        })
    };

    // Progress: a bar on a terminal, else a plain line every few seconds.
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} rows {msg} {per_sec} ETA {eta} ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    } else {
        None
    };
    let ticker = if bar.is_none() {
        let counts = counts.clone();
        let every = Duration::from_secs_f64(args.progress_secs.clamp(0.05, 3600.0));
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                eprintln!("progress: {}", counts.line(started, total));
            }
        }))
    } else {
        None
    };

    // The input side: skip rows already reported, record malformed rows
    // as failed, and hand the rest to the library, lazily.
    let items = {
        let shared = shared.clone();
        let counts = counts.clone();
        let stop = stop.clone();
        let mut next_index = 0u64;
        rows.map_while(move |row| (!stop.load(Ordering::SeqCst)).then_some(row))
            .filter_map(move |row| {
                if done.contains(row.line) {
                    counts.skipped.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                match row.parsed {
                    Ok((customer, patch)) => {
                        // Emails and references are resolved by the
                        // library, row by row.
                        let index = next_index;
                        next_index += 1;
                        lock(&shared).rows.insert(index, (row.line, row.reference));
                        Some((index, customer, patch))
                    }
                    Err(message) => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                        lock(&shared).record(&Entry {
                            row: row.line,
                            reference: &row.reference,
                            status: Status::Failed,
                            error: Some(RowError {
                                kind: "input".into(),
                                message,
                            }),
                            writes: &[],
                        });
                        None
                    }
                }
            })
    };

    let finish =
        |index: u64, status: Status, error: Option<RowError>, writes: &[PlannedRequest]| {
            let counter = match status {
                Status::Applied => &counts.applied,
                Status::Unchanged => &counts.unchanged,
                Status::Planned => &counts.planned,
                Status::Failed => &counts.failed,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let mut shared = lock(&shared);
            let (line, reference) = shared.rows.remove(&index).unwrap_or_default();
            shared.record(&Entry {
                row: line,
                reference: &reference,
                status,
                error,
                writes,
            });
            drop(shared);
            if let Some(bar) = &bar {
                bar.set_position(counts.done());
                bar.set_message(format!(
                    "({} failed)",
                    counts.failed.load(Ordering::Relaxed)
                ));
            }
        };

    let options = args.common.options();
    if args.common.dry_run {
        let items: Box<dyn Iterator<Item = (u64, CustomerRef, CustomerPatch)> + Send> =
            Box::new(items);
        let options = &options;
        let mut plans = stream::iter(items)
            .map(|(index, customer, patch)| async move {
                (index, updater.dry_run(&customer, &patch, options).await)
            })
            .buffer_unordered(args.concurrency.max(1));
        while let Some((index, result)) = plans.next().await {
            match result {
                Ok(plan) if plan.writes.is_empty() => finish(index, Status::Unchanged, None, &[]),
                Ok(plan) => finish(index, Status::Planned, None, &plan.writes),
                Err(e) => finish(index, Status::Failed, Some(failed_entry(&e)), &[]),
            }
        }
    } else {
        let items = stream::iter(items.map(|(_, customer, patch)| (customer, patch)));
        let bulk_options = BulkOptions::new()
            .concurrency(args.concurrency)
            .update_options(options);
        bulk_update_stream(updater, items, bulk_options)
            .for_each_result(|item| match &item.result {
                Ok(o) if o.changed() => finish(item.index, Status::Applied, None, &o.writes),
                Ok(_) => finish(item.index, Status::Unchanged, None, &[]),
                Err(e) => finish(item.index, Status::Failed, Some(failed_entry(e)), &[]),
            })
            .await;
    }

    signal_task.abort();
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut shared = lock(&shared);
    let flushed = shared.report.flush();
    if let Some(e) = shared.report_error.take().or(flushed.err()) {
        return Err(Fail::failed(format!(
            "the report could not be written: {e}"
        )));
    }
    drop(shared);
    let interrupted = stop.load(Ordering::SeqCst);
    eprintln!(
        "{}{}",
        if interrupted { "stopped: " } else { "done: " },
        counts.line(started, total)
    );
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else if counts.failed.load(Ordering::Relaxed) > 0 {
        EXIT_FAILED
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_with_and_without_a_final_newline() {
        let dir = std::env::temp_dir().join(format!("unibill-cli-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.csv");
        std::fs::write(&a, "id\n1\n2\n").unwrap();
        assert_eq!(count_lines(&a), Some(3));
        std::fs::write(&a, "id\n1\n2").unwrap();
        assert_eq!(count_lines(&a), Some(3));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
