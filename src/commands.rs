//! One function per subcommand, each returning an exit outcome, and what they share:
//! loading the model, fixing today's date, and writing the output.

pub mod check;
pub mod completions;
pub mod connections;
pub mod diff;
pub mod evidence;
pub mod graph;
pub mod man;
pub mod matrix;
pub mod path;
pub mod reach;

use std::fmt::Write as _;
use std::io::Write;

use anstream::AutoStream;

use crate::cli::{Color, CommonArgs, Level, TodayArgs};
use crate::date::Date;
use crate::diagnostic::{Diagnostic, Problem};
use crate::exit::Outcome;
use crate::import::terraform::Side;
use crate::model::{EntityKind, Model, Selection};
use crate::policy::load_model_side;
use crate::ports::PortSpec;
use crate::progress;
use crate::render;
use crate::suggest::did_you_mean;
use crate::timings::Timings;

/// Writes `text` to `--output` or standard output, styled per `--color`.
pub fn emit(common: &CommonArgs, text: &str) -> Outcome {
    let choice = match common.run.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    };
    let result = match &common.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => {
                let mut stream = AutoStream::new(file, choice);
                stream
                    .write_all(text.as_bytes())
                    .and_then(|()| stream.flush())
            }
            Err(error) => Err(error),
        },
        None => {
            let mut stream = AutoStream::new(std::io::stdout(), choice);
            stream
                .write_all(text.as_bytes())
                .and_then(|()| stream.flush())
        }
    };
    match result {
        Ok(()) => Outcome::Holds,
        // A closed pipe (`cordon check | head`) is the reader's choice, not our failure.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Holds,
        Err(error) => {
            let target = common
                .output
                .as_ref()
                .map_or("standard output".to_owned(), |p| {
                    format!("`{}`", p.display())
                });
            usage_error(common, &format!("cannot write to {target}: {error}"))
        }
    }
}

/// Writes bytes to standard output as they are, for generated files (completion scripts,
/// the manual page) that colour must never touch.
pub fn write_stdout(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Outcome::Holds,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Holds,
        Err(error) => {
            eprintln!("error: cannot write to standard output: {error}");
            Outcome::Invalid
        }
    }
}

/// Prints input problems to standard error.
pub fn report_problems(common: &CommonArgs, diagnostics: &[Diagnostic]) -> Outcome {
    let mut stream = AutoStream::new(std::io::stderr(), stderr_choice(common));
    let _ = stream.write_all(render::diagnostics::render(diagnostics).as_bytes());
    Outcome::Invalid
}

/// Prints a note to standard error, unless `--quiet`.
pub fn note(common: &CommonArgs, message: &str) {
    if common.run.quiet {
        return;
    }
    let mut stream = AutoStream::new(std::io::stderr(), stderr_choice(common));
    let note = render::style::NOTE;
    let _ = writeln!(
        stream,
        "{}note:{} {message}",
        note.render(),
        note.render_reset()
    );
}

/// Notes that no model holds an entity of `level`, so that a matrix or a diff at it
/// compares nothing, and names a level that would. A Kubernetes cluster read alone has
/// segments (its namespaces) and no account: a gate on `diff --deny-new-paths` at the
/// default level would pass every change.
pub fn note_empty_level(common: &CommonArgs, models: &[&Model], level: Level) {
    let has = |kind: EntityKind| {
        (models.iter()).any(|model| model.entity_ids().any(|id| model.entity(id).kind == kind))
    };
    if has(level.kind()) {
        return;
    }
    let plural = |level: Level| format!("{}s", level.kind().as_str());
    let instead = [Level::Segment, Level::Account, Level::Environment]
        .into_iter()
        .find(|&other| has(other.kind()));
    let hint = instead.map_or(String::new(), |other| {
        format!(
            ": `--level {}` compares {}",
            other.kind().as_str(),
            plural(other)
        )
    });
    note(
        common,
        &format!(
            "the model has no {}, so there is nothing to compare{hint}",
            plural(level)
        ),
    );
}

/// Prints warnings, already formatted, to standard error.
pub fn warn(common: &CommonArgs, text: &str) {
    if !text.is_empty() {
        let mut stream = AutoStream::new(std::io::stderr(), stderr_choice(common));
        let _ = stream.write_all(text.as_bytes());
    }
}

/// Prints a command-line problem to standard error.
pub fn usage_error(common: &CommonArgs, message: &str) -> Outcome {
    let mut stream = AutoStream::new(std::io::stderr(), stderr_choice(common));
    let _ = writeln!(
        stream,
        "{}error:{} {message}",
        render::style::ERROR.render(),
        render::style::ERROR.render_reset()
    );
    Outcome::Invalid
}

