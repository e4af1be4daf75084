//! Each phase of a run on a generated estate of 20,000 flows: parse, resolve, graph
//! build, check, and the reach queries.
//!
//! ```sh
//! cargo bench --bench phases
//! ```
//!
//! The end-to-end figures at full scale, against the parse floor, are in BENCHMARKS.md.

// A benchmark whose set-up fails has nothing to measure; stopping loudly is right.
#![allow(clippy::expect_used)]

use std::path::PathBuf;
use std::sync::LazyLock;

use cordon::engine::Engine;
use cordon::graph::ReachGraph;
use cordon::load::{self, ParsedFile};
use cordon::model::{Model, Selection};
use cordon::synth::{self, Format, Options};

fn main() {
    divan::main();
}

static ESTATE: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temporary directory");
    synth::generate(&Options {
        scale: 0.2,
        out: dir.path().to_owned(),
        format: Format::Yaml,
        seed: 2023,
        flow_files: 8,
    })
    .expect("generate the estate");
    dir
});

fn paths() -> Vec<PathBuf> {
    vec![ESTATE.path().to_owned()]
}

fn parsed() -> Vec<ParsedFile> {
    let (found, _) = load::discover(&paths());
    found
        .into_iter()
        .filter_map(|file| load::read(file).expect("parse").policy)
        .collect()
}

static MODEL: LazyLock<Model> =
    LazyLock::new(|| cordon::policy::load_model(&paths()).expect("load the estate"));

#[divan::bench(sample_count = 10)]
fn parse() -> Vec<ParsedFile> {
    parsed()
}

#[divan::bench(sample_count = 10)]
fn resolve(bencher: divan::Bencher) {
    // Each sample resolves fresh files, since resolving consumes their flows as `check`
    // does.
    bencher
        .with_inputs(parsed)
        .bench_local_refs(|files| cordon::resolve::resolve(files, true).expect("resolve"));
}

#[divan::bench(sample_count = 10)]
fn graph_build() -> ReachGraph {
    ReachGraph::build(&MODEL)
}

#[divan::bench(sample_count = 10)]
fn check() -> cordon::report::CheckReport {
    cordon::check::check(
        &MODEL,
        "2024-01-01".parse().unwrap_or_else(|()| unreachable!()),
    )
}

fn selection(name: &str) -> Selection {
    let id = MODEL.find_entity(name).expect("a generated entity");
    Selection::from_entities(&MODEL, vec![id])
}

#[divan::bench(sample_count = 10)]
fn reach_from() -> usize {
    cordon::reach::reach_from(&MODEL, &selection("host-100"), &[]).len()
}

#[divan::bench(sample_count = 10)]
fn reach_to() -> usize {
    cordon::reach::reach_to(&MODEL, &selection("host-100"), &[]).len()
}

#[divan::bench(sample_count = 10)]
fn components() -> bool {
    let graph = ReachGraph::build(&MODEL);
    let engine = Engine::new(&MODEL, &graph);
    let mut workspace = engine.workspace();
    engine.reaches(
        &mut workspace,
        &selection("host-100"),
        &selection("host-101"),
    )
}

#[divan::bench(sample_count = 10)]
fn matrix_account() -> usize {
    cordon::matrix::matrix(&MODEL, cordon::model::EntityKind::Account, false)
        .cells
        .len()
}
