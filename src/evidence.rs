//! `evidence`: what an audit bundle holds, computed: the check, the account matrix,
//! an inventory, coverage, and the combined digest of the inputs. Writing the bundle
//! is `commands/evidence.rs`; formatting it is `render/evidence_*`.

use crate::check::check;
use crate::date::Date;
use crate::load::hex_digest;
use crate::matrix::matrix;
use crate::model::{CredentialStatus, EntityKind, Model, Rule, Selection};
use crate::report::{CheckReport, MatrixReport};

/// How many entities of each kind, flows and credentials the model has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inventory {
    pub environments: usize,
    pub accounts: usize,
    pub segments: usize,
    pub assets: usize,
    pub flows: usize,
    pub credentials: usize,
    pub leaked: Vec<String>,
    pub revoked: Vec<String>,
}

/// What no invariant speaks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Environments and accounts that no invariant's ends or `via` touch.
    pub unmentioned: Vec<String>,
    /// Ordered pairs of accounts that no invariant constrains.
    pub unconstrained_pairs: Vec<(String, String)>,
    pub account_pairs: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub title: String,
    pub today: Date,
    /// SHA-256 over every input's path and digest, one per line, in path order.
    pub inputs_digest: String,
    /// The verdicts, and every exception with its state.
    pub check: CheckReport,
    pub matrix: MatrixReport,
    pub inventory: Inventory,
    pub coverage: Coverage,
}

pub fn evidence(model: &Model, title: &str, today: Date) -> Evidence {
    let check = check(model, today);
    let mut combined = String::new();
    for input in model.sources.inputs() {
        combined.push_str(&format!("{}  {}\n", input.sha256, input.path));
    }
    Evidence {
        title: title.to_owned(),
        today,
        inputs_digest: hex_digest(combined.as_bytes()),
        matrix: matrix(model, EntityKind::Account, true),
        inventory: inventory(model),
        coverage: coverage(model),
        check,
    }
}

fn inventory(model: &Model) -> Inventory {
    let count = |kind| model.entities.iter().filter(|e| e.kind == kind).count();
    Inventory {
        environments: count(EntityKind::Environment),
        accounts: count(EntityKind::Account),
        segments: count(EntityKind::Segment),
        assets: count(EntityKind::Asset),
        flows: model.flows.len(),
        credentials: model.credentials.len(),
        leaked: model
            .credentials
            .iter()
            .filter(|c| c.leaked)
            .map(|c| c.name.clone())
            .collect(),
        revoked: model
            .credentials
            .iter()
            .filter(|c| c.status == CredentialStatus::Revoked)
            .map(|c| c.name.clone())
            .collect(),
    }
}

fn coverage(model: &Model) -> Coverage {
    let ends: Vec<(&Selection, &Selection, Option<&Selection>)> = model
        .invariants
        .iter()
        .map(|invariant| match &invariant.rule {
            Rule::Forbid { from, to, .. } | Rule::Require { from, to, .. } => {
                (&from.selection, &to.selection, None)
            }
            Rule::Through { from, to, via } => {
                (&from.selection, &to.selection, Some(&via.selection))
            }
        })
        .collect();
    let single = |id| Selection::from_entities(model, vec![id]);
    let touched = |selection: &Selection| {
        ends.iter().any(|(from, to, via)| {
            from.overlap(model, selection).is_some()
                || to.overlap(model, selection).is_some()
                || via.is_some_and(|via| via.overlap(model, selection).is_some())
        })
    };
    let unmentioned = model
        .entity_ids()
        .filter(|&id| {
            matches!(
                model.entity(id).kind,
                EntityKind::Environment | EntityKind::Account
            )
        })
        .filter(|&id| !touched(&single(id)))
        .map(|id| model.entity(id).name.clone())
        .collect();
    let accounts: Vec<_> = model
        .entity_ids()
        .filter(|&id| model.entity(id).kind == EntityKind::Account)
        .collect();
    let mut unconstrained_pairs = Vec::new();
    let mut account_pairs = 0;
    for &a in &accounts {
        for &b in &accounts {
            if a == b {
                continue;
            }
            account_pairs += 1;
            let (sa, sb) = (single(a), single(b));
            let constrained = ends.iter().any(|(from, to, _)| {
                from.overlap(model, &sa).is_some() && to.overlap(model, &sb).is_some()
            });
            if !constrained {
                unconstrained_pairs
                    .push((model.entity(a).name.clone(), model.entity(b).name.clone()));
            }
        }
    }
    Coverage {
        unmentioned,
        unconstrained_pairs,
        account_pairs,
    }
}
