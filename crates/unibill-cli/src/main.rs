//! `unibill`: read and update billing customers at ChartMogul, Fusebill or
//! an Everlytic install from the command line, one at a time or in bulk
//! from CSV or JSONL. See `docs/cli.md`.
#![forbid(unsafe_code)]

mod bulk;
mod config;
mod fields;
mod gate;
mod input;
mod migrate;
mod reference;
mod report;
mod verbose;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use unibill::{CustomerPatch, CustomerUpdater, UpdateOptions};

use crate::fields::{check_field, insert_path, parse_custom, patch_from_json, settable_fields};

/// Exit code: some rows or the single update failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: usage or configuration error (nothing was sent).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: stopped by Ctrl-C (SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;
/// Exit code: stopped by SIGTERM (systemd, docker, Kubernetes, `timeout`).
pub const EXIT_TERMINATED: u8 = 143;

/// Writes one line to stderr; a closed stderr is ignored.
pub fn say(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.write_all(b"\n");
}

/// Writes `text` to stdout. A reader that went away (`| head`) ends the
/// command quietly, as Unix tools do; another write error is reported.
pub fn out(text: &str) -> Result<(), Fail> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Fail::failed(format!("cannot write to stdout: {e}"))),
    }
}

/// A library error as the command prints it: an unsupported change says
/// how to leave it out.
pub fn error_message(e: &unibill::Error) -> String {
    match e.kind() {
        unibill::ErrorKind::Unsupported => {
            format!("{e} (--ignore-unsupported leaves out what the backend cannot do)")
        }
        _ => e.to_string(),
    }
}

/// Read and update billing customers at ChartMogul, Fusebill or Everlytic.
///
/// Configuration comes from the environment (UNIBILL_BACKEND,
/// FUSEBILL_API_KEY, ...) or from --config FILE; --sandbox runs against an
/// in-process emulator instead.
#[derive(Debug, Parser)]
#[command(name = "unibill", version)]
pub struct Cli {
    /// A config file (TOML or JSON), e.g. `backend = "fusebill"` and `api_key = "..."`.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The profile of the config file to use: its `[profiles.NAME]`
    /// table (default: UNIBILL_PROFILE, else the file's top level).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// The backend: chartmogul, fusebill or everlytic (overrides UNIBILL_BACKEND).
    #[arg(long, global = true, value_name = "NAME")]
    backend: Option<String>,
    /// Run against an in-process sandbox (the embedded emulators, seeded
    /// with the vendors' example customers and the lookup seeds); backend
    /// fusebill unless named.
    #[arg(long, global = true)]
    sandbox: bool,
    /// Print each HTTP request on stderr: backend, method, path, status
    /// and time (never a key or a body).
    #[arg(short = 'v', long = "verbose", visible_alias = "debug", global = true)]
    verbose: bool,
    /// Output of `get`, `update` and `capabilities`: `text` (pretty JSON,
    /// the capability table in Markdown) or `json` (one JSON document on
    /// stdout, an error included; messages stay on stderr).
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

/// The output formats of `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people: pretty JSON, and the capability table in Markdown.
    Text,
    /// For scripts: one compact JSON document on stdout.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a customer as neutral JSON.
    Get {
        /// The customer: the vendor's id, `email:ADDR`, or `ref:VALUE` (your own reference).
        #[arg(value_name = "REF")]
        reference: String,
        /// Print the vendor's own record instead.
        #[arg(long)]
        raw: bool,
    },
    /// Update one customer; prints the writes sent and the customer afterwards.
    Update(UpdateArgs),
    /// Update many customers from a CSV or JSONL file.
    Bulk(bulk::BulkArgs),
    /// Compare the customers of two backends field by field: one JSON
    /// line per difference, a summary on stderr; exit 0 when they agree,
    /// 1 when they differ, 2 on trouble.
    Diff(migrate::DiffArgs),
    /// Make the --to backend agree with --from (the source of truth) on
    /// the fields it can set; a dry run unless --apply.
    Sync(migrate::SyncArgs),
    /// Print what each compiled-in backend can read, set and clear.
    Capabilities,
    /// Run the embedded sandbox until Ctrl-C and print its environment variables.
    Sandbox,
    /// Print a shell completion script: `unibill completions bash > /etc/bash_completion.d/unibill`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// The shells `unibill completions` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// The customer: the vendor's id, `email:ADDR`, or `ref:VALUE` (your own reference).
    #[arg(value_name = "REF")]
    reference: String,
    /// Set a field: `address.city=Paris` (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Clear a field: `phone`, or `custom.KEY` to delete a custom attribute (repeatable).
    #[arg(long = "clear", value_name = "FIELD")]
    clear: Vec<String>,
    /// Add (`+vip`) or remove (`-trial`) a tag (repeatable).
    #[arg(long = "tag", value_name = "+TAG|-TAG", allow_hyphen_values = true)]
    tag: Vec<String>,
    /// Set a typed custom attribute: `plan_tier:Integer=3` (repeatable).
    #[arg(long = "custom", value_name = "KEY:TYPE=VALUE")]
    custom: Vec<String>,
    /// A neutral JSON merge patch from a file, or `-` for stdin; the other
    /// options apply on top of it.
    #[arg(long, value_name = "FILE|-")]
    patch: Option<PathBuf>,
    #[command(flatten)]
    common: CommonUpdate,
}

