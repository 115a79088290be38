//! The stable-toolchain fallback of `make fuzz`, for machines without a nightly toolchain (and
//! so without cargo-fuzz/libFuzzer): runs one target over its corpus, then over random
//! mutations of the corpus for a given time. Blind (no coverage feedback), so far weaker than
//! libFuzzer, but the same targets and the same properties.
//!
//! Usage: `stable-fuzz <target> <seconds> <corpus dir> <artifacts dir>`. Failing inputs are
//! saved as `<artifacts dir>/crash-<hash>` (the first [`MAX_SAVED`]; mutations of one bug are
//! many) and the run goes on; the exit status is 1 when any input failed. `FUZZ_SEED` fixes the random seed (default: the clock).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchboard_fuzz::TARGETS;

/// Byte strings that matter to the code under test, spliced in whole by the mutator.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"0",
    b"-0",
    b"1e999",
    b"18446744073709551616",
    b"\\ud800",
    b"\\udc00",
    b"\\u0000",
    b"\\uffff",
    b"\xef\xbf\xbf",
    b"\xef\xbf\xbe",
    b"\xf4\x8f\xbf\xbf",
    b"\xff",
    b"\"message\":",
    b"\"message_delivery_report\":",
    b"\"event\":",
    b"\"event_delivery_report\":",
    b"\"app_id\":\"01FUZZAPP\"",
    b"\"accepted_time\":\"2025-11-21T08:00:00Z\"",
    b"\"status\":\"DELIVERED\"",
    b"\"contact_message\":",
    b"\"text_message\":{\"text\":\"",
    b"/fuzz/sms/sinchconversation/all",
    b"x-sinch-webhook-signature-timestamp: ",
    b"HmacSHA256",
    b"\n\n",
];

/// How many failing inputs one run saves.
const MAX_SAVED: u64 = 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = rng.next() as u8;
            }
            2 => {
                let bytes: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
            3 if !input.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 if !input.is_empty() => {
                let start = rng.below(input.len());
                let end = (start + 1 + rng.below(64)).min(input.len());
                let copy = input[start..end].to_vec();
                input.splice(at..at, copy);
            }
            5 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let start = rng.below(other.len());
                let end = (start + rng.below(256)).min(other.len());
                input.splice(at..at, other[start..end].iter().copied());
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
        }
    }
    input.truncate(64 * 1024);
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, target, seconds, corpus_dir, artifacts_dir] = &args[..] else {
        eprintln!("usage: stable-fuzz <target> <seconds> <corpus dir> <artifacts dir>");
        return ExitCode::from(2);
    };
    let Some((_, run)) = TARGETS.iter().find(|(name, _)| name == target) else {
        eprintln!("stable-fuzz: unknown target {target}");
        return ExitCode::from(2);
    };
    let Ok(seconds) = seconds.parse::<u64>() else {
        eprintln!("stable-fuzz: seconds must be a whole number");
        return ExitCode::from(2);
    };
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
        | 1;
    let corpus = read_corpus(Path::new(corpus_dir));
    let artifacts = Path::new(artifacts_dir);
    // The panic message is printed once per distinct failing input below, not by the hook.
    std::panic::set_hook(Box::new(|_| {}));

    let mut rng = Rng(seed);
    let mut executions: u64 = 0;
    let mut failures: u64 = 0;
    let mut try_input = |input: &[u8]| -> bool {
        executions += 1;
        let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(input))) else {
            return true;
        };
        failures += 1;
        if failures > MAX_SAVED {
            return false;
        }
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        let mut hasher = DefaultHasher::new();
        input.hash(&mut hasher);
        let path = artifacts.join(format!("crash-{:016x}", hasher.finish()));
        if std::fs::create_dir_all(artifacts)
            .and_then(|()| std::fs::write(&path, input))
            .is_ok()
        {
            eprintln!(
                "stable-fuzz: {target} failed ({message}); input saved as {}",
                path.display()
            );
        }
        false
    };

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    for input in &corpus {
        try_input(input);
    }
    while Instant::now() < deadline {
        let mut input = if corpus.is_empty() || rng.below(16) == 0 {
            Vec::new()
        } else {
            corpus[rng.below(corpus.len())].clone()
        };
        mutate(&mut rng, &mut input, &corpus);
        try_input(&input);
    }
    println!(
        "stable-fuzz: {target}: {executions} executions in {:.0} s, corpus {} inputs, seed {seed}, {failures} failing",
        started.elapsed().as_secs_f64(),
        corpus.len()
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
