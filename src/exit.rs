//! cordon's exit codes, a contract: 0 holds, 1 violated, 2 invalid input.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Every invariant holds, or the query ran.
    Holds,
    /// At least one invariant failed.
    Violated,
    /// The input or the command line is invalid.
    Invalid,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Holds => 0,
            Outcome::Violated => 1,
            Outcome::Invalid => 2,
        }
    }

    /// The outcome of two steps together: the worse one wins.
    pub fn merge(self, other: Outcome) -> Outcome {
        self.max(other)
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(outcome.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_contract() {
        assert_eq!(Outcome::Holds.code(), 0);
        assert_eq!(Outcome::Violated.code(), 1);
        assert_eq!(Outcome::Invalid.code(), 2);
    }

    #[test]
    fn worse_outcome_wins() {
        assert_eq!(Outcome::Holds.merge(Outcome::Violated), Outcome::Violated);
        assert_eq!(Outcome::Invalid.merge(Outcome::Violated), Outcome::Invalid);
        assert_eq!(Outcome::Holds.merge(Outcome::Holds), Outcome::Holds);
    }
}
