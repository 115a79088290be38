//! `coldstart`: cold-start benchmark of Lambda function binaries. See `coldstart --help`.

use std::process::ExitCode;

use switchboard_coldstart::Result;
use switchboard_coldstart::cli::{self, Command, Common, TargetArgs};
use switchboard_coldstart::harness::{Sample, Settings, Target, run_once};
use switchboard_coldstart::report::{self, Row};
use switchboard_coldstart::runtime_api::RuntimeApi;

// One thread: the harness mostly sleeps, and a second busy runtime thread would compete with
// the function for the machine's cores during the very start-up being measured.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("coldstart: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldstart: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Help => {
            print!("{}", cli::USAGE);
            Ok(())
        }
        Command::Single { target, common } => single(target, common).await,
        Command::Compare {
            baseline,
            candidate,
            common,
        } => compare(baseline, candidate, common).await,
    }
}

async fn single(args: TargetArgs, common: Common) -> Result<()> {
    let target = Target::load(args)?;
    let settings = Settings::new(&common);
    let mut api = RuntimeApi::start().await?;
    let result = measure(&mut api, &[&target], &common, &settings).await;
    cleanup(&settings);
    let mut samples = result?;
    let samples = samples.remove(0);
    let row = Row::new(&target.label, &samples).ok_or("no samples")?;

    println!("{}\n{}", report::TABLE_HEADER, report::markdown_row(&row));
    if let Some(path) = &common.json {
        let mut value = report::row_json(&target, &row, &samples, common.warmup);
        value["mode"] = "single".into();
        write_json(path, &value)?;
    }
    Ok(())
}

async fn compare(baseline: TargetArgs, candidate: TargetArgs, common: Common) -> Result<()> {
    let baseline = Target::load(baseline)?;
    let candidate = Target::load(candidate)?;
    let settings = Settings::new(&common);
    let mut api = RuntimeApi::start().await?;
    let result = measure(&mut api, &[&baseline, &candidate], &common, &settings).await;
    cleanup(&settings);
    let samples = result?;
    let b_row = Row::new(&baseline.label, &samples[0]).ok_or("no baseline samples")?;
    let c_row = Row::new(&candidate.label, &samples[1]).ok_or("no candidate samples")?;
    let ratios = report::ratios(&b_row, &c_row);

    println!(
        "{}\n{}\n{}\n\n{}",
        report::TABLE_HEADER,
        report::markdown_row(&b_row),
        report::markdown_row(&c_row),
        report::ratio_table(&b_row, &c_row, &ratios)
    );
    if let Some(path) = &common.json {
        let value = serde_json::json!({
            "mode": "compare",
            "order": "ABBA: even rounds baseline first, odd rounds candidate first",
            "baseline": report::row_json(&baseline, &b_row, &samples[0], common.warmup),
            "candidate": report::row_json(&candidate, &c_row, &samples[1], common.warmup),
            "ratios_candidate_over_baseline": report::ratios_json(&ratios),
        });
        write_json(path, &value)?;
    }
    Ok(())
}

/// Warm-up runs, then `runs` rounds over all targets; with two targets the order flips every
/// round (ABBA) so drift in machine load hits both alike. Samples are per target.
async fn measure(
    api: &mut RuntimeApi,
    targets: &[&Target],
    common: &Common,
    settings: &Settings,
) -> Result<Vec<Vec<Sample>>> {
    for target in targets {
        for i in 0..common.warmup {
            let sample = run_once(api, target, settings).await?;
            progress(
                target,
                &format!("warm-up {}/{}", i + 1, common.warmup),
                &sample,
            );
        }
    }
    let mut samples: Vec<Vec<Sample>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 0..common.runs {
        let mut order: Vec<usize> = (0..targets.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let target = targets[index];
            let sample = run_once(api, target, settings).await?;
            progress(
                target,
                &format!("run {}/{}", round + 1, common.runs),
                &sample,
            );
            samples[index].push(sample);
        }
    }
    Ok(samples)
}

fn progress(target: &Target, what: &str, s: &Sample) {
    eprintln!(
        "{} {what}: ready {:.2} ms, first answer {:.2} ms, peak RSS {:.2} MiB{}",
        target.label,
        s.ready.as_secs_f64() * 1000.0,
        s.first_answer.as_secs_f64() * 1000.0,
        s.peak_rss_kib as f64 / 1024.0,
        if s.parked {
            ""
        } else {
            " (still busy after answering: peak may be understated)"
        }
    );
}

fn write_json(path: &str, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{path}: {e}"))?;
    eprintln!("coldstart: wrote {path}");
    Ok(())
}

fn cleanup(settings: &Settings) {
    // Best effort: the log only holds the function's output of the last run.
    let _ = std::fs::remove_file(&settings.log_path);
}
