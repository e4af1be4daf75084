//! The command line, as clap parses it. Each subcommand's options live here; what they
//! do lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cordon",
    version,
    about = "Prove or refute network segmentation invariants over flows and credentials",
    long_about = "cordon loads a declarative model of environments, accounts, segments, \
                  assets, credentials and flows, and proves or refutes isolation \
                  invariants: whether any path, direct or through a chain of compromised \
                  systems and stolen credentials, connects two parts of an estate.\n\n\
                  Exit codes: 0 every invariant holds (or the query ran), 1 at least one \
                  invariant failed, 2 the input or the command line is invalid."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify every invariant (the main job)
    Check(CheckArgs),
    /// What a selection reaches, or what reaches it
    Reach(ReachArgs),
    /// The shortest witness paths between two selections, and the flows to cut
    Path(PathArgs),
    /// Who reaches whom among all entities of one kind
    Matrix(MatrixArgs),
    /// Every pair of leaves that one flow connects directly, with its ports and flows
    Connections(ConnectionsArgs),
    /// The model as a picture: DOT, Mermaid, JSON or SVG
    Graph(GraphArgs),
    /// What a change opens or closes: BASE and HEAD are paths or git:REV[:PATH]
    Diff(DiffArgs),
    /// The audit bundle: reports, a copy of the inputs, and their digests
    Evidence(EvidenceArgs),
    /// The JSON Schema of policy files, for editors
    Schema(SchemaArgs),
    /// A shell completion script, for bash, zsh or fish
    Completions(CompletionsArgs),
    /// The manual page, as roff, for `man`
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The policies before the change: a path, or git:REV[:PATH] (PATH defaults to HEAD's path).
    /// With --plan: policy files to read on both sides (optional)
    #[arg(required_unless_present = "plan")]
    pub base: Option<String>,
    /// The policies after the change, likewise
    #[arg(required_unless_present = "plan", conflicts_with = "plan")]
    pub head: Option<String>,

    /// Compare a Terraform plan's prior state with its planned values: what the plan opens
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,

    /// The kind of entity whose pairs are compared for reachability
    #[arg(long, value_enum, default_value_t = Level::Account)]
    pub level: Level,

    /// Also fail (exit 1) when any pair becomes newly reachable
    #[arg(long)]
    pub deny_new_paths: bool,

    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options every command that reads policies takes.
#[derive(Clone, Debug, Args)]
pub struct CommonArgs {
    /// Write the output to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunArgs,
}

/// How a run talks to the terminal, apart from where its output goes: `evidence`
/// writes a directory, so it takes these without `-o`.
#[derive(Clone, Debug, Default, Args)]
pub struct RunArgs {
    /// When to colour text output (honours NO_COLOR)
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Print how long each phase took to standard error
    #[arg(long)]
    pub timings: bool,

    /// Show no progress bar while loading, and no notes about skipped files
    #[arg(short, long)]
    pub quiet: bool,

    /// List every file that was found but not read as a policy, and what it held
    #[arg(short, long)]
    pub verbose: bool,

    /// Treat warnings about the policies as errors (exit 2)
    #[arg(long)]
    pub deny_warnings: bool,
}

/// `--today`, one of the common options. Only `check`, `diff` and `evidence` give results
/// that depend on the date (exception expiry); the queries take it too, and check it, so
/// that one set of options runs every command.
#[derive(Clone, Debug, Args)]
pub struct TodayArgs {
    /// The date that exceptions expire against, for reproducible results
    /// [default: SOURCE_DATE_EPOCH's date, else today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReachFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    /// List every exception with its owner, reason, time left and state (active, unused,
    /// expired), as text or `--format json`, instead of checking
    #[arg(long)]
    pub list_exceptions: bool,

    /// Fail the run only for failures of this severity or worse; others are reported
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Low)]
    pub fail_on: FailOn,

    /// Pass when the policies hold no invariants (by default that is an error, exit 2)
    #[arg(long)]
    pub allow_empty: bool,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("direction").required(true).args(["from", "to"])))]
