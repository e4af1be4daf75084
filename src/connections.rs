//! `connections`: every ordered pair of distinct leaves that one flow connects, with the
//! union of its flows' ports. Direct connectivity only: no paths, no credentials gathered,
//! so it answers "what does the model allow?" rather than "what can an attacker reach?".

use std::collections::BTreeMap;

use crate::model::{EntityId, FlowId, Model, Selection};
use crate::port_set::PortSet;
use crate::report::{Connection, ConnectionFlow, ConnectionsReport};

/// Every pair of distinct leaves that a single flow connects, sources restricted to
/// `from` and targets to `to` when given, sorted by source then target.
pub fn connections(
    model: &Model,
    from: Option<&Selection>,
    to: Option<&Selection>,
) -> ConnectionsReport {
    let wanted = |selection: Option<&Selection>| -> Vec<bool> {
        let mut keep = vec![selection.is_none(); model.entities.len()];
        if let Some(selection) = selection {
            for leaf in selection.leaves(model) {
                keep[leaf.index()] = true;
            }
        }
        keep
    };
    let sources = wanted(from);
    let targets = wanted(to);
    // Entity ids sort as names do, so a map keyed by ids yields the contract's order.
    let mut pairs: BTreeMap<(EntityId, EntityId), Vec<FlowId>> = BTreeMap::new();
    for id in model.flow_ids() {
        let flow = model.flow(id);
        let from_leaves: Vec<EntityId> = flow
            .from
            .leaves(model)
            .into_iter()
            .filter(|leaf| sources[leaf.index()])
            .collect();
        if from_leaves.is_empty() {
            continue;
        }
        let to_leaves: Vec<EntityId> = flow
            .to
            .leaves(model)
            .into_iter()
            .filter(|leaf| targets[leaf.index()])
            .collect();
        for &source in &from_leaves {
            for &target in &to_leaves {
                if source != target {
                    pairs.entry((source, target)).or_default().push(id);
                }
            }
        }
    }
    let connections = pairs
        .into_iter()
        .map(|((source, target), flows)| connection(model, source, target, &flows))
        .collect();
    ConnectionsReport { connections }
}

fn connection(model: &Model, source: EntityId, target: EntityId, flows: &[FlowId]) -> Connection {
    let mut ports = PortSet::empty();
    let flows = flows
        .iter()
        .map(|&id| {
            let flow = model.flow(id);
            ports = ports.union(&PortSet::from_specs(flow.ports().iter().copied()));
            ConnectionFlow {
                name: model.flow_label(id),
                ports: flow.ports().iter().map(ToString::to_string).collect(),
                auth: flow
                    .auth()
                    .iter()
                    .map(|&credential| model.credential(credential).name.clone())
                    .collect(),
                location: model.sources.file_line(flow.location).to_string(),
            }
        })
        .collect();
    Connection {
        from: model.entity(source).name.clone(),
        to: model.entity(target).name.clone(),
        ports: ports.specs().iter().map(ToString::to_string).collect(),
        flows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model_from_text;

    const MODEL: &str = "
segments:
  - name: web
assets:
  - {name: a, in: web}
  - {name: b, in: web}
  - {name: db}
credentials:
  - {name: key, held_by: a}
flows:
  - {name: web-db, from: web, to: db, ports: [tcp/5432]}
  - {name: a-db, from: a, to: db, ports: [tcp/5433, tcp/5432], auth: [key]}
  - {name: inside, from: web, to: web, ports: [sctp/9000]}
  - {name: chain, from: db, to: internet}
";

    fn pairs(report: &ConnectionsReport) -> Vec<(String, String, Vec<String>)> {
        report
            .connections
            .iter()
            .map(|c| (c.from.clone(), c.to.clone(), c.ports.clone()))
            .collect()
    }

    #[test]
    fn every_pair_of_distinct_leaves_with_the_union_of_ports() {
        let model = model_from_text("m.yaml", MODEL).unwrap();
        let report = connections(&model, None, None);
        let s = |text: &str| text.to_owned();
        assert_eq!(
            pairs(&report),
            vec![
                (s("a"), s("b"), vec![s("sctp/9000")]),
                (s("a"), s("db"), vec![s("tcp/5432-5433")]),
                (s("b"), s("a"), vec![s("sctp/9000")]),
                (s("b"), s("db"), vec![s("tcp/5432")]),
                (s("db"), s("internet"), vec![s("any")]),
            ]
        );
        // No transitivity: a reaches internet through db, but no one flow connects them.
        let a_db = &report.connections[1];
        assert_eq!(a_db.flows.len(), 2);
        assert_eq!(a_db.flows[0].name, "web-db");
        assert_eq!(a_db.flows[1].auth, ["key"]);
        assert_eq!(a_db.flows[1].location, "m.yaml:12");
    }

    #[test]
    fn from_and_to_restrict_the_pairs() {
        let model = model_from_text("m.yaml", MODEL).unwrap();
        let a = crate::resolve::select(&model, &["a".to_owned()]).unwrap();
        let report = connections(&model, Some(&a), None);
        assert!(report.connections.iter().all(|c| c.from == "a"));
        assert_eq!(report.connections.len(), 2);
        let db = crate::resolve::select(&model, &["db".to_owned()]).unwrap();
        let report = connections(&model, None, Some(&db));
        assert_eq!(report.connections.len(), 2);
        assert!(report.connections.iter().all(|c| c.to == "db"));
    }
}
