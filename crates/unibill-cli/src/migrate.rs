//! `unibill diff` and `unibill sync`: compare two backends' customers and
//! repair one from the other (the library's `unibill::migrate`).

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use unibill::migrate::{
    diff, sync, DiffOptions, DiffSummary, IdMap, MatchBy, OnProgress, Progress, Side, SyncItem,
    SyncOptions, SyncSummary,
};
use unibill::{CustomerUpdater, Field};

use crate::config::Pair;
use crate::report::kind_name;
use crate::{Cli, Fail, Output, EXIT_FAILED, EXIT_INTERRUPTED};

/// `diff`'s exit code when the comparison could not be made (as diff(1)
/// says "trouble"): usage, configuration, or a backend that failed.
pub const EXIT_TROUBLE: u8 = 2;

/// What `diff` and `sync` share: the two backends and how to pair them.
#[derive(Debug, Args)]
pub struct PairArgs {
    /// The left backend, a sync's source of truth: a backend name
    /// (chartmogul, fusebill, everlytic) or, with --config, a profile of
    /// the file.
    #[arg(long, value_name = "NAME")]
    from: String,
    /// The right backend, a sync's target (as --from).
    #[arg(long, value_name = "NAME")]
    to: String,
    /// How customers are paired: `external` (your own reference, the
    /// default), `email`, or `map:FILE` (a CSV of `left_id,right_id`).
    #[arg(long = "match", value_name = "external|email|map:FILE", default_value = "external", value_parser = parse_match)]
    match_by: MatchBy,
    /// Compare only these fields (neutral names, comma-separated:
    /// `email,company,address.city`); default every field both backends read.
    #[arg(long, value_name = "FIELD,...", value_delimiter = ',', value_parser = parse_field)]
    fields: Vec<Field>,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = crate::bulk::parse_secs)]
    progress_secs: f64,
}

/// The flags of `unibill diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pair: PairArgs,
    /// Write the differences to this file, one JSON line each (default:
    /// stdout).
    #[arg(long, value_name = "FILE.jsonl")]
    report: Option<PathBuf>,
}

/// The flags of `unibill sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pair: PairArgs,
    /// Write the repairs (without it, a dry run: nothing is written).
    #[arg(long)]
    apply: bool,
    /// Write one JSON line per pair that differs to this file (default:
    /// stdout).
    #[arg(long, value_name = "FILE.jsonl")]
    report: Option<PathBuf>,
    /// Leave alone the pairs the report already holds as applied or
    /// unchanged, and append to it.
    #[arg(long, requires = "report")]
    resume: bool,
    /// Repairs in flight at once (the target's rate limit applies on top).
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
}

/// Reads `--match`.
fn parse_match(text: &str) -> Result<MatchBy, String> {
    match text.trim() {
        "external" => Ok(MatchBy::External),
        "email" => Ok(MatchBy::Email),
        other => match other.strip_prefix("map:") {
            Some(path) if !path.is_empty() => {
                let file = std::fs::File::open(path)
                    .map_err(|e| format!("cannot read the id map {path}: {e}"))?;
                IdMap::from_reader(std::io::BufReader::new(file))
                    .map(MatchBy::Map)
                    .map_err(|e| format!("the id map {path}: {e}"))
            }
            _ => Err(format!(
                "`{other}`: use external, email or map:FILE (a CSV of left_id,right_id)"
            )),
        },
    }
}

/// Reads one name of `--fields`.
fn parse_field(text: &str) -> Result<Field, String> {
    let name = text.trim();
    Field::ALL
        .iter()
        .copied()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            format!("no field `{name}`; fields: {}", names.join(", "))
        })
}

/// Where the JSON lines go: a file, or stdout.
enum Lines {
    File(std::io::BufWriter<std::fs::File>, PathBuf),
    Stdout,
}

impl Lines {
    fn open(path: Option<&Path>, append: bool) -> Result<Self, Fail> {
        let Some(path) = path else {
            return Ok(Lines::Stdout);
        };
        let mut options = std::fs::OpenOptions::new();
        options.create(true);
        if append {
            options.append(true);
        } else {
            options.write(true).truncate(true);
        }
        let file = options
            .open(path)
            .map_err(|e| Fail::usage(format!("cannot write --report {}: {e}", path.display())))?;
        Ok(Lines::File(std::io::BufWriter::new(file), path.to_owned()))
    }

