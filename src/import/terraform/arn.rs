//! A resource's ARN as far as a plan knows it, and IAM's wildcard patterns matched
//! against it. A plan often cannot say a resource's region, account or id until apply;
//! such a part may be any text, so a pattern *may* match the ARN (some value of the
//! unknown parts matches) or *surely* match it (every value does). What the policy
//! reader does with each answer (permissive for `Resource`, strict for what
//! `NotResource` excludes) is `iam.rs`'s business, not this file's.

/// One piece of an ARN: text the plan knows, or a part it does not: any text, empty
/// included, within one segment (no `:` or `/`, as partitions, regions, accounts and
/// ids have none).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Known(char),
    Unknown,
}

/// An ARN, some of whose parts may be unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arn {
    pieces: Vec<Piece>,
}

impl Arn {
    /// An ARN built from parts, each known text or `None` for a part the plan does not
    /// know.
    pub fn from_parts(parts: &[Option<&str>]) -> Arn {
        let mut pieces = Vec::new();
        for part in parts {
            match part {
                Some(text) => pieces.extend(text.chars().map(Piece::Known)),
                // Two unknown parts side by side are one: either may be any text.
                None if pieces.last() == Some(&Piece::Unknown) => {}
                None => pieces.push(Piece::Unknown),
            }
        }
        Arn { pieces }
    }

    /// An EC2 instance's ARN built from its id (`None` before apply), with the
    /// partition, region and account unknown.
    pub fn instance(id: Option<&str>) -> Arn {
        Arn::from_parts(&[
            Some("arn:"),
            None,
            Some(":ec2:"),
            None,
            Some(":"),
            None,
            Some(":instance/"),
            id,
        ])
    }

    /// A Lambda function's ARN built from its name (`None` when unknown until apply),
    /// with the partition, region and account unknown.
    pub fn function(name: Option<&str>) -> Arn {
        Arn::from_parts(&[
            Some("arn:"),
            None,
            Some(":lambda:"),
            None,
            Some(":"),
            None,
            Some(":function:"),
            name,
        ])
    }

    /// The ARN of any task of an ECS cluster, named by its name (`None` when unknown
    /// until apply), with the partition, region, account and task id unknown.
    pub fn task(cluster: Option<&str>) -> Arn {
        Arn::from_parts(&[
            Some("arn:"),
            None,
            Some(":ecs:"),
            None,
            Some(":"),
            None,
            Some(":task/"),
            cluster,
            Some("/"),
            None,
        ])
    }

    /// An ARN that the plan knows in full.
    pub fn known(text: &str) -> Arn {
        Arn::from_parts(&[Some(text)])
    }

    /// Whether some value of the unknown parts makes `pattern` match: `*` matches any
    /// run of characters and `?` any one, across `:` and `/` alike. Compared without
    /// case, so that it errs towards a match.
    pub fn may_match(&self, pattern: &str) -> bool {
        let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
        let pieces: Vec<Piece> = (self.pieces.iter())
            .map(|piece| match piece {
                Piece::Known(c) => Piece::Known(c.to_lowercase().next().unwrap_or(*c)),
                Piece::Unknown => Piece::Unknown,
            })
            .collect();
        // reach[i][j]: the first i characters of the pattern and the first j pieces can
        // be made to match. An unknown piece may be empty, or stand for characters that
        // the pattern's literals (other than separators) and `?` take one at a time.
        let (p, t) = (pattern.len(), pieces.len());
        let mut reach = vec![vec![false; t + 1]; p + 1];
        reach[0][0] = true;
        for i in 0..=p {
            for j in 0..=t {
                if !reach[i][j] {
                    continue;
                }
                let star = pattern.get(i) == Some(&'*');
                if star {
                    reach[i + 1][j] = true;
                    if j < t {
                        reach[i][j + 1] = true;
                    }
                }
                match pieces.get(j) {
                    Some(Piece::Unknown) => {
                        reach[i][j + 1] = true;
                        if i < p && !star && pattern[i] != ':' && pattern[i] != '/' {
                            reach[i + 1][j] = true;
                        }
                    }
                    Some(Piece::Known(c)) => {
                        if matches!(pattern.get(i), Some(&q) if q == '?' || q == *c) {
                            reach[i + 1][j + 1] = true;
                        }
                    }
                    None => {}
                }
            }
        }
        reach[p][t]
    }

