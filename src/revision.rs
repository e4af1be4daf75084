//! Policy files as they are at a git revision: `git:REV[:PATH]`, read with the `git`
//! command from the repository the current directory is in, without a checkout.

use std::process::Command;

use crate::diagnostic::{Diagnostic, Problem};
use crate::policy::DEFAULT_PATH;

/// A `git:REV[:PATH]` argument, split.
pub fn parse(argument: &str) -> Option<(&str, &str)> {
    let rest = argument.strip_prefix("git:")?;
    Some(match rest.split_once(':') {
        Some((revision, path)) if !path.is_empty() => (revision, path),
        Some((revision, _)) => (revision, DEFAULT_PATH),
        None => (rest, DEFAULT_PATH),
    })
}

fn problem(argument: &str, reason: String) -> Vec<Diagnostic> {
    vec![Diagnostic::new(
        argument,
        0,
        0,
        Problem::Unreadable { reason },
    )]
}

fn git(arguments: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .args(arguments)
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(stderr.lines().next().unwrap_or("git failed").to_lowercase())
    }
}

/// The policy files under `path` at `revision`, as (path, bytes), in path order.
pub fn files(
    argument: &str,
    revision: &str,
    path: &str,
) -> Result<Vec<(String, Vec<u8>)>, Vec<Diagnostic>> {
    let listing = git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "--full-tree",
        revision,
        "--",
        path,
    ])
    .map_err(|reason| problem(argument, reason))?;
    let listing = String::from_utf8_lossy(&listing);
    let mut files = Vec::new();
    for name in listing.lines() {
        if !(name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")) {
            continue;
        }
        let bytes = git(&["show", &format!("{revision}:{name}")])
            .map_err(|reason| problem(argument, reason))?;
        files.push((format!("{revision}:{name}"), bytes));
    }
    if files.is_empty() {
        return Err(vec![Diagnostic::new(
            argument,
            0,
            0,
            Problem::NoPolicyFiles {
                path: format!("{revision}:{path}"),
            },
        )]);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_revisions_and_paths() {
        assert_eq!(parse("git:main"), Some(("main", "policies")));
        assert_eq!(
            parse("git:origin/main:infra/policies"),
            Some(("origin/main", "infra/policies"))
        );
        assert_eq!(parse("git:HEAD~1:"), Some(("HEAD~1", "policies")));
        assert_eq!(parse("policies"), None);
    }
}
