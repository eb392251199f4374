//! The floor under any EWS reader: the CPU cost of merely tokenizing response bodies with
//! quick-xml (every event read, nothing decoded or kept). The benchmark (`cargo xtask bench`)
//! captures real GetUserAvailability answers from the simulator and hands them to this tool, so
//! calgate's own CPU for a full refresh can be compared with the least any XML reader must spend.
//!
//! ```text
//! tokenize FILE...
//! ```
//!
//! Each FILE holds response bodies separated by a NUL byte. Prints one JSON line: bodies, bytes,
//! XML events and the CPU seconds of the tokenizing thread alone for one pass over all bodies
//! (file reading excluded): rounds of at least 0.2 s, best of three, so a busy neighbour on a
//! shared machine costs as little as possible.

use std::process::ExitCode;

use quick_xml::Reader;
use quick_xml::events::Event;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: tokenize FILE...");
        return ExitCode::from(2);
    }
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for f in &files {
        match std::fs::read(f) {
            Ok(data) => bodies.extend(
                data.split(|b| *b == 0)
                    .filter(|b| !b.is_empty())
                    .map(<[u8]>::to_vec),
            ),
            Err(e) => {
                eprintln!("tokenize: reading {f}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    // The scheduler's per-thread figure is only brought up to date at ticks and switches, so a
    // measured round must be long against a tick: small inputs are tokenized many times over.
    let mut passes = 1_u32;
    let mut best: Option<f64> = None;
    let mut events = 0_u64;
    let mut rounds = 0;
    while rounds < 3 {
        let Some(before) = thread_cpu_ns() else {
            eprintln!("tokenize: cannot read this thread's CPU time");
            return ExitCode::FAILURE;
        };
        for _ in 0..passes {
            events = 0;
            for body in &bodies {
                match tokenize(body) {
                    Ok(n) => events += n,
                    Err(e) => {
                        eprintln!("tokenize: malformed body: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
        let Some(after) = thread_cpu_ns() else {
            eprintln!("tokenize: cannot read this thread's CPU time");
            return ExitCode::FAILURE;
        };
        let round = after.saturating_sub(before) as f64 / 1e9;
        if round < 0.2 && passes < 1 << 20 {
            passes *= 2;
            continue;
        }
        let per_pass = round / f64::from(passes);
        if best.is_none_or(|b| per_pass < b) {
            best = Some(per_pass);
        }
        rounds += 1;
    }
    let cpu_s = best.unwrap_or(0.0);
    println!(
        "{{\"bodies\":{},\"bytes\":{bytes},\"events\":{events},\"passes\":{passes},\"cpu_s\":{cpu_s:.9}}}",
        bodies.len()
    );
    ExitCode::SUCCESS
}

/// Reads every XML event of one body; returns how many there were.
fn tokenize(body: &[u8]) -> Result<u64, quick_xml::Error> {
    // The borrowing reader over a slice: no copies, the cheapest way quick-xml offers.
    let mut reader = Reader::from_reader(body);
    let mut n = 0_u64;
    loop {
        match reader.read_event()? {
            Event::Eof => return Ok(n),
            e => {
                std::hint::black_box(&e);
                n += 1;
            }
        }
    }
}

/// CPU time of the calling thread in nanoseconds, from the scheduler's own accounting
/// (`/proc/thread-self/schedstat`, first field), which is far finer than clock ticks.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
