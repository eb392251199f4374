//! Store figures on a real SQLite file: bulk upsert of a large watch list, prefix search,
//! durable settings saves, API-token checks and warm-restart snapshots. Prints figures and
//! asserts nothing (timed assertions do not belong in tests).
//!
//! `cargo bench -p calgate-store --bench store` (optimized), or
//! `cargo test -p calgate-store --bench store` (unoptimized, quicker to build).
//! `CALGATE_BENCH_PEOPLE` sets the watch-list size (default 100 000).

use std::time::{Duration, Instant};

use calgate_core::{Availability, BusyType, CalendarEvent};
use calgate_settings::{CalendarSettings, validate_json};
use calgate_store::{ApiRole, Store, WatchedPerson};
use jiff::{SignedDuration, Timestamp};
use secrecy::ExposeSecret;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    println!(
        "{what:<44} n={:<6} p50={:>9.3?} p99={:>9.3?} max={:>9.3?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let people: usize = std::env::var("CALGATE_BENCH_PEOPLE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(people))
}

async fn run(people: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path()).await?;
    println!(
        "calgate-store figures ({} build), {people} people",
        if cfg!(debug_assertions) {
            "unoptimized"
        } else {
            "optimized"
        }
    );

    let crowd: Vec<WatchedPerson> = (0..people)
        .map(|i| {
            WatchedPerson::manual(
                &format!("person{i:06}@contoso.com"),
                &format!("Given{} Family{i:06}", i % 997),
                Some(&format!("{}", 10_000 + i)),
            )
        })
        .collect();
    let started = Instant::now();
    store.upsert_people(&crowd).await?;
    let elapsed = started.elapsed();
    println!(
        "{:<44} {people} rows in {elapsed:.2?} ({:.0} rows/s)",
        "bulk upsert (one transaction)",
        people as f64 / elapsed.as_secs_f64()
    );
    let started = Instant::now();
    store.upsert_people(&crowd).await?;
    println!(
        "{:<44} {people} rows in {:.2?}",
        "bulk upsert again (all updates)",
        started.elapsed()
    );

    let mut samples = Vec::new();
    for i in 0..200 {
        let query = format!("Family{:04}", (i * 37) % (people / 100).max(1));
        let started = Instant::now();
        let found = store.search_people(&query, 50).await?;
        samples.push(started.elapsed());
        std::hint::black_box(found);
    }
    report("search by family-name prefix (limit 50)", samples);
    let mut samples = Vec::new();
    for i in 0..200 {
        let query = format!("person{:04}", (i * 13) % (people / 100).max(1));
        let started = Instant::now();
        std::hint::black_box(store.search_people(&query, 50).await?);
        samples.push(started.elapsed());
    }
    report("search by email prefix (limit 50)", samples);
    let started = Instant::now();
    let all = store.list_people().await?;
    println!(
        "{:<44} {} rows in {:.2?}",
        "list the whole watch list",
        all.len(),
        started.elapsed()
    );

    let (settings, _) = validate_json(
        &serde_json::json!({
            "provider": "exchange",
            "username": "svc@contoso.com",
            "password": "bench-password",
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
        }),
        &CalendarSettings::default(),
    )?;
    let mut samples = Vec::new();
    for i in 0..100u32 {
        let (s, _) = validate_json(
            &serde_json::json!({"refresh_interval_s": 60 + i}),
            &settings,
        )?;
        let started = Instant::now();
        store.save_calendar_settings(&s, "bench").await?;
        samples.push(started.elapsed());
    }
    report("durable settings save (+ audit, fsync)", samples);

    let token = store.create_api_token(ApiRole::Console, "bench").await?;
    let mut samples = Vec::new();
    for _ in 0..1_000 {
        let started = Instant::now();
        std::hint::black_box(store.verify_api_token(token.secret.expose_secret()).await?);
        samples.push(started.elapsed());
    }
    report("API token verify", samples);

    let now = Timestamp::now();
    let snapshot: Vec<Availability> = crowd
        .iter()
        .take(10_000)
        .map(|p| Availability {
            mailbox: p.email.clone(),
            window_start: now,
            window_end: now + SignedDuration::from_hours(24),
            events: (0..5)
                .map(|h| {
                    CalendarEvent::new(
                        now + SignedDuration::from_hours(h * 2),
                        now + SignedDuration::from_hours(h * 2 + 1),
                        BusyType::Busy,
                    )
                })
                .collect(),
            working_hours: None,
            out_of_office: None,
            fetched_at: now,
            error: None,
        })
        .collect();
    let started = Instant::now();
    store.save_availability(&snapshot).await?;
    println!(
        "{:<44} {} mailboxes in {:.2?}",
        "save last-known availability",
        snapshot.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let loaded = store.load_availability().await?;
    println!(
        "{:<44} {} mailboxes in {:.2?}",
        "load last-known availability (warm restart)",
        loaded.len(),
        started.elapsed()
    );
    store.close().await;
    let size: u64 = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{:<44} {:.1} MiB",
        "data directory size",
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
