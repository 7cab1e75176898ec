//! `unibill-sandbox`: run the four vendor emulators until Ctrl-C.
//!
//! ```text
//! cargo run -p unibill-sandbox -- [--chartmogul-port N] [--fusebill-port N] [--everlytic-port N] [--stripe-port N] [--latency-ms N]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use unibill_sandbox::{
    Sandbox, SandboxConfig, CHARTMOGUL_API_KEY, EVERLYTIC_API_KEY, EVERLYTIC_USERNAME,
    FUSEBILL_API_KEY, STRIPE_API_KEY,
};

const USAGE: &str = "usage: unibill-sandbox [--chartmogul-port N] [--fusebill-port N] [--everlytic-port N] [--stripe-port N] [--latency-ms N]

Starts local emulators of the ChartMogul, Fusebill, Everlytic and Stripe
customer APIs on 127.0.0.1 and prints their base URLs and credentials as environment
variables. Port 0 (the default) picks a free port. Stop with Ctrl-C.";

fn parse_args(args: &[String]) -> Result<Option<SandboxConfig>, String> {
    let mut config = SandboxConfig::default();
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?
            }
        };
        match name {
            "--chartmogul-port" | "--fusebill-port" | "--everlytic-port" | "--stripe-port" => {
                let port: u16 = value
                    .parse()
                    .map_err(|_| format!("{name}: '{value}' is not a port number"))?;
                match name {
                    "--chartmogul-port" => config.chartmogul_port = port,
                    "--fusebill-port" => config.fusebill_port = port,
                    "--everlytic-port" => config.everlytic_port = port,
                    _ => config.stripe_port = port,
                }
            }
            "--latency-ms" => {
                let ms: u64 = value
                    .parse()
                    .map_err(|_| format!("{name}: '{value}' is not a number of milliseconds"))?;
                config.latency = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
        i += 1;
    }
    Ok(Some(config))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match Sandbox::start_with(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: could not start the sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("# unibill sandbox is running; copy these lines into your shell:");
    println!(
        "export CHARTMOGUL_BASE_URL={}",
        sandbox.chartmogul().base_url()
    );
    println!("export CHARTMOGUL_API_KEY={CHARTMOGUL_API_KEY}");
    println!("export FUSEBILL_BASE_URL={}", sandbox.fusebill().base_url());
    println!("export FUSEBILL_API_KEY={FUSEBILL_API_KEY}");
    println!("export EVERLYTIC_URL={}", sandbox.everlytic().base_url());
    println!("export EVERLYTIC_USERNAME={EVERLYTIC_USERNAME}");
    println!("export EVERLYTIC_API_KEY={EVERLYTIC_API_KEY}");
    println!("export STRIPE_BASE_URL={}", sandbox.stripe().base_url());
    println!("export STRIPE_API_KEY={STRIPE_API_KEY}");
    println!("# press Ctrl-C to stop");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
    let journals = [
        ("chartmogul", sandbox.chartmogul().journal().len()),
        ("fusebill", sandbox.fusebill().journal().len()),
        ("everlytic", sandbox.everlytic().journal().len()),
        ("stripe", sandbox.stripe().journal().len()),
    ];
    sandbox.shutdown().await;
    for (name, n) in journals {
        println!("# {name}: {n} request(s) served");
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_ports_and_latency() {
        let c = parse_args(&args(&[
            "--chartmogul-port",
            "8001",
            "--fusebill-port=8002",
            "--everlytic-port",
            "8003",
            "--stripe-port=8004",
            "--latency-ms",
            "15",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.chartmogul_port, 8001);
        assert_eq!(c.fusebill_port, 8002);
        assert_eq!(c.everlytic_port, 8003);
        assert_eq!(c.stripe_port, 8004);
        assert_eq!(c.latency, Duration::from_millis(15));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse_args(&args(&["--fusebill-port", "x"])).is_err());
        assert!(parse_args(&args(&["--fusebill-port"])).is_err());
        assert!(parse_args(&args(&["--bogus", "1"])).is_err());
        assert!(parse_args(&args(&["--help"])).unwrap().is_none());
    }
}
