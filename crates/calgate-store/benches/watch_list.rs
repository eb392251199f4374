//! What storing a watch list costs per person as the list grows: `N` people without names (the
//! benchmark's case: the address is the name) written in parts of `P`, each part's CPU per
//! person printed, then the whole list written again unchanged in one call. CPU is the whole
//! process's (the SQLite worker thread included), from `/proc/self/stat`. Prints figures and
//! asserts nothing.
//!
//! `cargo bench -p calgate-store --bench watch_list` (optimized);
//! `CALGATE_BENCH_PEOPLE` (default 100 000) and `CALGATE_BENCH_PART` (default 10 000) set the
//! sizes.

use std::time::Instant;

use calgate_store::{Store, WatchedPerson};

/// User+system CPU seconds of this process (clock ticks of 10 ms).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A scattered address for person `i` (the simulator's `given.family@` addresses arrive in no
/// particular order): a multiplicative hash spreads consecutive indexes over the key space.
fn address(i: usize) -> String {
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    format!("g{:011x}.family{i}@contoso.com", h)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let people = env("CALGATE_BENCH_PEOPLE", 100_000);
    let part = env("CALGATE_BENCH_PART", 10_000).max(1);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(people, part))
}

async fn run(people: usize, part: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path()).await?;
    let crowd: Vec<WatchedPerson> = (0..people)
        .map(|i| WatchedPerson::manual(&address(i), "", None))
        .collect();
    println!("watch list of {people} people in parts of {part}");
    let (cpu0, wall0) = (cpu_s(), Instant::now());
    for (n, chunk) in crowd.chunks(part).enumerate() {
        let before = cpu_s();
        store.upsert_people(chunk).await?;
        let cpu = cpu_s() - before;
        println!(
            "part {n:>4}: {:>7.1} µs of CPU per person",
            cpu / chunk.len() as f64 * 1e6
        );
    }
    let cpu = cpu_s() - cpu0;
    println!(
        "all parts: {cpu:.2} s of CPU ({:.1} µs per person), {:.2?} wall",
        cpu / people as f64 * 1e6,
        wall0.elapsed()
    );
    let before = cpu_s();
    store.upsert_people(&crowd).await?;
    let cpu = cpu_s() - before;
    println!(
        "unchanged again in one call: {cpu:.2} s of CPU ({:.1} µs per person)",
        cpu / people as f64 * 1e6
    );
    store.close().await;
    Ok(())
}
