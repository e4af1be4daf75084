//! Verifying invariants: runs the searches each invariant needs, applies exceptions, and
//! produces a [`CheckReport`].

use crate::date::Date;
use crate::engine::{Engine, Goal, Step, Workspace};
use crate::graph::ReachGraph;
use crate::model::{End, Exception, Invariant, Model, Rule, Selection};
use crate::ports::PortSpec;
use crate::report::{CheckReport, ExceptionNote, Hop, InvariantResult, Status};
use crate::timings::Timings;
use crate::waiver::{Question, other_route};

/// Checks every invariant of `model` as of `today`.
pub fn check(model: &Model, today: Date) -> CheckReport {
    check_timed(model, today, &mut Timings::new())
}

/// [`check`], recording the time spent building the graph and checking.
pub fn check_timed(model: &Model, today: Date, timings: &mut Timings) -> CheckReport {
    let graph = ReachGraph::build(model);
    let engine = Engine::new(model, &graph);
    let mut workspace = engine.workspace();
    timings.lap("graph");
    let results = model
        .invariants
        .iter()
        .map(|invariant| evaluate(&engine, &mut workspace, invariant, today))
        .collect();
    timings.lap("check");
    CheckReport {
        inputs: model.sources.files().to_vec(),
        today,
        results,
    }
}

/// Marks every entity `via` selects, for searches that must avoid them.
fn blocked_by(model: &Model, via: &Selection) -> Vec<bool> {
    let mut blocked = vec![false; model.entities.len()];
    for member in via.members(model) {
        blocked[member.index()] = true;
    }
    blocked
}

/// The witness of a shortest path for `question`: from `from` to `to`, the last flow
/// allowing `ports`, avoiding what is blocked; with `direct`, only a path of one flow.
fn find_path(engine: &Engine, workspace: &mut Workspace, question: &Question) -> Option<Vec<Step>> {
    let goal = Goal {
        targets: question.to,
        ports: question.ports,
    };
    let arrival = engine.arrive(workspace, question.from, question.blocked, &goal)?;
    if question.direct && arrival.hops != 1 {
        return None;
    }
    Some(engine.witness(workspace, arrival))
}

fn evaluate(
    engine: &Engine,
    workspace: &mut Workspace,
    invariant: &Invariant,
    today: Date,
) -> InvariantResult {
    let model = engine.model;
    let (from, to, ports, direct, via) = match &invariant.rule {
        Rule::Forbid {
            from,
            to,
            ports,
            direct,
        }
        | Rule::Require {
            from,
            to,
            ports,
            direct,
        } => (from, to, ports.as_slice(), *direct, None),
        Rule::Through { from, to, via } => (from, to, [].as_slice(), false, Some(via)),
    };
    let blocked = via.map(|via| blocked_by(model, &via.selection));
    let question = Question {
        from: &from.selection,
        to: &to.selection,
        ports,
        direct,
        blocked: blocked.as_deref(),
    };
    let witness =
        find_path(engine, workspace, &question).map(|steps| Hop::from_steps(model, &steps));
    let (status, message) = match (&invariant.rule, witness.as_deref()) {
        (Rule::Forbid { .. }, Some(witness)) => (Status::Fail, reaches(witness)),
        (Rule::Forbid { .. }, None) => (Status::Pass, no_path(from, to, ports, direct)),
        (Rule::Require { .. }, Some(witness)) => (Status::Pass, reaches(witness)),
        (Rule::Require { .. }, None) => (Status::Fail, no_path(from, to, ports, direct)),
        (Rule::Through { via, .. }, Some(witness)) => (
            Status::Fail,
            format!("{} avoiding {}", reaches(witness), quote(via)),
        ),
        (Rule::Through { via, .. }, None) => (
            Status::Pass,
            format!(
                "every path from {} to {} passes through {}",
                quote(from),
                quote(to),
                quote(via)
            ),
        ),
    };
    let mut result = InvariantResult {
        name: invariant.name.clone(),
        file: model.sources.path(invariant.location.source).to_owned(),
        line: invariant.location.line,
        kind: invariant.rule.kind(),
        severity: invariant.severity,
        description: invariant.description.clone(),
        references: invariant.references.clone(),
        location: model.sources.file_line(invariant.location).to_string(),
        status,
        message,
        witness: witness.unwrap_or_default(),
        waiver: None,
        expired: Vec::new(),
    };
    apply_exceptions(engine, workspace, &question, &mut result, today);
    result
}

