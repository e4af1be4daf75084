//! Kubernetes label selectors (`matchLabels` and `matchExpressions` with `In`, `NotIn`,
//! `Exists` and `DoesNotExist`) and whether one matches a set of labels.

use super::objects::Labels;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Expression {
    pub key: String,
    pub operator: Operator,
    /// Sorted, without repeats.
    pub values: Vec<String>,
}

/// A label selector. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Expression>,
    /// Set when part of it could not be read (an error was reported): it then matches
    /// nothing.
    pub unreadable: bool,
}

impl LabelSelector {
    /// Whether every requirement holds for `labels`.
    pub fn matches(&self, labels: &Labels) -> bool {
        if self.unreadable {
            return false;
        }
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self.expressions.iter().all(|expression| {
                let value = labels.get(&expression.key);
                match expression.operator {
                    Operator::In => value.is_some_and(|v| expression.values.contains(v)),
                    // A pod without the key is not in the excluded set, so it matches.
                    Operator::NotIn => value.is_none_or(|v| !expression.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

impl LabelSelector {
    /// Whether some set of labels matches: what a pod whose labels its writer chooses
    /// can always be given. Each key is checked alone, as requirements on one key never
    /// constrain another.
    pub fn satisfiable(&self) -> bool {
        if self.unreadable {
            return false;
        }
        let mut keys: Vec<&str> = self.match_labels.iter().map(|(k, _)| k.as_str()).collect();
        keys.extend(self.expressions.iter().map(|e| e.key.as_str()));
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter().all(|key| {
            let on_key = || self.expressions.iter().filter(move |e| e.key == key);
            // The values the key may take, where some requirement lists them.
            let lists = self
                .match_labels
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, value)| vec![value])
                .chain(
                    on_key()
                        .filter(|e| e.operator == Operator::In)
                        .map(|e| e.values.iter().collect()),
                );
            let allowed: Option<Vec<&String>> = lists.reduce(|before, values| {
                before.into_iter().filter(|v| values.contains(v)).collect()
            });
            let present = allowed.is_some() || on_key().any(|e| e.operator == Operator::Exists);
            let absent = on_key().any(|e| e.operator == Operator::DoesNotExist);
            if !present {
                // Leaving the key out meets `NotIn` and `DoesNotExist`.
                return true;
            }
            if absent {
                return false;
            }
            let excluded: Vec<&String> = on_key()
                .filter(|e| e.operator == Operator::NotIn)
                .flat_map(|e| &e.values)
                .collect();
            // Without a list of values, some value is outside every exclusion.
            allowed.is_none_or(|values| values.iter().any(|v| !excluded.contains(v)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn expression(key: &str, operator: Operator, values: &[&str]) -> LabelSelector {
        LabelSelector {
            expressions: vec![Expression {
                key: key.to_owned(),
                operator,
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            }],
            ..LabelSelector::default()
        }
    }

    #[test]
    fn each_operator_follows_the_kubernetes_api() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let bare = labels(&[]);
        assert!(LabelSelector::default().matches(&bare));
        let in_ = expression("app", Operator::In, &["web", "api"]);
        assert!(in_.matches(&web) && !in_.matches(&bare));
        let not_in = expression("app", Operator::NotIn, &["web"]);
        assert!(!not_in.matches(&web) && not_in.matches(&bare));
        let exists = expression("tier", Operator::Exists, &[]);
        assert!(exists.matches(&web) && !exists.matches(&bare));
        let absent = expression("tier", Operator::DoesNotExist, &[]);
        assert!(!absent.matches(&web) && absent.matches(&bare));
        let by_label = LabelSelector {
            match_labels: vec![("app".into(), "web".into())],
            ..LabelSelector::default()
        };
        assert!(by_label.matches(&web) && !by_label.matches(&bare));
        let broken = LabelSelector {
            unreadable: true,
            ..LabelSelector::default()
        };
        assert!(!broken.matches(&web));
    }

    #[test]
    fn a_selector_is_satisfiable_when_some_labels_match_it() {
        let all = |selectors: &[LabelSelector]| LabelSelector {
            match_labels: selectors
                .iter()
                .flat_map(|s| s.match_labels.clone())
                .collect(),
            expressions: selectors
                .iter()
                .flat_map(|s| s.expressions.clone())
                .collect(),
            unreadable: false,
        };
        let label = |key: &str, value: &str| LabelSelector {
            match_labels: vec![(key.into(), value.into())],
            ..LabelSelector::default()
        };
        let sat = [
            LabelSelector::default(),
            label("app", "web"),
            all(&[
                label("app", "web"),
                expression("app", Operator::In, &["web", "db"]),
            ]),
            all(&[
                expression("app", Operator::Exists, &[]),
                expression("app", Operator::NotIn, &["web", "db"]),
            ]),
            all(&[
                expression("app", Operator::NotIn, &["web"]),
                expression("tier", Operator::DoesNotExist, &[]),
            ]),
            all(&[
                expression("app", Operator::In, &["web", "db"]),
                expression("app", Operator::NotIn, &["web"]),
            ]),
        ];
        for selector in &sat {
            assert!(selector.satisfiable(), "{selector:?}");
        }
        let unsat = [
            all(&[label("app", "web"), label("app", "db")]),
            all(&[
                label("app", "web"),
                expression("app", Operator::NotIn, &["web"]),
            ]),
            all(&[
                expression("app", Operator::In, &["web"]),
                expression("app", Operator::In, &["db"]),
            ]),
            all(&[
                expression("app", Operator::Exists, &[]),
                expression("app", Operator::DoesNotExist, &[]),
            ]),
            all(&[
                label("app", "web"),
                expression("app", Operator::DoesNotExist, &[]),
            ]),
            expression("app", Operator::In, &[]),
            LabelSelector {
                unreadable: true,
                ..LabelSelector::default()
            },
        ];
        for selector in &unsat {
            assert!(!selector.satisfiable(), "{selector:?}");
        }
    }
}