    /// Writes one line; a file is flushed line by line, so that a run
    /// stopped at any point leaves whole lines.
    fn write(&mut self, value: &impl serde::Serialize) -> Result<(), Fail> {
        let mut line = serde_json::to_string(value)
            .map_err(|e| Fail::failed(format!("cannot write a report line: {e}")))?;
        line.push('\n');
        match self {
            Lines::Stdout => crate::out(&line),
            Lines::File(out, path) => out
                .write_all(line.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Fail::failed(format!("cannot write {}: {e}", path.display()))),
        }
    }

    fn finish(&mut self) -> Result<(), Fail> {
        if let Lines::File(out, path) = self {
            out.flush()
                .and_then(|()| out.get_ref().sync_data())
                .map_err(|e| Fail::failed(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(())
    }
}

/// The progress display: a spinner on a terminal, else a line every few
/// seconds; its text follows the library's [`Progress`].
struct Display {
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    state: Arc<Mutex<String>>,
}

impl Display {
    fn start(every_secs: f64) -> Self {
        let state = Arc::new(Mutex::new(String::from("starting")));
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let ticker = bar.is_none().then(|| {
            let state = state.clone();
            let every = Duration::from_secs_f64(every_secs.clamp(0.05, 3600.0));
            let started = Instant::now();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let text = state.lock().unwrap_or_else(PoisonError::into_inner).clone();
                    crate::say(format_args!(
                        "progress: {text}, {:.1}s",
                        started.elapsed().as_secs_f64()
                    ));
                }
            })
        });
        Self { bar, ticker, state }
    }

    /// The callback the library reports to.
    fn callback(&self, from: &str, to: &str) -> OnProgress {
        let (state, bar) = (self.state.clone(), self.bar.clone());
        let (from, to) = (from.to_owned(), to.to_owned());
        OnProgress::new(move |step| {
            let text = match step {
                Progress::Listed { side, customers } => {
                    let name = if side == Side::Left { &from } else { &to };
                    format!("listing {name}: {customers} customers")
                }
                Progress::Repaired { done, total } => format!("repairing: {done}/{total}"),
                _ => return,
            };
            if let Some(bar) = &bar {
                bar.set_message(text.clone());
            }
            *state.lock().unwrap_or_else(PoisonError::into_inner) = text;
        })
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        if let Some(t) = self.ticker {
            t.abort();
        }
    }
}

/// Runs `work` until it ends or a signal (Ctrl-C, SIGTERM) arrives; a
/// signal ends the command with 130 or 143 after `on_stop` has said what
/// was done.
async fn until_signal<T>(
    work: impl std::future::Future<Output = T>,
    on_stop: impl FnOnce(),
) -> Result<T, Fail> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Fail::failed(format!("cannot listen for SIGTERM: {e}")))?;
    let code = tokio::select! {
        done = work => return Ok(done),
        _ = tokio::signal::ctrl_c() => EXIT_INTERRUPTED,
        _ = term.recv() => crate::EXIT_TERMINATED,
    };
    on_stop();
    Err(Fail {
        code,
        message: "stopped by a signal".into(),
        kind: None,
    })
}

/// The summary table of a comparison, for stderr.
fn summary_table(from: &str, to: &str, by: &MatchBy, s: &DiffSummary) -> String {
    const SHOWN: usize = 10;
    let mut t = format!("{from} -> {to}, paired by {}\n", by.name());
    let mut row = |label: String, n: u64| t.push_str(&format!("  {label:<34} {n:>9}\n"));
    row("pairs compared".into(), s.pairs);
    row("pairs equal".into(), s.equal);
    for (field, n) in &s.differing {
        row(format!("pairs differing on {}", field.name()), *n);
    }
    row(
        format!("only at {from} (unmatched)"),
        s.unmatched_left.len() as u64,
    );
    row(
        format!("only at {to} (unmatched)"),
        s.unmatched_right.len() as u64,
    );
    row("ambiguous keys".into(), s.ambiguous.len() as u64);
    let list = |t: &mut String, label: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        let more = items.len().saturating_sub(SHOWN);
        let shown: Vec<&str> = items.iter().take(SHOWN).map(String::as_str).collect();
        t.push_str(&format!("  {label}: {}", shown.join(", ")));
        if more > 0 {
            t.push_str(&format!(" … and {more} more (--output json lists all)"));
        }
        t.push('\n');
    };
    let ids = |u: &[unibill::migrate::Unmatched]| -> Vec<String> {
        u.iter()
            .map(|u| match &u.key {
                Some(k) => format!("{} ({k})", u.id),
                None => format!("{} (no key)", u.id),
            })
            .collect()
    };
    list(&mut t, &format!("only at {from}"), ids(&s.unmatched_left));
    list(&mut t, &format!("only at {to}"), ids(&s.unmatched_right));
    list(
        &mut t,
        "ambiguous",
        s.ambiguous
            .iter()
            .map(|a| format!("{} ({} left, {} right)", a.key, a.left.len(), a.right.len()))
            .collect(),
    );
    t
}