/// "jira reaches bitbucket in 2 hops", from the witness's first and last leaves.
fn reaches(witness: &[Hop]) -> String {
    let (Some(first), Some(last)) = (witness.first(), witness.last()) else {
        return String::new();
    };
    let hops = witness.len();
    format!(
        "{} reaches {} in {hops} hop{}",
        first.from,
        last.to,
        if hops == 1 { "" } else { "s" }
    )
}

fn no_path(from: &End, to: &End, ports: &[PortSpec], direct: bool) -> String {
    let direct = if direct { "direct " } else { "" };
    let ports = if ports.is_empty() {
        String::new()
    } else {
        let ports: Vec<String> = ports.iter().map(ToString::to_string).collect();
        format!(" on {}", ports.join(", "))
    };
    format!(
        "no {direct}path from {} to {}{ports}",
        quote(from),
        quote(to)
    )
}

fn quote(end: &End) -> String {
    format!("`{}`", end.text)
}

/// Every exception of the model, as of `today`, in input order, with its invariant.
pub fn exceptions(model: &Model, today: Date) -> Vec<(String, ExceptionNote)> {
    model
        .exceptions
        .iter()
        .map(|exception| {
            (
                model.invariants[exception.invariant.index()].name.clone(),
                ExceptionNote {
                    owner: exception.owner.clone(),
                    reason: exception.reason.clone(),
                    expires: exception.expires,
                    days_left: today.days_until(exception.expires),
                    location: model.sources.file_line(exception.location).to_string(),
                },
            )
        })
        .collect()
}

/// Waives a failure under an exception that has not expired and whose `path`, if any,
/// the witness follows, unless another route remains; notes exceptions that have
/// expired.
fn apply_exceptions(
    engine: &Engine,
    workspace: &mut Workspace,
    question: &Question,
    result: &mut InvariantResult,
    today: Date,
) {
    let model = engine.model;
    let exceptions = model
        .exceptions
        .iter()
        .filter(|exception| model.invariants[exception.invariant.index()].name == result.name);
    for exception in exceptions {
        let note = ExceptionNote {
            owner: exception.owner.clone(),
            reason: exception.reason.clone(),
            expires: exception.expires,
            days_left: today.days_until(exception.expires),
            location: model.sources.file_line(exception.location).to_string(),
        };
        if note.days_left < 0 {
            result.expired.push(note);
        } else if result.status == Status::Fail
            && result.waiver.is_none()
            && follows(model, &result.witness, exception)
        {
            // A pinned route waives only itself: another way in still fails.
            if !exception.path.is_empty()
                && let Some(route) = other_route(engine, workspace, question, &exception.path)
            {
                result.witness = Hop::from_steps(model, &route);
                result.message = format!(
                    "{} by another route than the one {}'s exception waives",
                    reaches(&result.witness),
                    note.owner
                );
                continue;
            }
            result.status = Status::Waived;
            result.waiver = Some(note);
        }
    }
}

/// Whether the witness passes the exception's entities in order, one per leaf.
fn follows(model: &Model, witness: &[Hop], exception: &Exception) -> bool {
    if exception.path.is_empty() {
        return true;
    }
    let leaves: Vec<&str> = witness
        .first()
        .map(|hop| hop.from.as_str())
        .into_iter()
        .chain(witness.iter().map(|hop| hop.to.as_str()))
        .collect();
    leaves.len() == exception.path.len()
        && leaves.iter().zip(&exception.path).all(|(leaf, &step)| {
            model
                .find_entity(leaf)
                .is_some_and(|leaf| model.within(leaf, step))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model_from_text;

    fn report(yaml: &str) -> CheckReport {
        let model = match model_from_text("test.yaml", yaml) {
            Ok(model) => model,
            Err(problems) => panic!("{problems:#?}"),
        };
        check(&model, "2024-01-01".parse().unwrap())
    }

    /// The status of each invariant, by name.
    fn statuses(yaml: &str) -> Vec<(String, &'static str)> {
        report(yaml)
            .results
            .into_iter()
            .map(|r| (r.name, r.status.as_str()))
            .collect()
    }

    fn status_of(yaml: &str, name: &str) -> &'static str {
        statuses(yaml)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
            .unwrap()
    }

    const ESTATE: &str = "
segments:
  - name: web
  - name: db
assets:
  - {name: web1, in: web}
  - {name: web2, in: web}
  - {name: db1, in: db}
  - {name: db2, in: db}
  - {name: laptop}
";

    #[test]
    fn a_flow_to_a_group_reaches_every_member() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: db}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db2}}}}
"
        );
        assert_eq!(status_of(&yaml, "t"), "fail");
    }

    #[test]
    fn controlling_one_member_does_not_give_its_siblings() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: web1, to: db1}}
  - {{from: web, to: laptop}}
