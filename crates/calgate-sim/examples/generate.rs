//! Prints how long the tenant generator takes for N people (default 10 000), and how many
//! events it produced:
//!
//!     cargo run --release -p calgate-sim --example generate -- 10000

use std::time::Instant;

use calgate_sim::Tenant;
use jiff::Timestamp;

fn main() {
    let people: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let now = Timestamp::now();
    for seed in 1..=3u64 {
        let started = Instant::now();
        let tenant = Tenant::generate(seed, people, "contoso.com", now);
        let elapsed = started.elapsed();
        let events: usize = tenant.mailboxes.iter().map(|m| m.events.len()).sum();
        println!(
            "seed {seed}: {people} people, {events} events in {:.1} ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