fn diff_options(args: &PairArgs) -> DiffOptions {
    let options = DiffOptions::new(args.match_by.clone());
    if args.fields.is_empty() {
        options
    } else {
        options.fields(args.fields.iter().copied())
    }
}

/// `--output json` prints the summary on stdout: the differences then
/// need a file.
fn check_output(output: Output, report: Option<&Path>) -> Result<(), Fail> {
    if output == Output::Json && report.is_none() {
        return Err(Fail::usage(
            "--output json prints the summary on stdout: give --report FILE for the lines",
        ));
    }
    Ok(())
}

/// `unibill diff`: exit 0 when the two sides agree (every customer paired,
/// none ambiguous, no field differing), 1 when they do not, 2 when they
/// could not be compared.
pub async fn run_diff(cli: &Cli, args: &DiffArgs) -> Result<u8, Fail> {
    let trouble = |mut f: Fail| {
        f.code = EXIT_TROUBLE;
        f
    };
    check_output(cli.output, args.report.as_deref()).map_err(trouble)?;
    let pair = Pair::load(cli, &args.pair.from, &args.pair.to)
        .await
        .map_err(trouble)?;
    let result = compare(cli, args, &*pair.from, &*pair.to).await;
    pair.shutdown().await;
    result.map_err(|f| if f.code == EXIT_FAILED { trouble(f) } else { f })
}

async fn compare(
    cli: &Cli,
    args: &DiffArgs,
    from: &dyn CustomerUpdater,
    to: &dyn CustomerUpdater,
) -> Result<u8, Fail> {
    let (l, r) = (&args.pair.from, &args.pair.to);
    let mut lines = Lines::open(args.report.as_deref(), false)?;
    let display = Display::start(args.pair.progress_secs);
    let options = diff_options(&args.pair).on_progress(display.callback(l, r));
    let mut write_error = None;
    let mut written = 0u64;
    let run = diff(from, to, &options, |d| {
        if write_error.is_some() {
            return;
        }
        match lines.write(d) {
            Ok(()) => written += 1,
            Err(e) => write_error = Some(e),
        }
    });
    let summary = until_signal(run, || {
        crate::say(format_args!(
            "interrupted: nothing was written to either backend"
        ))
    })
    .await;
    display.finish();
    let summary = summary??;
    if let Some(e) = write_error {
        return Err(e);
    }
    lines.finish()?;
    crate::say(format_args!(
        "{}",
        summary_table(l, r, &args.pair.match_by, &summary).trim_end()
    ));
    if let Some(path) = &args.report {
        crate::say(format_args!(
            "{written} difference(s) written to {}",
            path.display()
        ));
    }
    if cli.output == Output::Json {
        crate::out(&format!("{}\n", json!({ "diff": summary })))?;
    }
    Ok(if summary.is_clean() { 0 } else { 1 })
}

/// The keys a sync report holds as applied or unchanged (a missing file
/// holds none; a torn last line is ignored).
fn done_keys(path: &Path) -> Result<BTreeSet<String>, Fail> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => {
            return Err(Fail::usage(format!(
                "cannot read --report {}: {e}",
                path.display()
            )))
        }
    };
    #[derive(serde::Deserialize)]
    struct Line {
        key: String,
        status: String,
    }
    let mut done = BTreeSet::new();
    for line in text.lines() {
        if let Ok(l) = serde_json::from_str::<Line>(line) {
            // The last line of a key wins.
            if matches!(l.status.as_str(), "applied" | "unchanged") {
                done.insert(l.key);
            } else {
                done.remove(&l.key);
            }
        }
    }
    Ok(done)
}

