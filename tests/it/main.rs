//! cordon's integration tests: one binary, one module per concern.

// A failed set-up step should stop the test loudly; that is what tests are for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Runs the real binary on policy files written to a temporary directory.
mod harness;

// Exit codes, options and plain output of each command.
mod cli;
// `path`'s cut against brute force with credentials, and what a stopped search says.
mod cut;
// np-guard's corpus: `connections` against its expected connectivity lists.
mod conformance;
// Connectivity lists in canonical form, shared by the comparisons with np-guard and NCA.
mod connlist;
// JSON output read back into test-local structs that mirror the contract.
mod contract;
// Files of flows alone, resolved as they are parsed: the same results and problems.
mod deferred;
// Reading a repository: ignore files, foreign documents, multi-document files.
mod discovery;
// Every kind of input error, as the user sees it (snapshots).
mod errors;
// The audit bundle: files, digests, reproducibility.
mod evidence;
// Exceptions: pinned routes checked and combined, unused ones warned, expiry in words.
mod exceptions;
// Every file under `policies/` and `examples/`, checked and snapshotted.
mod examples;
// The grouped check against every invariant searched alone, on random models.
mod grouped;
// The CI gate's formats (SARIF, JUnit, GitHub) and `--fail-on`.
mod gate;
// `diff` on changes to the gate itself: invariants removed or weakened, verdicts newly waived.
mod gate_changes;
// Hostile input: bombs, deep nesting, bad bytes, wrong shapes; never a panic.
mod hostile;
// Kubernetes manifests as input: policy semantics, locations, names, bad manifests.
mod kubernetes;
// `leaks`: credentials read from the estate, named as in the attacker's hands.
mod leaks;
// `connections` against NCA 2.1.0 on random clusters, and on clusters with its recorded answers.
mod nca;
// The architect's queries in every format.
mod queries;
// The engine against a deliberately naive reference on random models.
mod reference;
// Attack stories replayed hop by hop on random models: every flow crossed from a
// controlled entity with a credential held.
mod replay;
// One attack story, with a credential two hops away, in every format.
mod stories;
// A generated estate's verdicts, pinned across optimisations.
mod scale;
// Terraform plans: the AWS scenarios, each layer, bad plans.
mod terraform;
// Terraform plans where a network path was once missed: one test per bug.
mod terraform_soundness;
// A cluster and a plan in one model: the roles that pods obtain on EKS.
mod workload_identity;