invariants:
  - {{name: sibling, forbid: {{from: web2, to: db1}}}}
  - {{name: group-flow-serves-members, forbid: {{from: web2, to: laptop}}}}
"
        );
        assert_eq!(status_of(&yaml, "sibling"), "pass");
        assert_eq!(status_of(&yaml, "group-flow-serves-members"), "fail");
    }

    #[test]
    fn nothing_is_allowed_inside_a_segment_without_a_flow() {
        let yaml = format!(
            "{ESTATE}
invariants:
  - {{name: t, forbid: {{from: web1, to: web2}}}}
"
        );
        assert_eq!(status_of(&yaml, "t"), "pass");
    }

    #[test]
    fn an_auth_flow_opens_once_a_holder_is_controlled() {
        let yaml = format!(
            "{ESTATE}
credentials:
  - {{name: key, held_by: web2}}
flows:
  - {{name: to-db, from: laptop, to: db1, auth: [key]}}
  - {{name: to-web, from: laptop, to: web}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db1}}}}
  - {{name: without-holder, forbid: {{from: web1, to: laptop}}}}
"
        );
        let report = report(&yaml);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        let hop = &result.witness[0];
        assert_eq!(hop.credential.as_deref(), Some("key"));
        assert_eq!(
            hop.obtained,
            Some(crate::report::Obtained::From("web2".into()))
        );
    }

    #[test]
    fn a_credential_obtained_late_opens_flows_from_sources_reached_early() {
        // The laptop is reached first; the key only after a longer detour. The flow out
        // of the laptop must still open once the key is held.
        let yaml = "
assets:
  - {name: a}
  - {name: b}
  - {name: c}
  - {name: d}
  - {name: vault}
credentials:
  - {name: key, held_by: vault}
flows:
  - {from: a, to: b}
  - {from: b, to: c}
  - {from: c, to: vault}
  - {from: b, to: d, auth: [key]}
invariants:
  - {name: t, forbid: {from: a, to: d}}
";
        let report = report(yaml);
        assert_eq!(report.results[0].status, Status::Fail);
        assert_eq!(report.results[0].witness.len(), 2);
    }

    #[test]
    fn leaked_credentials_are_held_from_the_start_and_revoked_ones_open_nothing() {
        let yaml = format!(
            "{ESTATE}
credentials:
  - {{name: stolen, leaked: true}}
  - {{name: rotated, leaked: true, status: revoked, held_by: laptop}}
flows:
  - {{from: internet, to: web1, auth: [stolen]}}
  - {{from: internet, to: db1, auth: [rotated]}}
invariants:
  - {{name: leaked, forbid: {{from: internet, to: web1}}}}
  - {{name: revoked, forbid: {{from: internet, to: db1}}}}
"
        );
        assert_eq!(status_of(&yaml, "leaked"), "fail");
        assert_eq!(status_of(&yaml, "revoked"), "pass");
    }

    #[test]
    fn ports_constrain_the_last_flow_only() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1, ports: [tcp/22]}}
  - {{from: web1, to: db1, ports: [tcp/5432]}}
invariants:
  - {{name: ssh-last, forbid: {{from: laptop, to: db1, ports: [tcp/22]}}}}
  - {{name: pg-last, forbid: {{from: laptop, to: db1, ports: [tcp/5432]}}}}
  - {{name: range, forbid: {{from: laptop, to: db1, ports: [tcp/5000-6000]}}}}
"
        );
        assert_eq!(status_of(&yaml, "ssh-last"), "pass");
        assert_eq!(status_of(&yaml, "pg-last"), "fail");
        assert_eq!(status_of(&yaml, "range"), "fail");
    }

    #[test]
    fn direct_means_a_single_flow() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1}}
invariants:
  - {{name: direct, forbid: {{from: laptop, to: db1, direct: true}}}}
  - {{name: any-path, forbid: {{from: laptop, to: db1}}}}
  - {{name: need-direct, require: {{from: laptop, to: db1, direct: true}}}}
  - {{name: need-path, require: {{from: laptop, to: db1}}}}
"
        );
        assert_eq!(
            statuses(&yaml),
            [
                ("direct".to_owned(), "pass"),
                ("any-path".to_owned(), "fail"),
                ("need-direct".to_owned(), "fail"),
                ("need-path".to_owned(), "pass"),
            ]
        );
    }

    #[test]
    fn through_removes_via_and_looks_for_another_path() {
        let base = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db}}
invariants:
  - {{name: t, through: {{from: laptop, to: db, via: web1}}}}
