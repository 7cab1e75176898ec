//! Where the command's updater comes from: the environment, a config file,
//! or an in-process sandbox.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use unibill::{Config, CustomerUpdater};
use unibill_sandbox::Sandbox;

use crate::{Cli, Fail};

/// The updater a command runs with, and the sandbox behind it if any.
pub struct Environment {
    /// The client.
    pub updater: Arc<dyn CustomerUpdater>,
    sandbox: Option<Sandbox>,
}

impl Environment {
    /// Builds the updater the flags and environment ask for.
    pub async fn load(cli: &Cli) -> Result<Self, Fail> {
        let profile = match &cli.profile {
            Some(p) => Some((p.clone(), "--profile")),
            None => std::env::var(PROFILE_VAR)
                .ok()
                .filter(|p| !p.trim().is_empty())
                .map(|p| (p, PROFILE_VAR)),
        };
        let file = match (&cli.config, &profile) {
            (Some(path), _) => Some(read_config_file(
                path,
                profile.as_ref().map(|(p, _)| p.as_str()),
            )?),
            // The flag needs a file; the variable, set once in a shell,
            // applies only to runs that give one.
            (None, Some((name, "--profile"))) => {
                return Err(Fail::usage(format!(
                    "--profile `{name}` names a profile of a config file: give --config FILE"
                )))
            }
            (None, Some(_)) => None,
            (None, None) => None,
        };
        let backend = cli.backend.as_deref().map(str::to_ascii_lowercase);
        if let (Some(file), Some(backend)) = (&file, &backend) {
            if !cli.sandbox && file.backend() != backend {
                return Err(Fail::usage(format!(
                    "--backend {backend} contradicts the config file, which names `{}`",
                    file.backend()
                )));
            }
        }
        // An unknown `--backend` is the flag's fault, not the variable's
        // it stands in for.
        let blame_flag = |e: unibill::Error| -> Fail {
            match (&e, &cli.backend) {
                (unibill::Error::Config { field, reason }, Some(flag))
                    if field == unibill::config::BACKEND_VAR =>
                {
                    Fail::usage(format!("--backend `{flag}`: {reason}"))
                }
                _ => Fail::from(e),
            }
        };
        let mut sandbox = None;
        let config = if cli.sandbox {
            let sb = Sandbox::start()
                .await
                .map_err(|e| Fail::failed(format!("cannot start the sandbox: {e}")))?;
            // Nothing reads the journal of an in-process sandbox: keep
            // none, so that a long bulk run stays flat in memory.
            sb.set_journal_capacity(Some(0));
            // Customers sharing an email or a reference, and ones found
            // alone by theirs, so that `email:`/`ref:` can be tried.
            sb.add_lookup_seeds();
            let vars: HashMap<&str, String> = sb.env_vars().into_iter().collect();
            let backend = backend
                .clone()
                .or_else(|| file.as_ref().map(|f| f.backend().to_owned()))
                .or_else(|| std::env::var(unibill::config::BACKEND_VAR).ok())
                .unwrap_or_else(|| "fusebill".to_owned());
            let config = Config::from_lookup(|name| {
                if name == unibill::config::BACKEND_VAR {
                    return Some(backend.clone());
                }
                vars.get(name).cloned().or_else(|| std::env::var(name).ok())
            })
            .map_err(blame_flag)?;
            sandbox = Some(sb);
            match &file {
                Some(f) => config.with_settings(f.settings().clone()),
                None => config,
            }
        } else if let Some(file) = file {
            file
        } else {
            Config::from_lookup(|name| {
                if name == unibill::config::BACKEND_VAR {
                    if let Some(b) = &backend {
                        return Some(b.clone());
                    }
                }
                std::env::var(name).ok()
            })
            .map_err(blame_flag)?
        };
        let updater = config.build()?;
        Ok(Self { updater, sandbox })
    }

    /// Stops the in-process sandbox, if any.
    pub async fn shutdown(self) {
        drop(self.updater);
        if let Some(sb) = self.sandbox {
            sb.shutdown().await;
        }
    }
}

/// The two updaters of `diff` and `sync`, and the sandbox behind them if
/// any.
pub struct Pair {
    /// The left backend (`--from`, a sync's source of truth).
    pub from: Arc<dyn CustomerUpdater>,
    /// The right backend (`--to`, a sync's target).
    pub to: Arc<dyn CustomerUpdater>,
    sandbox: Option<Sandbox>,
}

