//! What the command's test files share: a sandbox on its own runtime for
//! the binary to talk to, a scratch folder, and the seeded ids.

#![allow(dead_code)] // each test file uses some of it

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use unibill_sandbox::Sandbox;

pub const CM: &str = "cus_ab223d54-75b4-431b-adb2-eb6b9e234571";
pub const CM2: &str = "cus_de305d54-75b4-431b-adb2-eb6b9e546012";
pub const FB: &str = "12000750";

/// A sandbox on its own runtime, for the binary to talk to.
pub struct Env {
    _rt: tokio::runtime::Runtime,
    pub sandbox: Sandbox,
    pub dir: PathBuf,
}

impl Env {
    pub fn new(name: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = rt.block_on(Sandbox::start()).unwrap();
        let dir = std::env::temp_dir().join(format!("unibill-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            _rt: rt,
            sandbox,
            dir,
        }
    }

    pub fn cmd(&self, backend: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_unibill"));
        c.env_clear()
            .env("UNIBILL_BACKEND", backend)
            .env("UNIBILL_RATE_LIMIT", "off")
            .envs(self.sandbox.env_vars())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, backend: &str, args: &[&str]) -> Output {
        self.cmd(backend, args).output().unwrap()
    }

    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_owned()
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    pub fn writes(&self, vendor: &str) -> usize {
        let h = match vendor {
            "chartmogul" => self.sandbox.chartmogul(),
            "fusebill" => self.sandbox.fusebill(),
            _ => self.sandbox.everlytic(),
        };
        h.journal().iter().filter(|e| e.is_write()).count()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts `unibill sandbox` and reads the variables it prints, up to its
/// "Ctrl-C" line: the running child and the variables.
pub fn sandbox_command() -> (
    std::process::Child,
    std::collections::HashMap<String, String>,
) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_unibill"))
        .env_clear()
        .arg("sandbox")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut vars = std::collections::HashMap::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            vars.insert(k.to_owned(), v.to_owned());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    (child, vars)
}

/// `unibill ARGS` against the variables `unibill sandbox` printed, on
/// `backend`.
pub fn run_with(
    vars: &std::collections::HashMap<String, String>,
    backend: &str,
    args: &[&str],
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unibill"))
        .env_clear()
        .envs(vars)
        .env("UNIBILL_BACKEND", backend)
        .args(args)
        .output()
        .unwrap()
}
