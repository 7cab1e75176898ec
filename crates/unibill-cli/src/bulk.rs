//! `unibill bulk`: many updates from a CSV or JSONL file, streamed, with
//! progress, a JSONL report, resume and a clean stop on Ctrl-C.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use unibill::bulk::{bulk_update_stream, BulkOptions};
use unibill::{CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind, PlannedRequest};

use crate::gate::{Control, Gate, StopReason};
use crate::input::{count_csv_records, count_jsonl_records, CsvRows, Format, JsonlRows, Row};
use crate::report::{kind_name, Done, Entry, Report, RowError, Status};
use crate::{CommonUpdate, Fail, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED};

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
    /// With --resume: run again the rows the report holds as failed.
    #[arg(long, requires = "resume")]
    retry_failed: bool,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_secs)]
    progress_secs: f64,
    #[command(flatten)]
    common: CommonUpdate,
}

/// Reads `--progress-secs`: a finite number of seconds above 0.
pub(crate) fn parse_secs(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("`{text}`: give a number of seconds above 0"));
    }
    Ok(secs)
}

/// How many failed rows the summary lists on stderr.
const FAILURES_SHOWN: usize = 20;

/// Running counts, shared with the progress display.
#[derive(Default)]
struct Counts {
    applied: AtomicU64,
    unchanged: AtomicU64,
    planned: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    not_attempted: AtomicU64,
}

impl Counts {
    fn done(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
            + self.unchanged.load(Ordering::Relaxed)
            + self.planned.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
    }

    /// Rows accounted for: done now, or already in the report.
    fn position(&self) -> u64 {
        self.done() + self.skipped.load(Ordering::Relaxed)
    }