impl Pair {
    /// Builds the updaters `--from` and `--to` name: profiles of
    /// `--config FILE` when one is given, else backend names configured
    /// from the environment, or from an in-process sandbox seeded for a
    /// migration rehearsal (`--sandbox`).
    pub async fn load(cli: &Cli, from: &str, to: &str) -> Result<Self, Fail> {
        if cli.backend.is_some() || cli.profile.is_some() {
            return Err(Fail::usage(
                "--from and --to name the two backends (or profiles of --config): leave out --backend and --profile",
            ));
        }
        let mut sandbox = None;
        let mut vars = None;
        if cli.sandbox {
            let sb = Sandbox::start()
                .await
                .map_err(|e| Fail::failed(format!("cannot start the sandbox: {e}")))?;
            sb.set_journal_capacity(Some(0));
            vars = Some(sb.env_vars().into_iter().collect::<HashMap<&str, String>>());
            sandbox = Some(sb);
        }
        let left = named_config(cli, from, "--from", vars.as_ref())?;
        let right = named_config(cli, to, "--to", vars.as_ref())?;
        if let Some(sb) = &sandbox {
            use unibill_sandbox::Vendor;
            let (l, r) = (
                Vendor::from_name(left.backend()),
                Vendor::from_name(right.backend()),
            );
            match (l, r) {
                (Some(l), Some(r)) if l != r => {
                    let truth =
                        sb.seed_migration(l, r, &unibill_sandbox::MigrationScenario::default());
                    crate::say(format_args!(
                        "sandbox: {} customers at both {} and {} ({} of them drifting), {} at each alone, {} references held twice on the left",
                        truth.pairs.len(),
                        l.name(),
                        r.name(),
                        truth
                            .differences
                            .iter()
                            .map(|d| d.key.as_str())
                            .collect::<std::collections::BTreeSet<_>>()
                            .len(),
                        truth.unmatched_left.len(),
                        truth.ambiguous.len(),
                    ));
                }
                _ => {
                    return Err(Fail::usage(format!(
                        "--sandbox needs two different backends, not {} and {}",
                        left.backend(),
                        right.backend()
                    )))
                }
            }
        }
        Ok(Self {
            from: left.build()?,
            to: right.build()?,
            sandbox,
        })
    }

    /// Stops the in-process sandbox, if any.
    pub async fn shutdown(self) {
        drop((self.from, self.to));
        if let Some(sb) = self.sandbox {
            sb.shutdown().await;
        }
    }
}

/// The config `name` stands for: the profile `name` of `--config FILE`,
/// else the backend `name` configured from the environment; in a sandbox
/// (`vars`), the sandbox's address and keys with the profile's other
/// settings.
fn named_config(
    cli: &Cli,
    name: &str,
    flag: &str,
    vars: Option<&HashMap<&str, String>>,
) -> Result<Config, Fail> {
    let file = match &cli.config {
        Some(path) => Some(
            read_config_file(path, Some(name))
                .map_err(|f| Fail::usage(format!("{flag} `{name}`: {}", f.message)))?,
        ),
        None => None,
    };
    let backend = match &file {
        Some(f) if vars.is_none() => return Ok(f.clone()),
        Some(f) => f.backend().to_owned(),
        None => name.trim().to_ascii_lowercase(),
    };
    let config = Config::from_lookup(|var| {
        if var == unibill::config::BACKEND_VAR {
            return Some(backend.clone());
        }
        vars.and_then(|v| v.get(var).cloned())
            .or_else(|| std::env::var(var).ok())
    })
    .map_err(|e| match &e {
        unibill::Error::Config { field, reason } if field == unibill::config::BACKEND_VAR => {
            Fail::usage(format!("{flag} `{name}`: {reason}"))
        }
        _ => Fail::from(e),
    })?;
    Ok(match file {
        Some(f) => config.with_settings(f.settings().clone()),
        None => config,
    })
}

/// The variable naming the profile of the config file to use.
pub const PROFILE_VAR: &str = "UNIBILL_PROFILE";