/// Refuses to verify a model with no invariants unless `--allow-empty` says so: a gate
/// that checks nothing would pass any change, and a typo in a path is the usual cause.
pub fn require_invariants(
    common: &CommonArgs,
    model: &Model,
    allow_empty: bool,
) -> Result<(), Outcome> {
    if allow_empty || !model.invariants.is_empty() {
        return Ok(());
    }
    let files = model.sources.inputs().len();
    let mut stream = AutoStream::new(std::io::stderr(), stderr_choice(common));
    let _ = writeln!(
        stream,
        "{}error:{} no invariants in the {files} policy file{} read, so there is nothing to verify\n  {}help:{} add `invariants:` to a policy file, or pass `--allow-empty` if passing with none is intended",
        render::style::ERROR.render(),
        render::style::ERROR.render_reset(),
        if files == 1 { "" } else { "s" },
        render::style::HELP.render(),
        render::style::HELP.render_reset()
    );
    Err(Outcome::Invalid)
}

fn stderr_choice(common: &CommonArgs) -> anstream::ColorChoice {
    match common.run.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    }
}

/// Loads the model, with a progress bar on a terminal, or reports why it cannot.
pub fn load(
    common: &CommonArgs,
    paths: &[std::path::PathBuf],
    timings: &mut Timings,
) -> Result<Model, Outcome> {
    let (model, warnings) = load_quietly(common, paths, timings, Side::Planned)
        .map_err(|diagnostics| report_problems(common, &diagnostics))?;
    announce(common, warnings, &skipped_notes(common, &model))?;
    Ok(model)
}

/// Both sides of a Terraform plan, read with the same files, the problems, warnings and
/// notes that the two sides share reported once: the policy files are the same on both.
pub fn load_plan_sides(
    common: &CommonArgs,
    paths: &[std::path::PathBuf],
    timings: &mut Timings,
) -> Result<(Model, Model), Outcome> {
    let prior = load_quietly(common, paths, timings, Side::Prior);
    let planned = load_quietly(common, paths, timings, Side::Planned);
    let ((prior, prior_warnings), (planned, planned_warnings)) = match (prior, planned) {
        (Ok(prior), Ok(planned)) => (prior, planned),
        (Err(problems), Ok(_)) | (Ok(_), Err(problems)) => {
            return Err(report_problems(common, &problems));
        }
        (Err(prior), Err(planned)) => {
            return Err(report_problems(common, &merged(prior, planned)));
        }
    };
    let mut notes = skipped_notes(common, &prior);
    for line in skipped_notes(common, &planned).lines() {
        if !notes.lines().any(|seen| seen == line) {
            notes.push_str(line);
            notes.push('\n');
        }
    }
    announce(common, merged(prior_warnings, planned_warnings), &notes)?;
    Ok((prior, planned))
}

/// Two lists of diagnostics as one, sorted, each that both hold once.
fn merged(mut first: Vec<Diagnostic>, second: Vec<Diagnostic>) -> Vec<Diagnostic> {
    first.extend(second);
    crate::diagnostic::sort(&mut first);
    first.dedup();
    first
}

/// Loads one side of the change, printing nothing: the model and its warnings, sorted,
/// or the problems that stop it.
fn load_quietly(
    common: &CommonArgs,
    paths: &[std::path::PathBuf],
    timings: &mut Timings,
    side: Side,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let progress = progress::for_terminal(common.run.quiet);
    let model = load_model_side(paths, timings, progress.as_ref(), side)?;
    let warnings = model.all_warnings();
    Ok((model, warnings))
}

/// Prints a loaded model's warnings and notes, or, with `--deny-warnings`, fails on
/// its warnings.
fn announce(common: &CommonArgs, warnings: Vec<Diagnostic>, notes: &str) -> Result<(), Outcome> {
    if !warnings.is_empty() && common.run.deny_warnings {
        let errors: Vec<Diagnostic> = warnings
            .into_iter()
            .map(|warning| Diagnostic {
                level: crate::diagnostic::Level::Error,
                ..warning
            })
            .collect();
        return Err(report_problems(common, &errors));
    }
    let mut stream = AutoStream::new(std::io::stderr(), stderr_choice(common));
    if !warnings.is_empty() {
        let _ = stream.write_all(render::diagnostics::warnings(&warnings).as_bytes());
    }
    let _ = stream.write_all(notes.as_bytes());
    Ok(())
}

