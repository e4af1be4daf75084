//! "Did you mean": the closest known name to one that was not found.

/// The candidate closest to `wanted`, if one is close enough to be a likely typo.
///
/// Candidates are compared case-insensitively; ties go to the first in sorted order so
/// that the suggestion never depends on the order of the input.
pub fn closest<'a, I>(wanted: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted_lower = wanted.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&wanted_lower, &candidate.to_lowercase());
        let better = match best {
            None => true,
            Some((best_score, best_name)) => {
                score > best_score || (score == best_score && candidate < best_name)
            }
        };
        if better {
            best = Some((score, candidate));
        }
    }
    best.filter(|&(score, _)| score >= 0.8)
        .map(|(_, name)| name)
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