/// Reads a config file: JSON when it ends in `.json`, TOML when it ends in
/// `.toml`, otherwise whichever parses. With `profile`, the table
/// `[profiles.NAME]` is the config; without, the top level (less any
/// `profiles`).
///
/// An error names the file, the line and the key, never a value: the
/// parsers' own messages quote the offending line (an API key pasted
/// without quotes) or the value of the wrong type, so only their reason
/// is kept, with any text of the line's value taken out.
fn read_config_file(path: &Path, profile: Option<&str>) -> Result<Config, Fail> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fail::usage(format!("cannot read --config {}: {e}", path.display())))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let fail = |e: ConfigError| {
        let mut at = String::new();
        if let Some(line) = e.line {
            at.push_str(&format!(", line {line}"));
        }
        if let Some(key) = &e.key {
            at.push_str(&format!(", key `{key}`"));
        }
        let reason = redact(&e.reason, e.line.and_then(|l| text.lines().nth(l - 1)));
        Fail::usage(format!("--config {}{at}: {reason}", path.display()))
    };
    let toml_first = match ext.as_deref() {
        Some("json") => false,
        Some("toml") => true,
        _ => serde_json::from_str::<Value>(&text).is_err(),
    };
    let root = if toml_first {
        parse_toml(&text)
    } else {
        parse_json(&text)
    }
    .map_err(fail)?;
    let (root, prefix) = select_profile(root, profile).map_err(fail)?;
    serde_path_to_error::deserialize::<_, Config>(root).map_err(|e| {
        let path = e.path().to_string();
        let key = if path.is_empty() || path == "." {
            None
        } else {
            Some(format!("{prefix}{path}"))
        };
        let last = path.rsplit('.').next().unwrap_or_default().to_owned();
        let message = e.into_inner().to_string();
        let (line, key) = if last.is_empty() {
            // The config's own deserializer loses the path: find the line
            // by the value the message quotes (never shown).
            let line = quoted_value(&message).and_then(|v| {
                text.lines()
                    .position(|l| l.contains(v.as_str()))
                    .map(|i| i + 1)
            });
            let key = line.and_then(|l| {
                if toml_first {
                    toml_key_at(&text, l)
                } else {
                    json_key_at(&text, l)
                }
            });
            (line, key.map(|k| format!("{prefix}{k}")))
        } else {
            (find_key_line(&text, &last, toml_first), key)
        };
        fail(ConfigError {
            line,
            key,
            reason: serde_reason(&message),
        })
    })
}

/// Where a config file went wrong.
struct ConfigError {
    line: Option<usize>,
    key: Option<String>,
    reason: String,
}

fn parse_toml(text: &str) -> Result<Value, ConfigError> {
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => serde_json::to_value(&table).map_err(|e| ConfigError {
            line: None,
            key: None,
            reason: e.to_string(),
        }),
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Err(ConfigError {
                key: line.and_then(|l| toml_key_at(text, l)),
                line,
                reason: serde_reason(e.message()),
            })
        }
    }
}

fn parse_json(text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str::<Value>(text).map_err(|e| {
        let line = (e.line() > 0).then_some(e.line());
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        ConfigError {
            key: line.and_then(|l| json_key_at(text, l)),
            line,
            reason: serde_reason(&message),
        }
    })
}

/// Picks the profile: `profiles.NAME`, or the top level without
/// `profiles`. Returns it with the key prefix errors in it carry.
fn select_profile(root: Value, profile: Option<&str>) -> Result<(Value, String), ConfigError> {
    let Value::Object(mut root) = root else {
        return Err(ConfigError {
            line: None,
            key: None,
            reason: "the file must hold a table (TOML) or an object (JSON)".to_owned(),
        });
    };
    let profiles = root.remove("profiles");
    let names = || match &profiles {
        Some(Value::Object(p)) if !p.is_empty() => {
            p.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
        }
        _ => "none".to_owned(),
    };
    match profile {
        None if root.is_empty() && profiles.is_some() => Err(ConfigError {
            line: None,
            key: None,
            reason: format!(
                "no top-level settings: choose a profile with --profile NAME or {PROFILE_VAR} (profiles: {})",
                names()
            ),
        }),
        None => Ok((Value::Object(root), String::new())),
        Some(name) => match profiles.as_ref().and_then(|p| p.get(name)) {
            Some(chosen) => Ok((chosen.clone(), format!("profiles.{name}."))),
            None => Err(ConfigError {
                line: None,
                key: None,
                reason: format!("no profile `{name}` (profiles: {})", names()),
            }),
        },
    }
}

/// The reason of a serde or parser message, without the value it quotes:
/// `invalid type: integer `98765`, expected a string` becomes
/// `invalid type, expected a string`.
fn serde_reason(message: &str) -> String {
    let message = message.trim().replace('\n', "; ");
    for what in ["invalid type", "invalid value", "invalid length"] {
        if let Some(rest) = message.strip_prefix(&format!("{what}: ")) {
            return match rest.find("expected") {
                Some(i) => format!("{what}, {}", &rest[i..]),
                None => what.to_owned(),
            };
        }
    }
    message
}

