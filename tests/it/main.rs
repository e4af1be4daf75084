//! cordon's integration tests: one binary, one module per concern.

// A failed set-up step should stop the test loudly; that is what tests are for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Runs the real binary on policy files written to a temporary directory.
mod harness;

// Exit codes, options and plain output of each command.
mod cli;
// JSON output read back into test-local structs that mirror the contract.
mod contract;
// Reading a repository: ignore files, foreign documents, multi-document files.
mod discovery;
// Every kind of input error, as the user sees it (snapshots).
mod errors;
// The audit bundle: files, digests, reproducibility.
mod evidence;
// Every file under `policies/` and `examples/`, checked and snapshotted.
mod examples;
// The CI gate's formats (SARIF, JUnit, GitHub) and `--fail-on`.
mod gate;
// Hostile input: bombs, deep nesting, bad bytes, wrong shapes; never a panic.
mod hostile;
// The architect's queries in every format.
mod queries;
// The engine against a deliberately naive reference on random models.
mod reference;
// A generated estate's verdicts, pinned across optimisations.
mod scale;
// Terraform plans: the AWS scenarios, each layer, bad plans.
mod terraform;