"
        );
        assert_eq!(status_of(&base, "t"), "pass");
        let bypass =
            format!("{base}\n  - {{name: u, through: {{from: laptop, to: db, via: web2}}}}\n");
        assert_eq!(status_of(&bypass, "u"), "fail");
        let report = report(&bypass);
        assert!(report.results[1].message.contains("avoiding `web2`"));
    }

    #[test]
    fn any_stands_for_everything_else() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: db1, to: db2}}
invariants:
  - {{name: db-reaches-nothing-else, forbid: {{from: db, to: any}}}}
  - {{name: db1-reaches-nothing, forbid: {{from: db1, to: any}}}}
  - {{name: nothing-reaches-laptop, forbid: {{from: any, to: laptop}}}}
"
        );
        assert_eq!(
            statuses(&yaml),
            [
                ("db-reaches-nothing-else".to_owned(), "pass"),
                ("db1-reaches-nothing".to_owned(), "fail"),
                ("nothing-reaches-laptop".to_owned(), "pass"),
            ]
        );
    }

    #[test]
    fn address_selectors_pick_leaves_groups_and_internet() {
        let yaml = "
segments:
  - {name: lan, cidrs: [10.0.0.0/16]}
assets:
  - {name: printer, in: lan, cidrs: [10.0.1.5]}
  - {name: nas, in: lan, cidrs: [10.0.2.0/24]}
  - {name: laptop}
flows:
  - {from: laptop, to: 10.0.1.0/24}
  - {from: laptop, to: 10.0.9.0/24}
  - {from: laptop, to: 8.8.8.8}
invariants:
  - {name: printer, forbid: {from: laptop, to: printer}}
  - {name: nas, forbid: {from: laptop, to: nas}}
  - {name: internet, forbid: {from: laptop, to: internet}}
";
        // 10.0.1.0/24 holds the printer; 10.0.9.0/24 is lan space no leaf covers, so
        // all of lan is selected, the nas with it.
        assert_eq!(
            statuses(yaml),
            [
                ("printer".to_owned(), "fail"),
                ("nas".to_owned(), "fail"),
                ("internet".to_owned(), "fail"),
            ]
        );
    }

    #[test]
    fn exceptions_waive_until_they_expire() {
        let yaml = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: db1}}
invariants:
  - {{name: live, forbid: {{from: laptop, to: db1}}}}
  - {{name: stale, forbid: {{from: laptop, to: db}}}}
  - {{name: pinned, forbid: {{from: laptop, to: db1}}}}
exceptions:
  - {{invariant: live, reason: migration, owner: alice, expires: 2024-01-01}}
  - {{invariant: stale, reason: old, owner: bob, expires: 2023-12-31}}
  - {{invariant: pinned, reason: other route, owner: carol, expires: 2030-01-01, path: [laptop, web1]}}
"
        );
        let report = report(&yaml);
        let by_name = |name: &str| report.results.iter().find(|r| r.name == name).unwrap();
        assert_eq!(by_name("live").status, Status::Waived);
        assert_eq!(by_name("live").waiver.as_ref().unwrap().days_left, 0);
        assert_eq!(by_name("stale").status, Status::Fail);
        assert_eq!(by_name("stale").expired[0].owner, "bob");
        assert_eq!(by_name("pinned").status, Status::Fail);
    }

    #[test]
    fn a_pinned_exception_waives_its_route_only() {
        let only_route = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web1}}
  - {{from: web1, to: db1}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: db}}}}
exceptions:
  - {{invariant: t, reason: r, owner: dana, expires: 2030-01-01, path: [laptop, web1, db1]}}
"
        );
        assert_eq!(status_of(&only_route, "t"), "waived");
        let two_routes = only_route.replace(
            "  - {from: web1, to: db1}\n",
            "  - {from: web1, to: db1}\n  - {from: laptop, to: web2}\n  - {from: web2, to: db2}\n",
        );
        let report = report(&two_routes);
        let result = &report.results[0];
        assert_eq!(result.status, Status::Fail);
        assert_eq!(
            result.witness[0].to, "web2",
            "the witness is the route not waived"
        );
        assert!(
            result
                .message
                .contains("another route than the one dana's exception waives")
        );
    }

    #[test]
    fn results_repeat_and_ties_go_to_the_lowest_leaf() {
        let one = format!(
            "{ESTATE}
flows:
  - {{from: laptop, to: web}}
  - {{from: laptop, to: db}}
invariants:
  - {{name: t, forbid: {{from: laptop, to: any}}}}
"
        );
        let first = report(&one);
        let again = report(&one);
        assert_eq!(first, again);
        assert_eq!(first.results[0].witness[0].to, "db1");
    }
}
