//! Where the command's updater comes from: the environment, a config file,
//! or an in-process sandbox.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

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
        let file = cli.config.as_deref().map(read_config_file).transpose()?;
        let backend = cli.backend.as_deref().map(str::to_ascii_lowercase);
        if let (Some(file), Some(backend)) = (&file, &backend) {
            if !cli.sandbox && file.backend() != backend {
                return Err(Fail::usage(format!(
                    "--backend {backend} contradicts the config file, which names `{}`",
                    file.backend()
                )));
            }
        }
        let mut sandbox = None;
        let config = if cli.sandbox {
            let sb = Sandbox::start()
                .await
                .map_err(|e| Fail::failed(format!("cannot start the sandbox: {e}")))?;
            // Customers sharing an email or a reference, and ones found
            // alone by theirs, so that `email:`/`ref:` can be tried.
            sb.add_lookup_seeds();
            let vars: HashMap<&str, String> = sb.env_vars().into_iter().collect();
            let backend = backend
                .or_else(|| file.as_ref().map(|f| f.backend().to_owned()))
                .or_else(|| std::env::var(unibill::config::vars::BACKEND).ok())
                .unwrap_or_else(|| "fusebill".to_owned());
            let config = Config::from_lookup(|name| {
                if name == unibill::config::vars::BACKEND {
                    return Some(backend.clone());
                }
                vars.get(name).cloned().or_else(|| std::env::var(name).ok())
            })?;
            sandbox = Some(sb);
            match &file {
                Some(f) => config.with_settings(f.settings().clone()),
                None => config,
            }
        } else if let Some(file) = file {
            file
        } else {
            Config::from_lookup(|name| {
                if name == unibill::config::vars::BACKEND {
                    if let Some(b) = &backend {
                        return Some(b.clone());
                    }
                }
                std::env::var(name).ok()
            })?
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

/// Reads a config file: JSON when it ends in `.json`, TOML when it ends in
/// `.toml`, otherwise whichever parses.
fn read_config_file(path: &Path) -> Result<Config, Fail> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fail::usage(format!("cannot read --config {}: {e}", path.display())))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let json = || serde_json::from_str::<Config>(&text).map_err(|e| e.to_string());
    let toml = || toml::from_str::<Config>(&text).map_err(|e| e.to_string());
    let parsed = match ext.as_deref() {
        Some("json") => json(),
        Some("toml") => toml(),
        _ => json().or_else(|_| toml()),
    };
    parsed.map_err(|e| Fail::usage(format!("--config {}: {e}", path.display())))
}

/// `unibill sandbox`: runs the emulators until Ctrl-C.
pub async fn serve_sandbox() -> Result<u8, Fail> {
    let sb = Sandbox::start()
        .await
        .map_err(|e| Fail::failed(format!("cannot start the sandbox: {e}")))?;
    println!("# unibill sandbox is running; copy these lines into your shell:");
    for (name, value) in sb.env_vars() {
        println!("export {name}={value}");
    }
    println!("# then e.g. export UNIBILL_BACKEND=fusebill; press Ctrl-C to stop");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
    sb.shutdown().await;
    Ok(0)
}