    /// Whether `pattern` matches whatever the unknown parts turn out to be: each must
    /// fall inside a `*`. Compared with case, as IAM compares resource ARNs, so that it
    /// errs towards no match.
    pub fn surely_matches(&self, pattern: &str) -> bool {
        let pattern: Vec<char> = pattern.chars().collect();
        let (p, t) = (pattern.len(), self.pieces.len());
        let mut reach = vec![vec![false; t + 1]; p + 1];
        reach[0][0] = true;
        for i in 0..=p {
            for j in 0..=t {
                if !reach[i][j] {
                    continue;
                }
                if pattern.get(i) == Some(&'*') {
                    reach[i + 1][j] = true;
                    if j < t {
                        reach[i][j + 1] = true;
                    }
                } else if let (Some(&q), Some(Piece::Known(c))) =
                    (pattern.get(i), self.pieces.get(j))
                    && (q == '?' || q == *c)
                {
                    reach[i + 1][j + 1] = true;
                }
            }
        }
        reach[p][t]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_arns_match_as_iam_globs() {
        let arn = Arn::known("arn:aws:ec2:us-east-1:111111111111:instance/i-0abc");
        for pattern in [
            "*",
            "arn:aws:ec2:*:111111111111:instance*",
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:us-east-?:*:instance/i-0abc",
            "arn:aws:ec2:*",
        ] {
            assert!(arn.may_match(pattern), "{pattern}");
            assert!(arn.surely_matches(pattern), "{pattern}");
        }
        for pattern in [
            "arn:aws:ec2:*:222222222222:instance/*",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0def",
            "arn:aws:ec2:*:*:volume/*",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0ab",
        ] {
            assert!(!arn.may_match(pattern), "{pattern}");
            assert!(!arn.surely_matches(pattern), "{pattern}");
        }
        // Case: may errs towards a match, surely towards none.
        assert!(arn.may_match("ARN:AWS:EC2:*"));
        assert!(!arn.surely_matches("ARN:AWS:EC2:*"));
    }

    #[test]
    fn unknown_parts_may_be_anything_and_surely_only_under_a_star() {
        let arn = Arn::instance(None);
        for pattern in [
            "arn:aws:ec2:*:111111111111:instance*",
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0000000000000dead",
            "arn:aws:ec2:??-*:*:instance/*",
        ] {
            assert!(arn.may_match(pattern), "{pattern}");
        }
        for pattern in [
            "arn:aws:ec2:*:*:volume/*",
            "arn:aws:s3:::bucket",
            "arn:aws:ec2:us-east-1:1:2:instance/*",
        ] {
            assert!(!arn.may_match(pattern), "{pattern}");
        }
        assert!(arn.surely_matches("*"));
        assert!(arn.surely_matches("arn:*:ec2:*:*:instance/*"));
        assert!(arn.surely_matches("arn:*"));
        for pattern in [
            "arn:aws:ec2:*:*:instance/*",
            "arn:*:ec2:*:*:instance/i-0000000000000dead",
            "arn:*:ec2:?:*:instance/*",
        ] {
            assert!(!arn.surely_matches(pattern), "{pattern}");
        }
    }

    /// On a known ARN, both answers are the plain glob: checked against a naive
    /// recursive one.
    #[test]
    fn on_known_text_both_are_the_glob() {
        fn naive(pattern: &[char], text: &[char]) -> bool {
            match (pattern.first(), text.first()) {
                (None, _) => text.is_empty(),
                (Some('*'), _) => {
                    naive(&pattern[1..], text) || (!text.is_empty() && naive(pattern, &text[1..]))
                }
                (Some(q), Some(c)) if *q == '?' || q == c => naive(&pattern[1..], &text[1..]),
                _ => false,
            }
        }
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&("[a:*?]{0,7}", "[a:]{0,7}"), |(pattern, text)| {
                let chars = |s: &str| s.chars().collect::<Vec<char>>();
                let expected = naive(&chars(&pattern), &chars(&text));
                let arn = Arn::known(&text);
                proptest::prop_assert_eq!(arn.may_match(&pattern), expected);
                proptest::prop_assert_eq!(arn.surely_matches(&pattern), expected);
                Ok(())
            })
            .unwrap();
    }
}
