//! Resolving `leaks`: credentials declared elsewhere, named as held by the attacker.
//!
//! A hand-written credential says `leaked: true` where it is declared. One that an
//! importer read (an IAM user, a service account's token) is declared by the estate,
//! and a second declaration of its name would be a duplicate; a leak names it instead,
//! so that "this token was stolen and never rotated" can be stated, and checked in CI,
//! for the credentials that the estate really holds.

use super::Context;
use super::rules::unknown_credential;
use crate::load::ParsedFile;
use crate::location::SourceId;
use crate::model::Credential;
use crate::model::find_credential;

/// Marks every credential that a leak names as leaked. A leak that names no credential
/// is an error, unless a credential of that name is written and failed to resolve: that
/// has had its own error already.
pub(super) fn apply_leaks(cx: &mut Context, files: &[ParsedFile], credentials: &mut [Credential]) {
    for (index, file) in files.iter().enumerate() {
        let source = SourceId(index as u32);
        for item in file.raw.leaks.iter().flatten() {
            let named = &item.value.credential;
            let at = cx.location(source, named);
            match find_credential(credentials, &named.value) {
                Some(id) => {
                    let credential = &mut credentials[id.index()];
                    credential.leaked = true;
                    credential.leaked_at.get_or_insert(at);
                }
                None if written(files, &named.value) => {}
                None => unknown_credential(cx, at, &named.value, credentials),
            }
        }
    }
}

/// Whether some file declares a credential of this name.
fn written(files: &[ParsedFile], name: &str) -> bool {
    files.iter().any(|file| {
        (file.raw.credentials.iter().flatten()).any(|written| written.value.name.value == name)
    })
}

#[cfg(test)]
mod tests {
    use crate::date::Date;
    use crate::policy::model_from_text;
    use crate::report::Status;

    const ESTATE: &str = "
assets:
  - {name: ci}
  - {name: prod}
credentials:
  - {name: deploy-key, held_by: ci}
  - {name: old-key, held_by: ci, status: revoked}
flows:
  - {from: internet, to: prod, auth: [deploy-key, old-key]}
invariants:
  - name: internet-cannot-reach-prod
    forbid: {from: internet, to: prod}
";

    /// The invariant's verdict with `leaks` added to the estate.
    fn verdict(leaks: &str) -> Status {
        let model = model_from_text("t.yaml", &format!("{ESTATE}{leaks}")).unwrap();
        let today = Date::from_ymd(2026, 1, 1).unwrap();
        crate::check::check(&model, today).results[0].status
    }

    #[test]
    fn a_leak_makes_the_credential_held_from_the_start() {
        assert_eq!(verdict(""), Status::Pass);
        assert_eq!(
            verdict("leaks:\n  - credential: deploy-key\n"),
            Status::Fail
        );
        let model = model_from_text(
            "t.yaml",
            &format!("{ESTATE}leaks: [{{credential: deploy-key}}]"),
        );
        let leaked: Vec<_> = (model.unwrap().credentials.iter())
            .map(|c| (c.name.clone(), c.leaked))
            .collect();
        assert_eq!(
            leaked,
            [
                ("deploy-key".to_owned(), true),
                ("old-key".to_owned(), false)
            ]
        );
    }

    #[test]
    fn a_leak_of_a_revoked_credential_opens_nothing() {
        assert_eq!(verdict("leaks:\n  - credential: old-key\n"), Status::Pass);
    }

    #[test]
    fn a_leak_of_an_unknown_credential_is_an_error_with_a_suggestion() {
        let text = format!("{ESTATE}leaks:\n  - credential: deploy-kye\n");
        let problems = model_from_text("t.yaml", &text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problem = &problems[0];
        assert_eq!(
            problem.problem.to_string(),
            "unknown credential `deploy-kye`"
        );
        assert_eq!((problem.line, problem.column), (14, 17));
        assert_eq!(problem.help.as_deref(), Some("did you mean `deploy-key`?"));
    }

    #[test]
    fn a_leak_of_a_credential_that_failed_to_resolve_adds_no_error() {
        let broken = ESTATE.replace("held_by: ci}", "held_by: cj}");
        let messages = |text: &str| -> Vec<String> {
            let problems = model_from_text("t.yaml", text).unwrap_err();
            problems.iter().map(|p| p.problem.to_string()).collect()
        };
        let alone = messages(&broken);
        assert!(
            alone.contains(&"unknown entity `cj`".to_owned()),
            "{alone:?}"
        );
        let leaked = messages(&format!("{broken}leaks:\n  - credential: deploy-key\n"));
        assert_eq!(leaked, alone);
    }
}