/// One line of the sync report.
fn sync_line(item: &SyncItem, apply: bool) -> Value {
    let names = |fields: &[Field]| -> Vec<&str> { fields.iter().map(|f| f.name()).collect() };
    let (status, error) = match &item.result {
        Err(e) => (
            "failed",
            Some(json!({"kind": kind_name(e.kind()), "message": e.to_string()})),
        ),
        Ok(true) => ("applied", None),
        Ok(false) if apply || item.repaired.is_empty() => ("unchanged", None),
        Ok(false) => ("planned", None),
    };
    let mut line = json!({
        "key": item.key,
        "source_id": item.source_id,
        "target_id": item.target_id,
        "repaired": names(&item.repaired),
        "cannot_set": names(&item.cannot_set),
        "status": status,
    });
    if let (Some(error), Value::Object(m)) = (error, &mut line) {
        m.insert("error".into(), error);
    }
    line
}

/// `unibill sync`: exit 0 when every repair succeeded (or, on a dry run,
/// would be accepted), 1 when some failed, 2 on usage.
pub async fn run_sync(cli: &Cli, args: &SyncArgs) -> Result<u8, Fail> {
    check_output(cli.output, args.report.as_deref())?;
    let skip = match (&args.report, args.resume) {
        (Some(path), true) => done_keys(path)?,
        _ => BTreeSet::new(),
    };
    let pair = Pair::load(cli, &args.pair.from, &args.pair.to).await?;
    let result = repair(cli, args, skip, &*pair.from, &*pair.to).await;
    pair.shutdown().await;
    result
}

async fn repair(
    cli: &Cli,
    args: &SyncArgs,
    skip: BTreeSet<String>,
    from: &dyn CustomerUpdater,
    to: &dyn CustomerUpdater,
) -> Result<u8, Fail> {
    let (l, r) = (&args.pair.from, &args.pair.to);
    let mut lines = Lines::open(args.report.as_deref(), args.resume)?;
    let display = Display::start(args.pair.progress_secs);
    let mut options = SyncOptions::new(args.pair.match_by.clone())
        .apply(args.apply)
        .concurrency(usize::from(args.concurrency))
        .skip_keys(skip)
        .on_progress(display.callback(l, r));
    if !args.pair.fields.is_empty() {
        options = options.fields(args.pair.fields.iter().copied());
    }
    let mut write_error = None;
    let mut failures = Vec::new();
    let run = sync(from, to, &options, |item| {
        if let Err(e) = &item.result {
            if failures.len() < 20 {
                failures.push(format!("{} ({}): {e}", item.key, item.target_id));
            }
        }
        if write_error.is_none() {
            if let Err(e) = lines.write(&sync_line(item, args.apply)) {
                write_error = Some(e);
            }
        }
    });
    let report = args.report.clone();
    let summary = until_signal(run, || match &report {
        Some(path) => crate::say(format_args!(
            "interrupted: the repairs finished so far are in {}; run again with --resume",
            path.display()
        )),
        None => crate::say(format_args!(
            "interrupted: run again (a sync writes nothing twice)"
        )),
    })
    .await;
    display.finish();
    let summary: SyncSummary = summary??;
    if let Some(e) = write_error {
        return Err(e);
    }
    lines.finish()?;
    let mut table = summary_table(l, r, &args.pair.match_by, &summary.diff);
    let mode = if args.apply {
        "applied"
    } else {
        "dry run, nothing written; --apply writes"
    };
    table.push_str(&format!("repairs ({mode}):\n"));
    let mut row = |label: String, n: u64| table.push_str(&format!("  {label:<34} {n:>9}\n"));
    row("pairs to repair".into(), summary.to_repair);
    row("pairs written".into(), summary.written);
    row("repairs failed".into(), summary.failed);
    if summary.skipped > 0 {
        row("pairs skipped (--resume)".into(), summary.skipped);
    }
    for (field, n) in &summary.cannot_set {
        row(format!("cannot set {} at {r}", field.name()), *n);
    }
    crate::say(format_args!("{}", table.trim_end()));
    for f in &failures {
        crate::say(format_args!("failed: {f}"));
    }
    if cli.output == Output::Json {
        crate::out(&format!("{}\n", json!({ "sync": summary })))?;
    }
    Ok(if summary.failed > 0 { EXIT_FAILED } else { 0 })
}