    fn line(&self, started: Instant, total: Option<u64>) -> String {
        let done = self.done();
        let secs = started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let of = total.map(|t| format!("/{t}")).unwrap_or_default();
        let mut s = format!(
            "{}{of} rows: {} applied, {} unchanged, {} failed",
            self.position(),
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
        let not_attempted = self.not_attempted.load(Ordering::Relaxed);
        if not_attempted > 0 {
            s.push_str(&format!(", {not_attempted} not attempted"));
        }
        s.push_str(&format!(", {rate:.1}/s, {secs:.1}s"));
        s
    }
}

/// One failed row, as the summary lists it.
struct Failure {
    row: u64,
    reference: String,
    kind: String,
    message: String,
}

/// What the input side and the result side share: the report, and which
/// input row each bulk item came from.
struct Shared {
    report: Report,
    rows: HashMap<u64, (u64, String)>,
    report_error: Option<std::io::Error>,
    failures: Vec<Failure>,
    control: Arc<Control>,
}

impl Shared {
    fn record(&mut self, entry: &Entry<'_>) {
        if let Some(e) = &entry.error {
            if self.failures.len() < FAILURES_SHOWN {
                self.failures.push(Failure {
                    row: entry.row,
                    reference: entry.reference.to_owned(),
                    kind: e.kind.clone(),
                    message: e.message.clone(),
                });
            }
        }
        if self.report_error.is_none() {
            if let Err(e) = self.report.write(entry) {
                self.report_error = Some(e);
                self.control.stop(StopReason::Report);
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

/// Counts the records of a file (for the progress total), without
/// holding it: CSV records (a quoted cell may span lines) less the
/// header, or non-blank JSONL lines.
fn count_records(path: &Path, format: Format) -> Option<u64> {
    if path.as_os_str() == "-" {
        return None;
    }
    let file = BufReader::with_capacity(256 * 1024, File::open(path).ok()?);
    Some(match format {
        Format::Csv => count_csv_records(file),
        Format::Jsonl => count_jsonl_records(file),
    })
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

/// The report's `error` of a failed update. A value refused before any
/// request is `input`, whether the command or the library refused it.
fn failed_entry(error: &Error) -> RowError {
    let kind = match error.kind() {
        ErrorKind::Validation => "input".to_owned(),
        other => kind_name(other),
    };
    RowError {
        kind,
        message: crate::error_message(error),
    }
}

/// Errors that every later row would meet too: the run stops on them.
fn is_fatal(error: &Error) -> bool {
    matches!(error.kind(), ErrorKind::Unauthorized | ErrorKind::Config)
}

type Rows = Box<dyn Iterator<Item = Row> + Send>;

/// Runs the bulk command.
pub async fn run(updater: &dyn CustomerUpdater, args: BulkArgs) -> Result<u8, Fail> {
    let format = format_of(&args)?;
    let input = open_input(&args.file)?;
    // Everything about the input that can be checked before a request is
    // checked here: the format, the header, the report file.
    let rows: Rows = match format {
        Format::Csv => Box::new(CsvRows::new(input).map_err(Fail::usage)?),
        Format::Jsonl => Box::new(JsonlRows::new(BufReader::new(input))),
    };
    let rows = Arc::new(Mutex::new(rows));
    let total = count_records(&args.file, format);
    let done = match (&args.report, args.resume) {
        (Some(path), true) => Done::read(path)
            .map_err(|e| Fail::usage(format!("cannot read the report {}: {e}", path.display())))?,
        _ => Done::default(),
    };
    let done = Arc::new(done);
    let retry_failed = args.retry_failed;
    let report = match &args.report {
        Some(path) => Report::open(path, args.resume)
            .map_err(|e| Fail::usage(format!("cannot write the report {}: {e}", path.display())))?,
        None => Report::none(),
    };

    let control = Arc::new(Control::default());
    let counts = Arc::new(Counts::default());
    let shared = Arc::new(Mutex::new(Shared {
        report,
        rows: HashMap::new(),
        report_error: None,
        failures: Vec::new(),
        control: control.clone(),
    }));
    let started = Instant::now();

    // SIGINT (Ctrl-C) and SIGTERM: stop taking rows; the ones in flight
    // finish and are reported. A second signal ends the process at once.
    let signal_task = spawn_signal_handler(control.clone())?;

    // Progress: a bar on a terminal, else a plain line every few seconds.
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} rows {msg} {rate} ETA {eta} ({elapsed})",
        )
        .map(|s| {
            s.with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.1}/s", state.per_sec());
                },
            )
        })
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
                crate::say(format_args!("progress: {}", counts.line(started, total)));
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
        let control = control.clone();
        let rows = rows.clone();
        let done = done.clone();
        let mut next_index = 0u64;
        std::iter::from_fn(move || {
            if control.stopping() {
                return None;
            }
            lock_rows(&rows).next()
        })
        .filter_map(move |row| {
            if done.contains(row.line, retry_failed) {
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
                    let mut shared = lock(&shared);
                    shared.record(&Entry {
                        row: row.line,
                        reference: &row.reference,
                        status: Status::Failed,
                        error: Some(RowError {
                            kind: "input".into(),
                            message,
                        }),
                        writes: &[],
                    });
                    if row.input_failed {
                        shared.control.stop(StopReason::Fatal(
                            "the input could not be read to its end".to_owned(),
                        ));
                    }
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
                Status::NotAttempted => &counts.not_attempted,
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
                bar.set_position(counts.position());
                bar.set_message(format!(
                    "({} failed)",
                    counts.failed.load(Ordering::Relaxed)
                ));
            }
        };
    let fail = |index: u64, e: &Error| {
        if is_fatal(e) {
            control.stop(StopReason::Fatal(crate::error_message(e)));
        }
        finish(index, Status::Failed, Some(failed_entry(e)), &[]);
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
                Err(e) => fail(index, &e),
            }
        }
    } else {
        let gate = Gate::new(updater, &control);
        // The library numbers items from 0 in input order, as `items` does.
        let items = stream::iter(items.map(|(_, customer, patch)| (customer, patch)));
        let bulk_options = BulkOptions {
            concurrency: args.concurrency,
            update_options: options,
            ..BulkOptions::default()
        };
        let results = bulk_update_stream(&gate, items, bulk_options);
        tokio::pin!(results);
        let report = |item: unibill::BulkItemResult| match &item.result {
            Ok(o) if o.changed() => finish(item.index, Status::Applied, None, &o.writes),
            Ok(_) => finish(item.index, Status::Unchanged, None, &[]),
            Err(e) => fail(item.index, e),
        };
        loop {
            tokio::select! {
                biased;
                item = results.next() => match item {
                    Some(item) => report(item),
                    None => break,
                },
                // Stopping, and no request in flight: the items left wait
                // at the gate and were never sent. An update whose write
                // has returned may still be releasing its customer's lock
                // (a Redis round trip): its result is taken while results
                // keep coming within `RELEASE_GRACE` of each other.
                () = control.drained() => {
                    while let Ok(Some(item)) =
                        tokio::time::timeout(RELEASE_GRACE, results.next()).await
                    {
                        report(item);
                    }
                    break;
                }
            }
        }
    }

    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let reason = control.reason();
    // A stop that every later row would meet too: the rows taken but not
    // started, and the rest of the input, are reported `not_attempted`
    // so that `--resume` runs them.
    if let Some(StopReason::Fatal(_)) = &reason {
        let mut shared = lock(&shared);
        let mut waiting: Vec<(u64, String)> = shared.rows.drain().map(|(_, v)| v).collect();
        waiting.sort_unstable();
        for (line, reference) in waiting {
            counts.not_attempted.fetch_add(1, Ordering::Relaxed);
            shared.record(&Entry {
                row: line,
                reference: &reference,
                status: Status::NotAttempted,
                error: None,
                writes: &[],
            });
        }
        // The signal handler still runs: a Ctrl-C or SIGTERM while the rest
        // of the input is read (a long file, a pipe that never closes)
        // stops the reading; what is not reported is not done for
        // `--resume` anyway. A second signal quits at once.
        let mut rows = lock_rows(&rows);
        for row in rows.by_ref() {
            if control.signalled() {
                break;
            }
            if done.contains(row.line, retry_failed) || row.input_failed {
                continue;
            }
            counts.not_attempted.fetch_add(1, Ordering::Relaxed);
            shared.record(&Entry {
                row: row.line,
                reference: &row.reference,
                status: Status::NotAttempted,
                error: None,
                writes: &[],
            });
        }
    }
    signal_task.abort();