pub struct ReachArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// List the leaves that SEL reaches, the attacker controlling all of it
    #[arg(long, value_name = "SEL", value_delimiter = ',')]
    pub from: Vec<String>,

    /// List the leaves that, each controlled alone, reach SEL
    #[arg(long, value_name = "SEL", value_delimiter = ',')]
    pub to: Vec<String>,

    /// Only paths whose last flow allows one of these ports (such as tcp/443)
    #[arg(long, value_name = "P", value_delimiter = ',')]
    pub ports: Vec<String>,

    /// Assume these credentials leaked too, as a `leaks` entry says: what a stolen
    /// credential opens
    #[arg(long, value_name = "CRED", value_delimiter = ',')]
    pub leaked: Vec<String>,

    /// Also count what is reached by environment, account or segment: the blast radius
    #[arg(long, value_enum)]
    pub level: Option<Level>,

    #[arg(long, value_enum, default_value_t = ReachFormat::Text)]
    pub format: ReachFormat,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PathFormat {
    Text,
    Json,
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Where the attacker starts (controlling all of it)
    #[arg(long, value_name = "SEL", required = true, value_delimiter = ',')]
    pub from: Vec<String>,

    /// What the attacker must not reach
    #[arg(long, value_name = "SEL", required = true, value_delimiter = ',')]
    pub to: Vec<String>,

    /// Only paths whose last flow allows one of these ports (such as tcp/443)
    #[arg(long, value_name = "P", value_delimiter = ',')]
    pub ports: Vec<String>,

    /// Assume these credentials leaked too, as a `leaks` entry says: what a stolen
    /// credential opens
    #[arg(long, value_name = "CRED", value_delimiter = ',')]
    pub leaked: Vec<String>,

    /// Up to N paths in order of length, each differing from the others in a flow
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = at_least_one
    )]
    pub all: usize,

    #[arg(long, value_enum, default_value_t = PathFormat::Text)]
    pub format: PathFormat,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// A count of one or more.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("0 paths would show nothing: use 1 or more".to_owned()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("`{text}` is not a number of paths")),
    }
}

/// A level of the estate that queries aggregate at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Environment,
    Account,
    Segment,
}

impl Level {
    pub fn kind(self) -> crate::model::EntityKind {
        match self {
            Level::Environment => crate::model::EntityKind::Environment,
            Level::Account => crate::model::EntityKind::Account,
            Level::Segment => crate::model::EntityKind::Segment,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    Text,
    Csv,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// The kind of entity the rows and columns are
    #[arg(long, value_enum, default_value_t = Level::Account)]
    pub level: Level,

    #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
    pub format: MatrixFormat,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConnectionsFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Only pairs whose source is a leaf of SEL
    #[arg(long, value_name = "SEL", num_args = 1.., value_delimiter = ',')]
    pub from: Vec<String>,

    /// Only pairs whose target is a leaf of SEL
    #[arg(long, value_name = "SEL", num_args = 1.., value_delimiter = ',')]
    pub to: Vec<String>,

    #[arg(long, value_enum, default_value_t = ConnectionsFormat::Text)]
    pub format: ConnectionsFormat,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
    Json,
    Svg,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,

    /// Collapse everything inside entities of this kind into them
    #[arg(long, value_enum)]
    pub level: Option<Level>,

    /// Draw only the neighbourhood of this entity
    #[arg(long, value_name = "ENTITY")]
    pub focus: Option<String>,

    /// With --focus: how many flows away from it to draw
    #[arg(long, value_name = "N", default_value_t = 1, requires = "focus")]
    pub depth: usize,

    /// Mark the shortest path from this selection ...
    #[arg(long, value_name = "SEL", requires = "highlight_to")]
    pub highlight_from: Option<String>,

    /// ... to this one
    #[arg(long, value_name = "SEL", requires = "highlight_from")]
    pub highlight_to: Option<String>,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
}

impl FailOn {
    pub fn severity(self) -> crate::model::Severity {
        match self {
            FailOn::Critical => crate::model::Severity::Critical,
            FailOn::High => crate::model::Severity::High,
            FailOn::Medium => crate::model::Severity::Medium,
            FailOn::Low => crate::model::Severity::Low,
        }
    }
}

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Policy files or directories [default: policies]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// The directory to write the bundle into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The report's title
    #[arg(
        long,
        value_name = "T",
        default_value = "Network segmentation evidence"
    )]
    pub title: String,

    /// Write the bundle even when the policies hold no invariants (by default an error)
    #[arg(long)]
    pub allow_empty: bool,

    /// Clear DIR first when it is not empty (without it, a non-empty DIR is refused)
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub today: TodayArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

impl EvidenceArgs {
    /// The shared options, without `-o`: the bundle goes to `--out`.
    pub fn common(&self) -> CommonArgs {
        CommonArgs {
            output: None,
            run: self.run.clone(),
        }
    }
}
