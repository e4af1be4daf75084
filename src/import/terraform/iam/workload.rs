//! Roles that Kubernetes service accounts obtain on EKS. With IRSA, a role's trust
//! policy lets the cluster's OpenID Connect provider vouch for accounts that a `sub`
//! condition names (`system:serviceaccount:NAMESPACE:NAME`); with EKS Pod Identity, an
//! `aws_eks_pod_identity_association` names the account and the role. Either way the
//! role is held wherever a token of the account is, which the Kubernetes importer
//! tells (`crate::import::ServiceAccount`).
//!
//! A trust statement is narrowed to its accounts only when the imported clusters know
//! one of them; otherwise it admits anyone, as every federated identity without a
//! condition read does. The cluster of an association is not matched to the imported
//! ones: an account of that name in any of them holds the role.

use serde_json::Value;

use super::{glob, strings};
use crate::import::ServiceAccount;
use crate::import::terraform::objects::Plan;

/// Which accounts a trust statement or an association admits: every list must admit
/// the account's subject, and a list admits it when one of its patterns does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subjects {
    all_of: Vec<Vec<Pattern>>,
}

/// One subject: exactly (`StringEquals`), or with IAM's wildcards (`StringLike`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    text: String,
    like: bool,
}

impl Subjects {
    fn admits(&self, subject: &str) -> bool {
        self.all_of.iter().all(|any_of| {
            any_of.iter().any(|pattern| match pattern.like {
                true => glob(&pattern.text, subject),
                false => pattern.text == subject,
            })
        })
    }

    /// Its subjects as a message lists them: `` `system:serviceaccount:payments:api` ``.
    pub fn described(&self) -> String {
        let patterns = self.all_of.iter().flatten();
        let texts: Vec<String> = patterns.map(|p| format!("`{}`", p.text)).collect();
        texts.join(", ")
    }

    /// The accounts of `accounts` that it admits.
    pub fn matching<'a>(
        &'a self,
        accounts: &'a [ServiceAccount],
    ) -> impl Iterator<Item = &'a ServiceAccount> + 'a {
        (accounts.iter()).filter(|account| self.admits(&account.subject()))
    }
}

/// The accounts that a trust statement's federated principal admits, when it is an
/// EKS cluster's OpenID Connect provider, alone in the statement, and a `StringEquals`
/// or `StringLike` condition names the subjects it vouches for. `None` otherwise: then
/// anyone the provider vouches for may assume the role.
pub fn narrowed(statement: &Value, federated: &Value) -> Option<Subjects> {
    let [provider] = strings(Some(federated)).try_into().ok()?;
    let (_, issuer) = provider.split_once(":oidc-provider/")?;
    if !issuer.starts_with("oidc.eks.") {
        return None;
    }
    let key = format!("{issuer}:sub");
    let condition = statement.get("Condition")?;
    let mut all_of = Vec::new();
    for (operator, like) in [("StringEquals", false), ("StringLike", true)] {
        let Some(Value::Object(keys)) = condition.get(operator) else {
            continue;
        };
        // Condition keys are compared without case; their values with it.
        let values = (keys.iter())
            .filter(|(name, _)| name.eq_ignore_ascii_case(&key))
            .flat_map(|(_, values)| strings(Some(values)));
        let any_of: Vec<Pattern> = values.map(|text| Pattern { text, like }).collect();
        if !any_of.is_empty() {
            all_of.push(any_of);
        }
    }
    (!all_of.is_empty()).then_some(Subjects { all_of })
}

/// The account an `aws_eks_pod_identity_association` names; a part unknown until apply
/// may be any.
pub fn associated(plan: &Plan, association: usize) -> Subjects {
    let resource = plan.resource(association);
    let part = |key: &str| resource.str(key).unwrap_or("*").to_owned();
    let (namespace, name) = (part("namespace"), part("service_account"));
    let like = namespace == "*" || name == "*";
    Subjects {
        all_of: vec![vec![Pattern {
            text: format!("system:serviceaccount:{namespace}:{name}"),
            like,
        }]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(namespace: &str, name: &str) -> ServiceAccount {
        ServiceAccount {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            holders: vec![format!("{namespace}/app")],
        }
    }

    const PROVIDER: &str =
        "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
    const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/ABC";

    fn statement(condition: Value) -> Value {
        serde_json::json!({
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        })
    }

    fn admitted(statement: &Value) -> Option<Vec<String>> {
        let subjects = narrowed(statement, &serde_json::json!(PROVIDER))?;
        let accounts = [
            account("payments", "api"),
            account("payments", "worker"),
            account("web", "api"),
        ];
        Some(
            (subjects.matching(&accounts))
                .map(ServiceAccount::subject)
                .collect(),
        )
    }

    /// A `sub` condition narrows the statement to the accounts it names, exactly or by
    /// pattern; a key written in another case is the same key.
    #[test]
    fn a_sub_condition_names_the_accounts() {
        let exact = statement(serde_json::json!({"StringEquals": {
            format!("{ISSUER}:sub"): "system:serviceaccount:payments:api",
            format!("{ISSUER}:aud"): "sts.amazonaws.com",
        }}));
        assert_eq!(
            admitted(&exact),
            Some(vec!["system:serviceaccount:payments:api".to_owned()])
        );
        let like = statement(serde_json::json!({"StringLike": {
            format!("{}:SUB", ISSUER.to_uppercase()): ["system:serviceaccount:payments:*"],
        }}));
        assert_eq!(
            admitted(&like),
            Some(vec![
                "system:serviceaccount:payments:api".to_owned(),
                "system:serviceaccount:payments:worker".to_owned(),
            ])
        );
        // Both operators hold at once.
        let both = statement(serde_json::json!({
            "StringLike": {format!("{ISSUER}:sub"): "system:serviceaccount:*:api"},
            "StringEquals": {format!("{ISSUER}:sub"): [
                "system:serviceaccount:web:api", "system:serviceaccount:payments:worker"
            ]},
        }));
        assert_eq!(
            admitted(&both),
            Some(vec!["system:serviceaccount:web:api".to_owned()])
        );
    }

    /// Without a `sub` condition the provider vouches for any account of its cluster,
    /// and another provider (GitHub's, a SAML one) for anyone it likes: not narrowed.
    /// Neither is a statement that names two providers, or a negated condition.
    #[test]
    fn anything_else_is_not_narrowed() {
        let aud = statement(serde_json::json!({"StringEquals": {
            format!("{ISSUER}:aud"): "sts.amazonaws.com",
        }}));
        assert_eq!(admitted(&aud), None);
        let negated = statement(serde_json::json!({"StringNotEquals": {
            format!("{ISSUER}:sub"): "system:serviceaccount:payments:api",
        }}));
        assert_eq!(admitted(&negated), None);
        let other = statement(serde_json::json!({"StringEquals": {
            format!("{ISSUER}:sub"): "system:serviceaccount:payments:api",
        }}));
        let github = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com";
        assert_eq!(narrowed(&other, &serde_json::json!(github)), None);
        assert_eq!(
            narrowed(&other, &serde_json::json!([PROVIDER, PROVIDER])),
            None
        );
        let saml = "arn:aws:iam::1:saml-provider/okta";
        assert_eq!(narrowed(&other, &serde_json::json!(saml)), None);
    }
}