    let mut shared = lock(&shared);
    let flushed = shared.report.flush();
    let report_error = shared.report_error.take().or(flushed.err());
    let failures = std::mem::take(&mut shared.failures);
    drop(shared);

    let stopped = reason.is_some() || report_error.is_some();
    crate::say(format_args!(
        "{}{}",
        if stopped { "stopped: " } else { "done: " },
        counts.line(started, total)
    ));
    let failed = counts.failed.load(Ordering::Relaxed);
    print_failures(failures, failed, args.report.as_deref());

    if let Some(e) = report_error {
        let path = args.report.as_deref().unwrap_or(Path::new("-"));
        return Err(Fail::failed(format!(
            "the report {} could not be written ({e}): no more rows were taken, and the rows finished since are not in it",
            path.display()
        )));
    }
    match reason {
        Some(StopReason::Signal(code)) => Ok(code),
        Some(StopReason::Fatal(message)) => {
            let resume = if args.report.is_some() {
                "; fix the cause, then run again with --resume (add --retry-failed to run the failed rows again)"
            } else {
                "; fix the cause, then run again (with --report FILE.jsonl to keep track)"
            };
            Err(Fail::failed(format!(
                "stopped taking rows after: {message}{resume}"
            )))
        }
        Some(StopReason::Report) => Err(Fail::failed("the report could not be written")),
        None if failed > 0 => Ok(EXIT_FAILED),
        None => Ok(0),
    }
}

fn lock_rows(rows: &Mutex<Rows>) -> std::sync::MutexGuard<'_, Rows> {
    rows.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Lists the first failed rows on stderr, and where to find the rest.
fn print_failures(mut failures: Vec<Failure>, failed: u64, report: Option<&Path>) {
    if failures.is_empty() {
        return;
    }
    failures.sort_by_key(|f| f.row);
    crate::say(format_args!("failed rows:"));
    for f in &failures {
        crate::say(format_args!(
            "  row {} ({}): {}: {}",
            f.row,
            if f.reference.is_empty() {
                "no reference".to_owned()
            } else {
                format!("`{}`", unibill::error::clip(&f.reference))
            },
            f.kind,
            f.message
        ));
    }
    let more = failed.saturating_sub(failures.len() as u64);
    match report {
        Some(path) if more > 0 => crate::say(format_args!(
            "  … and {more} more, see the report {}",
            path.display()
        )),
        Some(_) => {}
        None if more > 0 => crate::say(format_args!(
            "  … and {more} more, see --report (run with --report FILE.jsonl to record every row)"
        )),
        None => crate::say(format_args!(
            "hint: --report FILE.jsonl records every row's outcome, for --resume --retry-failed"
        )),
    }
}

/// Listens for SIGINT and SIGTERM: the first stops the run, a second ends
/// the process at once with the same code (130 or 143).
/// How long a stopping run waits for the next result once nothing sends
/// any more: long enough for an update whose write returned to release
/// its customer's lock (one Redis round trip).
const RELEASE_GRACE: Duration = Duration::from_secs(2);

fn spawn_signal_handler(control: Arc<Control>) -> Result<tokio::task::JoinHandle<()>, Fail> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| Fail::failed(format!("cannot listen for signals: {e}")))
    };
    let mut int = listen(SignalKind::interrupt())?;
    let mut term = listen(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => EXIT_INTERRUPTED,
            _ = term.recv() => EXIT_TERMINATED,
        };
        control.stop(StopReason::Signal(code));
        crate::say(format_args!(
            "{}: finishing the updates in flight (again to quit now)",
            if code == EXIT_TERMINATED {
                "terminated (SIGTERM)"
            } else {
                "interrupted (Ctrl-C)"
            }
        ));
        let again = tokio::select! {
            _ = int.recv() => EXIT_INTERRUPTED,
            _ = term.recv() => EXIT_TERMINATED,
        };
        std::process::exit(i32::from(again));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_secs_must_be_a_finite_positive_number() {
        assert_eq!(parse_secs("0.5"), Ok(0.5));
        for bad in ["nan", "NaN", "inf", "-1", "0", "x"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }
}
