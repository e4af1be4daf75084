//! Policy files as they are at a git revision: `git:REV[:PATH]`, read with the `git`
//! command from the repository the current directory is in, without a checkout.

use std::path::{Component, Path};
use std::process::Command;

use crate::diagnostic::{Diagnostic, Problem};

/// A `git:REV[:PATH]` argument, split; the path is `None` when not given.
pub fn parse(argument: &str) -> Option<(&str, Option<&str>)> {
    let rest = argument.strip_prefix("git:")?;
    Some(match rest.split_once(':') {
        Some((revision, path)) if !path.is_empty() => (revision, Some(path)),
        Some((revision, _)) => (revision, None),
        None => (rest, None),
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

/// `path`, relative to the current directory or absolute, as a path from the top of the
/// repository: what `git ls-tree --full-tree` lists.
fn from_top(path: &str) -> Result<String, String> {
    let mut parts: Vec<String> = Vec::new();
    let path = Path::new(path);
    let relative = if path.is_absolute() {
        let top = String::from_utf8_lossy(&git(&["rev-parse", "--show-toplevel"])?)
            .trim_end()
            .to_owned();
        let top = std::fs::canonicalize(&top).unwrap_or_else(|_| top.clone().into());
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        path.strip_prefix(&top)
            .map_err(|_| format!("`{}` is outside the repository", path.display()))?
            .to_path_buf()
    } else {
        let prefix = String::from_utf8_lossy(&git(&["rev-parse", "--show-prefix"])?)
            .trim_end()
            .to_owned();
        Path::new(&prefix).join(path)
    };
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            // `..` takes the last part off; with none left, the path leaves the top.
            Component::ParentDir if parts.pop().is_none() => {
                return Err(format!(
                    "`{}` is outside the repository",
                    relative.display()
                ));
            }
            _ => {}
        }
    }
    Ok(parts.join("/"))
}

/// Whether `name` (a path from the top) lies under `dir` (likewise; empty for the top).
fn under(name: &str, dir: &str) -> bool {
    dir.is_empty()
        || name == dir
        || name
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The files under `path` at `revision` that a walk of a checkout would read, as (path,
/// bytes), in path order: YAML and JSON files outside hidden folders, less those that
/// the revision's own `.gitignore` and `.cordonignore` files exclude.
pub fn files(
    argument: &str,
    revision: &str,
    path: &str,
) -> Result<Vec<(String, Vec<u8>)>, Vec<Diagnostic>> {
    let path = from_top(path).map_err(|reason| problem(argument, reason))?;
    let listing = git(&[
        "ls-tree",
        "-r",
        "-z",
        "--name-only",
        "--full-tree",
        revision,
    ])
    .map_err(|reason| problem(argument, reason))?;
    let listing = String::from_utf8_lossy(&listing);
    let names: Vec<&str> = listing
        .split('\0')
        .filter(|name| !name.is_empty())
        .collect();
    let ignored =
        ignore_rules(revision, &names, &path).map_err(|reason| problem(argument, reason))?;
    let mut files = Vec::new();
    for name in names {
        let wanted = (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
            && under(name, &path)
            && !hidden(&name[path.len()..])
            && !ignored
                .iter()
                .any(|rules| rules.matched_path_or_any_parents(name, false).is_ignore());
        if !wanted {
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

/// Whether a path has a hidden part (`.github/…`), as a walk would skip it.
fn hidden(relative: &str) -> bool {
    relative
        .split('/')
        .any(|part| part.starts_with('.') && part != "." && part != "..")
}

/// The rules of every `.gitignore` and `.cordonignore` at `revision` that apply under
/// `path`: in it, or in a folder above it.
fn ignore_rules(
    revision: &str,
    names: &[&str],
    path: &str,
) -> Result<Vec<ignore::gitignore::Gitignore>, String> {
    let mut rules = Vec::new();
    for name in names {
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        if !(file == ".gitignore" || file == ".cordonignore") {
            continue;
        }
        if !(under(path, dir) || under(dir, path)) {
            continue;
        }
        let text = git(&["show", &format!("{revision}:{name}")])?;
        let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
        for line in String::from_utf8_lossy(&text).lines() {
            // A bad pattern is skipped, as git itself skips it.
            let _ = builder.add_line(None, line);
        }
        if let Ok(built) = builder.build() {
            rules.push(built);
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_revisions_and_paths() {
        assert_eq!(parse("git:main"), Some(("main", None)));
        assert_eq!(
            parse("git:origin/main:infra/policies"),
            Some(("origin/main", Some("infra/policies")))
        );
        assert_eq!(parse("git:HEAD~1:"), Some(("HEAD~1", None)));
        assert_eq!(parse("policies"), None);
    }

    #[test]
    fn paths_under_folders() {
        assert!(under("policies/a.yaml", "policies"));
        assert!(!under("policies-old/a.yaml", "policies"));
        assert!(under("a.yaml", ""));
        assert!(hidden("/.github/workflows/ci.yml"));
        assert!(!hidden("policies/a.yaml"));
    }
}
