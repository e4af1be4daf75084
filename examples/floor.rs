//! Times the parse floor and a whole `cordon check` of the same files, in one run, and
//! prints the ratio. The floor is what parsing the files into `serde::de::IgnoredAny`
//! costs with the same parser and options, one file after another.
//!
//! ```sh
//! cargo run --release --example generate -- --scale 10 --out /tmp/big
//! cargo run --release --example floor -- /tmp/big
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cordon::load::{self, Format};

// The binary's allocator, so that the figure is what `cordon check` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let runs = 3;
    let (found, problems) = load::discover(&args);
    if !problems.is_empty() || found.is_empty() {
        eprintln!("floor: nothing to read under {args:?}");
        std::process::exit(2);
    }
    let files: Vec<(Format, Vec<u8>)> = found
        .iter()
        .map(|file| (file.format, std::fs::read(&file.path).unwrap_or_default()))
        .collect();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();

    let mut floor = Vec::new();
    let mut check = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        for (format, bytes) in &files {
            assert!(load::parse_floor(*format, bytes), "the floor parse failed");
        }
        floor.push(start.elapsed());

        let start = Instant::now();
        let model = cordon::policy::load_model(&args).unwrap_or_else(|problems| {
            eprintln!("floor: the model does not load: {:?}", problems.first());
            std::process::exit(2);
        });
        let report = cordon::check::check(
            &model,
            "2024-01-01".parse().unwrap_or_else(|()| unreachable!()),
        );
        std::hint::black_box(report);
        check.push(start.elapsed());
    }
    let best = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    let (floor, check) = (best(&floor), best(&check));
    println!("files      {}", files.len());
    println!("bytes      {bytes}");
    println!(
        "floor      {:.3} s (parse into IgnoredAny, best of {runs})",
        floor.as_secs_f64()
    );
    println!(
        "check      {:.3} s (load, resolve, build, check, best of {runs})",
        check.as_secs_f64()
    );
    println!(
        "ratio      {:.2}",
        check.as_secs_f64() / floor.as_secs_f64()
    );
}
