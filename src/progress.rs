//! A progress bar on standard error while a large model loads: the only module that
//! knows indicatif. Off a terminal, or with `--quiet`, nothing is shown.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::policy::{Progress, Silent};

/// A bar counting bytes and files read.
struct Bar {
    bar: ProgressBar,
}

impl Progress for Bar {
    fn start(&self, files: usize, bytes: u64) {
        self.bar.set_length(bytes);
        self.bar.set_message(format!("0/{files} files"));
        self.bar.enable_steady_tick(Duration::from_millis(120));
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
        self.bar.finish_and_clear();
    }
}

/// The progress display for a run: a bar when standard error is a terminal and
/// `quiet` is off, otherwise nothing.
pub fn for_terminal(quiet: bool) -> Box<dyn Progress> {
    if quiet || !std::io::stderr().is_terminal() {
        return Box::new(Silent);
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} reading policies [{bar:30}] {bytes}/{total_bytes} ({msg}) {elapsed}",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Box::new(Bar { bar })
}
