//! Phase timings for `--timings`: how long each stage of a run took.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Timings {
    phases: Vec<(&'static str, Duration)>,
    started: Option<Instant>,
}

impl Timings {
    pub fn new() -> Self {
        Timings {
            phases: Vec::new(),
            started: Some(Instant::now()),
        }
    }

    /// Ends the current phase under `name` and starts the next.
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        if let Some(started) = self.started.replace(now) {
            self.phases.push((name, now - started));
        }
    }

    pub fn phases(&self) -> &[(&'static str, Duration)] {
        &self.phases
    }

    /// One line per phase and a total, in milliseconds.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let total: Duration = self.phases.iter().map(|(_, d)| *d).sum();
        for (name, duration) in &self.phases {
            let _ = writeln!(
                out,
                "timing: {name:<8} {:>10.1} ms",
                duration.as_secs_f64() * 1e3
            );
        }
        let _ = writeln!(
            out,
            "timing: {:<8} {:>10.1} ms",
            "total",
            total.as_secs_f64() * 1e3
        );
        out
    }
}
