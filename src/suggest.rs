//! "Did you mean": the closest known name to one that was not found.

/// The candidate closest to `wanted`, if one is close enough to be a likely typo.
///
/// Closeness is the edit distance relative to the longer name, compared
/// case-insensitively; ties go to the candidate of the most similar length, then to the
/// first in sorted order, so that the suggestion never depends on the order of the input.
pub fn closest<'a, I>(wanted: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted_lower = wanted.to_lowercase();
    let wanted_len = wanted.chars().count();
    let mut best: Option<(f64, usize, &'a str)> = None;
    for candidate in candidates {
        let score =
            strsim::normalized_damerau_levenshtein(&wanted_lower, &candidate.to_lowercase());
        let length_gap = candidate.chars().count().abs_diff(wanted_len);
        let better = match best {
            None => true,
            Some((best_score, best_gap, best_name)) => {
                score > best_score
                    || (score == best_score && (length_gap, candidate) < (best_gap, best_name))
            }
        };
        if better {
            best = Some((score, length_gap, candidate));
        }
    }
    best.filter(|&(score, _, _)| score >= 0.6)
        .map(|(_, _, name)| name)
}

/// The help line for an unknown name: "did you mean `x`?".
pub fn did_you_mean<'a, I>(wanted: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(wanted, candidates).map(|name| format!("did you mean `{name}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_a_near_miss() {
        let names = ["atlassian", "aws-isolated", "jira"];
        assert_eq!(closest("atlasian", names), Some("atlassian"));
        assert_eq!(closest("aws-isolatd", names), Some("aws-isolated"));
        assert_eq!(closest("web3", ["web", "web1", "web2"]), Some("web1"));
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(closest("kubernetes", ["jira", "bitbucket"]), None);
        assert_eq!(closest("x", std::iter::empty()), None);
    }

    #[test]
    fn ties_do_not_depend_on_order() {
        assert_eq!(closest("ab", ["ac", "aa"]), closest("ab", ["aa", "ac"]));
    }
}