/// Options shared by `update` and `bulk`.
#[derive(Debug, Args, Clone)]
pub struct CommonUpdate {
    /// Print (or report) the writes that would be sent; send none.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave out changes the backend cannot make (listed in the output)
    /// instead of refusing the update.
    #[arg(long)]
    pub ignore_unsupported: bool,
}

impl CommonUpdate {
    /// The library options these flags ask for.
    pub fn options(&self) -> UpdateOptions {
        if self.ignore_unsupported {
            UpdateOptions::ignore_unsupported()
        } else {
            UpdateOptions::default()
        }
    }
}

/// An error that ends the command, with its exit code.
#[derive(Debug)]
pub struct Fail {
    /// Exit code.
    pub code: u8,
    /// What to print.
    pub message: String,
    /// The library's error kind in snake case (`not_found`), when the
    /// library raised it; for `--output json`.
    pub kind: Option<String>,
}

impl Fail {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_USAGE,
            message: message.into(),
            kind: None,
        }
    }

    /// A failed operation (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_FAILED,
            message: message.into(),
            kind: None,
        }
    }
}

impl From<unibill::Error> for Fail {
    /// A configuration error, or a value refused before any request
    /// (`Validation`), is a usage error (exit 2); the rest exit 1.
    fn from(e: unibill::Error) -> Self {
        let mut fail = match e.kind() {
            unibill::ErrorKind::Config | unibill::ErrorKind::Validation => {
                Fail::usage(error_message(&e))
            }
            _ => Fail::failed(error_message(&e)),
        };
        fail.kind = Some(report::kind_name(e.kind()));
        fail
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(format_args!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if cli.verbose {
        verbose::install();
    }
    let output = cli.output;
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(fail) => {
            if output == Output::Json {
                let doc = json!({"error": {
                    "code": fail.code,
                    "kind": fail.kind.as_deref().unwrap_or("usage"),
                    "message": fail.message,
                }});
                // Not `out`: a reader that went away must not turn the
                // failure into exit 0.
                {
                    use std::io::Write;
                    let _ = writeln!(std::io::stdout(), "{doc}");
                }
            }
            say(format_args!("error: {}", fail.message));
            ExitCode::from(fail.code)
        }
    }
}

async fn run(cli: Cli) -> Result<u8, Fail> {
    let output = cli.output;
    match &cli.command {
        Command::Capabilities => {
            match output {
                Output::Text => out(&unibill::capability_table()?)?,
                Output::Json => out(&format!("{}\n", capabilities_json()))?,
            }
            return Ok(0);
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let mut command = Cli::command();
            match shell {
                Shell::Bash => clap_complete::generate(
                    clap_complete::Shell::Bash,
                    &mut command,
                    "unibill",
                    &mut script,
                ),
                Shell::Zsh => clap_complete::generate(
                    clap_complete::Shell::Zsh,
                    &mut command,
                    "unibill",
                    &mut script,
                ),
                Shell::Fish => clap_complete::generate(
                    clap_complete::Shell::Fish,
                    &mut command,
                    "unibill",
                    &mut script,
                ),
            }
            out(&String::from_utf8_lossy(&script))?;
            return Ok(0);
        }
        Command::Sandbox => return config::serve_sandbox().await,
        Command::Diff(args) => return migrate::run_diff(&cli, args).await,
        Command::Sync(args) => return migrate::run_sync(&cli, args).await,
        _ => {}
    }
    let env = config::Environment::load(&cli).await?;
    let updater = env.updater.as_ref();
    let code = match cli.command {
        Command::Get { reference, raw } => get(updater, &reference, raw, output).await?,
        Command::Update(args) => update(updater, args, output).await?,
        Command::Bulk(args) => bulk::run(updater, args).await?,
        Command::Capabilities
        | Command::Sandbox
        | Command::Completions { .. }
        | Command::Diff(_)
        | Command::Sync(_) => 0,
    };
    env.shutdown().await;
    Ok(code)
}

/// What each compiled-in backend can read, set and clear, and look up by,
/// as JSON: `{"chartmogul": {"fields": {"address.city": {"read": true,
/// "set": true, "clear": true}, …}, "lookups": ["email", "external"]}, …}`.
fn capabilities_json() -> Value {
    let mut backends = Map::new();
    for caps in unibill::backend_capabilities() {
        let fields: Map<String, Value> = unibill::Field::ALL
            .iter()
            .map(|f| {
                let c = caps.get(*f);
                (
                    f.name().to_owned(),
                    json!({"read": c.read, "set": c.set, "clear": c.clear}),
                )
            })
            .collect();
        let lookups: Vec<&str> = unibill::LookupKind::ALL
            .iter()
            .filter(|k| caps.can_lookup(**k))
            .map(|k| k.field())
            .collect();
        backends.insert(
            caps.backend().to_string(),
            json!({"fields": fields, "lookups": lookups}),
        );
    }
    Value::Object(backends)
}

fn print_json(value: &Value, output: Output) -> Result<(), Fail> {
    let mut text = match output {
        Output::Text => serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
        Output::Json => value.to_string(),
    };
    text.push('\n');
    out(&text)
}

async fn get(
    updater: &dyn CustomerUpdater,
    reference: &str,
    raw: bool,
    output: Output,
) -> Result<u8, Fail> {
    let reference = reference::parse(reference)?;
    let customer = updater.get(&reference).await?;
    if raw {
        print_json(&customer.raw, output)?;
    } else {
        let mut value = serde_json::to_value(&customer)
            .map_err(|e| Fail::failed(format!("cannot print the customer: {e}")))?;
        if let Value::Object(m) = &mut value {
            m.remove("raw");
        }
        print_json(&value, output)?;
    }
    Ok(0)
}

/// Builds the patch of `unibill update` from its flags.
fn build_patch(args: &UpdateArgs) -> Result<CustomerPatch, Fail> {
    let valid = settable_fields();
    let mut json = match &args.patch {
        None => Map::new(),
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(path)
            }
            .map_err(|e| Fail::usage(format!("cannot read --patch {}: {e}", path.display())))?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(Fail::usage("--patch: the patch must be a JSON object")),
                Err(e) => return Err(Fail::usage(format!("--patch: not JSON: {e}"))),
            }
        }
    };
    for spec in &args.set {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| Fail::usage(format!("--set `{spec}` needs the form FIELD=VALUE")))?;
        check_field(name, &valid).map_err(Fail::usage)?;
        insert_path(&mut json, name, Value::String(value.to_owned()));
    }
    let mut clear_custom = Vec::new();
    for name in &args.clear {
        if let Some(key) = name.strip_prefix("custom.") {
            clear_custom.push(key.to_owned());
            continue;
        }
        check_field(name, &valid).map_err(Fail::usage)?;
        insert_path(&mut json, name, Value::Null);
    }
    let mut patch = patch_from_json(Value::Object(json)).map_err(Fail::usage)?;
    for key in clear_custom {
        patch = patch.clear_custom(key);
    }
    for spec in &args.custom {
        let (key, attr) = parse_custom(spec).map_err(Fail::usage)?;
        patch = patch.custom_attribute(key, attr);
    }
    for tag in &args.tag {
        patch = match (tag.strip_prefix('+'), tag.strip_prefix('-')) {
            (Some(t), _) if !t.is_empty() => patch.add_tag(t),
            (_, Some(t)) if !t.is_empty() => patch.remove_tag(t),
            _ if tag == "+" || tag == "-" => {
                return Err(Fail::usage(format!(
                    "--tag `{tag}` names no tag: write +TAG to add one or -TAG to remove one"
                )))
            }
            _ => {
                return Err(Fail::usage(format!(
                    "--tag `{tag}` must start with + (add) or - (remove)"
                )))
            }
        };
    }
    if patch.is_empty() {
        return Err(Fail::usage(
            "nothing to update: give --set, --clear, --tag, --custom or --patch",
        ));
    }
    Ok(patch)
}

async fn update(
    updater: &dyn CustomerUpdater,
    args: UpdateArgs,
    output: Output,
) -> Result<u8, Fail> {
    let patch = build_patch(&args)?;
    let reference = reference::parse(&args.reference)?;
    let options = args.common.options();
    let ignored_json = |ignored: &[unibill::Ignored]| -> Vec<String> {
        ignored.iter().map(ToString::to_string).collect()
    };
    if args.common.dry_run {
        let plan = updater.dry_run(&reference, &patch, &options).await?;
        print_json(
            &json!({
                "dry_run": true,
                "writes": plan.writes,
                "ignored": ignored_json(&plan.ignored),
            }),
            output,
        )?;
    } else {
        let outcome = updater.update_with(&reference, &patch, &options).await?;
        let mut customer = serde_json::to_value(&outcome.customer)
            .map_err(|e| Fail::failed(format!("cannot print the customer: {e}")))?;
        if let Value::Object(m) = &mut customer {
            m.remove("raw");
        }
        print_json(
            &json!({
                "writes": outcome.writes,
                "ignored": ignored_json(&outcome.ignored),
                "customer": customer,
            }),
            output,
        )?;
    }
    Ok(0)
}
