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
}
