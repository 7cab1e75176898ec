//! Runs the fuzz targets: `unibill-fuzz [CASES] [SEED]` (defaults 100000
//! and 1). Prints the cases run and the peak resident memory; exits 1 with
//! the failing target, case and input on the first panic.

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    // Panics are caught and reported by the runner; keep stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let started = std::time::Instant::now();
    match unibill_fuzz::run(seed, cases) {
        Ok(report) => {
            println!(
                "seed {seed}: {} cases, {} target runs across {} targets, no panic, {:.1} s, peak RSS {} KiB",
                report.cases,
                report.executions,
                unibill_fuzz::TARGETS.len(),
                started.elapsed().as_secs_f64(),
                peak_rss_kib().map_or("?".to_owned(), |k| k.to_string())
            );
        }
        Err(f) => {
            eprintln!(
                "{} panicked on case {} (seed {seed}): {}\ninput: {:?}",
                f.target,
                f.case,
                f.message,
                String::from_utf8_lossy(&f.input)
            );
            std::process::exit(1);
        }
    }
}