/// Notes for standard error on the files found but not read as policies: one line
/// with their count, or with `--verbose` one line each; and what the importers assumed
/// or left out.
fn skipped_notes(common: &CommonArgs, model: &Model) -> String {
    let mut out = String::new();
    if common.run.quiet {
        return out;
    }
    let note = render::style::NOTE;
    for assumption in model.sources.assumptions() {
        let _ = writeln!(
            out,
            "{}warning:{} {assumption}",
            render::style::WARNING.render(),
            render::style::WARNING.render_reset()
        );
    }
    let kinds = model.sources.skipped_kinds();
    if common.run.verbose && !kinds.is_empty() {
        let counts: Vec<String> = kinds
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        let _ = writeln!(
            out,
            "{}note:{} skipped Kubernetes objects of kinds cordon does not model: {}",
            note.render(),
            note.render_reset(),
            counts.join(", ")
        );
    }
    // Imported resources of types cordon does not model, so that a reader knows what
    // the verdicts leave out.
    if common.run.verbose && !model.sources.unmodelled().is_empty() {
        let counted: Vec<String> = model
            .sources
            .unmodelled()
            .iter()
            .map(|(kind, count)| format!("{kind} ({count})"))
            .collect();
        let _ = writeln!(
            out,
            "{}note:{} Terraform resources not modelled: {}",
            note.render(),
            note.render_reset(),
            counted.join(", ")
        );
    }
    let skipped = model.sources.skipped();
    if skipped.is_empty() {
        return out;
    }
    if common.run.verbose {
        for file in skipped {
            let line = file.line.map(|line| format!(":{line}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{}note:{} skipped `{}{line}`: {}",
                note.render(),
                note.render_reset(),
                file.path,
                file.what
            );
        }
    } else {
        let files = skipped.iter().filter(|file| file.line.is_none()).count();
        let documents = skipped.len() - files;
        let counted: Vec<String> = [(files, "file"), (documents, "document")]
            .into_iter()
            .filter(|&(count, _)| count > 0)
            .map(|(count, what)| format!("{count} {what}{}", if count == 1 { "" } else { "s" }))
            .collect();
        let hold = if skipped.len() == 1 { "holds" } else { "hold" };
        let _ = writeln!(
            out,
            "{}note:{} skipped {} that {hold} no cordon policy (`--verbose` lists them)",
            note.render(),
            note.render_reset(),
            counted.join(" and ")
        );
    }
    out
}

/// Parses `--ports` values, or reports the first bad one.
pub fn ports(common: &CommonArgs, texts: &[String]) -> Result<Vec<PortSpec>, Outcome> {
    texts
        .iter()
        .map(|text| {
            text.parse::<PortSpec>().map_err(|()| {
                let message = format!("invalid port `{text}`: {}", crate::ports::suggestion(text));
                usage_error(common, &message)
            })
        })
        .collect()
}

/// Resolves selectors given on the command line, reporting problems as `<command line>`.
pub fn select(
    common: &CommonArgs,
    model: &Model,
    selectors: &[String],
) -> Result<Selection, Outcome> {
    crate::resolve::select(model, selectors).map_err(|errors| {
        let diagnostics: Vec<Diagnostic> = errors
            .into_iter()
            .map(|(problem, help)| Diagnostic::new("<command line>", 0, 0, problem).with_help(help))
            .collect();
        report_problems(common, &diagnostics)
    })
}

/// Marks the credentials that `--leaked` names as leaked in `model`, as a `leaks` entry
/// would, so that the query answers what a stolen credential opens. Gives their names,
/// sorted, for the report to say what it assumed.
pub fn assume_leaked(
    common: &CommonArgs,
    model: &mut Model,
    names: &[String],
) -> Result<Vec<String>, Outcome> {
    let mut problems = Vec::new();
    for name in names {
        match model.find_credential(name) {
            Some(id) => model.credentials[id.index()].leaked = true,
            None => {
                let credentials = model.credentials.iter().map(|c| c.name.as_str());
                let problem = Problem::UnknownName {
                    what: "credential",
                    name: name.clone(),
                };
                problems.push(
                    Diagnostic::new("<command line>", 0, 0, problem)
                        .with_help(did_you_mean(name, credentials)),
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(report_problems(common, &problems));
    }
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Refuses a `--today` that is no date, for the queries, whose results do not depend
/// on it: the same options must mean the same on every command.
pub fn check_today(common: &CommonArgs, args: &TodayArgs) -> Result<(), Outcome> {
    today(args)
        .map(drop)
        .map_err(|message| usage_error(common, &message))
}

/// Prints phase timings to standard error when `--timings` asks for them.
pub fn report_timings(common: &CommonArgs, timings: &Timings) {
    if common.run.timings {
        eprint!("{}", timings.render());
    }
}

/// Today's date: `--today`, else `SOURCE_DATE_EPOCH`'s date, else the system clock.
pub fn today(args: &TodayArgs) -> Result<Date, String> {
    if let Some(text) = &args.today {
        return text.parse().map_err(|()| {
            let why = if crate::date::written_as_date(text) {
                crate::date::why_not(text)
            } else {
                "use YYYY-MM-DD".to_owned()
            };
            format!("invalid `--today` date `{text}`: {why}")
        });
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return epoch
            .trim()
            .parse::<i64>()
            .map(Date::from_unix_seconds)
            .map_err(|_| format!("invalid SOURCE_DATE_EPOCH `{epoch}`: use seconds since 1970"));
    }
    Ok(Date::today())
}