/// The value a serde message quotes (`invalid type: integer `98765`, …`
/// gives `98765`), to find its line.
fn quoted_value(message: &str) -> Option<String> {
    let rest = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|p| message.strip_prefix(p))?;
    let head = rest.split(", expected").next()?;
    let value = head.split_once([' ', '`', '"']).map(|(_, v)| v)?;
    let value = value.trim().trim_matches(['`', '"']);
    (value.len() >= 2).then(|| value.to_owned())
}

/// Takes the text of a line's value out of a message, in case the
/// parser quoted it.
fn redact(reason: &str, line: Option<&str>) -> String {
    let Some(line) = line else {
        return reason.to_owned();
    };
    let value = match line.split_once(['=', ':']) {
        Some((_, v)) => v,
        None => line,
    };
    let value = value
        .trim()
        .trim_end_matches(',')
        .trim_matches(['"', '\'', ' ']);
    if value.chars().count() >= 4 && reason.contains(value) {
        reason.replace(value, "…")
    } else {
        reason.to_owned()
    }
}

/// The dotted key a TOML line sets (`api_key`, `profiles.prod.api_key`),
/// with the table it is in.
fn toml_key_at(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if i + 1 == line {
            let (key, _) = t.split_once('=')?;
            let key = key.trim().trim_matches(['"', '\'']);
            let plain = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            return plain.then(|| {
                if table.is_empty() {
                    key.to_owned()
                } else {
                    format!("{table}.{key}")
                }
            });
        }
        if let Some(h) = t.strip_prefix('[').and_then(|h| h.split(']').next()) {
            table = h.trim_matches(['[', ' ']).to_owned();
        }
    }
    None
}

/// The key a JSON line names (`"api_key": …`).
fn json_key_at(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let rest = l.trim_start().strip_prefix('"')?;
    let (key, after) = rest.split_once('"')?;
    after.trim_start().starts_with(':').then(|| key.to_owned())
}

/// The first line that sets `key` (its last path segment).
fn find_key_line(text: &str, key: &str, toml: bool) -> Option<usize> {
    text.lines().enumerate().find_map(|(i, l)| {
        let found = if toml {
            l.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches(['"', '\'']) == key)
        } else {
            json_key_at(l, 1).is_some_and(|k| k == key)
        };
        found.then_some(i + 1)
    })
}

/// `unibill sandbox`: runs the emulators, with the lookup seeds, until
/// Ctrl-C or SIGTERM.
pub async fn serve_sandbox() -> Result<u8, Fail> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Fail::failed(format!("cannot listen for SIGTERM: {e}")))?;
    let sb = Sandbox::start()
        .await
        .map_err(|e| Fail::failed(format!("cannot start the sandbox: {e}")))?;
    // The same customers as `--sandbox`, so that the docs' `email:` and
    // `ref:` examples work against it.
    sb.add_lookup_seeds();
    let mut text =
        String::from("# unibill sandbox is running; copy these lines into your shell:\n");
    for (name, value) in sb.env_vars() {
        text.push_str(&format!("export {name}={value}\n"));
    }
    text.push_str("# then e.g. export UNIBILL_BACKEND=fusebill; press Ctrl-C to stop\n");
    crate::out(&text)?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => {
            if let Err(e) = r {
                crate::say(format_args!("error: cannot wait for Ctrl-C: {e}"));
            }
        }
        _ = term.recv() => {}
    }
    sb.shutdown().await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_drop_the_values_they_quote() {
        assert_eq!(
            serde_reason("invalid type: integer `98765432109876`, expected a string"),
            "invalid type, expected a string"
        );
        assert_eq!(
            redact(
                "invalid string sk_live_abcd",
                Some("api_key = sk_live_abcd")
            ),
            "invalid string …"
        );
    }

    #[test]
    fn keys_of_lines() {
        let t = "backend = \"x\"\n[profiles.prod]\napi_key = 1\n";
        assert_eq!(toml_key_at(t, 1).as_deref(), Some("backend"));
        assert_eq!(toml_key_at(t, 3).as_deref(), Some("profiles.prod.api_key"));
        assert_eq!(
            json_key_at("{\n  \"api_key\": 12\n}", 2).as_deref(),
            Some("api_key")
        );
    }
}
