//! A progress bar on standard error while a large model loads: the only module that
//! knows indicatif. Off a terminal, or with `--quiet`, nothing is shown; and nothing is
//! drawn until loading has taken [`DELAY`], so that small models do not flicker.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::policy::{Progress, Silent};

/// How long loading runs before the bar appears.
pub const DELAY: Duration = Duration::from_millis(300);

/// A bar counting bytes and files read, hidden until [`DELAY`] has passed.
struct Bar {
    bar: ProgressBar,
    /// Where the bar is drawn once it shows.
    target: fn() -> ProgressDrawTarget,
    delay: Duration,
    /// Set when loading is over, so that a late timer shows nothing.
    finished: Arc<AtomicBool>,
    /// Set when the bar is shown.
    shown: Arc<AtomicBool>,
}

impl Bar {
    fn new(target: fn() -> ProgressDrawTarget, delay: Duration) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(
            "{spinner} reading policies [{bar:30}] {bytes}/{total_bytes} ({msg}) {elapsed}",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar {
            bar,
            target,
            delay,
            finished: Arc::new(AtomicBool::new(false)),
            shown: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Progress for Bar {
    fn start(&self, files: usize, bytes: u64) {
        self.bar.set_length(bytes);
        self.bar.set_message(format!("0/{files} files"));
        let (bar, target, delay) = (self.bar.clone(), self.target, self.delay);
        let (finished, shown) = (self.finished.clone(), self.shown.clone());
        // A timer rather than a check on each file: one large file gives no event.
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            if !finished.load(Ordering::SeqCst) {
                bar.set_draw_target(target());
                bar.enable_steady_tick(Duration::from_millis(120));
                shown.store(true, Ordering::SeqCst);
            }
        });
    }

    fn file_read(&self, bytes: u64) {
        self.bar.inc(bytes);
        let done = self.bar.message();
        // The message counts files: "3/25 files".
        if let Some((read, total)) = done.split_once('/') {
            let read: usize = read.parse().unwrap_or(0) + 1;
            self.bar.set_message(format!("{read}/{total}"));
        }
    }

    fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.bar.finish_and_clear();
    }
}

/// The progress display for a run: a bar when standard error is a terminal and
/// `quiet` is off, otherwise nothing.
pub fn for_terminal(quiet: bool) -> Box<dyn Progress> {
    if quiet || !std::io::stderr().is_terminal() {
        return Box::new(Silent);
    }
    Box::new(Bar::new(ProgressDrawTarget::stderr, DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_only_once_loading_takes_a_while() {
        let quick = Bar::new(ProgressDrawTarget::hidden, Duration::from_millis(20));
        quick.start(1, 10);
        quick.finish();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !quick.shown.load(Ordering::SeqCst),
            "a quick load shows nothing"
        );

        let slow = Bar::new(ProgressDrawTarget::hidden, Duration::from_millis(500));
        slow.start(1, 10);
        assert!(!slow.shown.load(Ordering::SeqCst), "nothing at first");
        // Polled, since a busy machine may wake the timer late.
        let mut waited = 0;
        while !slow.shown.load(Ordering::SeqCst) && waited < 100 {
            std::thread::sleep(Duration::from_millis(100));
            waited += 1;
        }
        assert!(
            slow.shown.load(Ordering::SeqCst),
            "shown once the delay has passed"
        );
        slow.finish();
    }
}
