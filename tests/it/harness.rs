//! A builder that writes policy files to a temporary directory, runs the real `cordon`
//! binary there, and returns what the user would see.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cordon {
    dir: tempfile::TempDir,
    args: Vec<String>,
    envs: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cordon {
    pub fn new() -> Self {
        Cordon {
            dir: tempfile::tempdir().expect("temporary directory"),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Writes a file relative to the working directory.
    pub fn file(self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(full, contents).expect("write file");
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self) -> Output {
        run_in(self.dir.path(), &self.args, &self.envs)
    }
}

/// The number in environment variable `name`, or `default` when it is not set.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|text| {
            text.parse()
                .unwrap_or_else(|_| panic!("{name}={text} is not a number"))
        })
        .unwrap_or(default)
}

/// How many random models each oracle property test tries: `CORDON_PROPTEST_CASES`, or
/// 300, which `cargo test` runs in seconds.
pub fn oracle_cases() -> u32 {
    u32::try_from(env_number("CORDON_PROPTEST_CASES", 300)).unwrap_or(u32::MAX)
}

/// Runs `cordon` with `args` in `dir`, with colour off unless asked for.
pub fn run_in(dir: &Path, args: &[String], envs: &[(String, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cordon"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("SOURCE_DATE_EPOCH");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().expect("run cordon");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The repository root, where `policies/` and `examples/` live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cordon` from the repository root, as a user of the bundled files would.
pub fn run_repo(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    run_in(&repo(), &args, &[("COLUMNS".into(), "100".into())])
}

impl Output {
    /// Asserts the exit code, showing everything printed when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{}", self.stdout))
    }
}

/// Runs `git` with `args` in `dir` as a fixed author, and fails the test if it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
