//! Where a plan keeps a user's access keys (`aws_iam_access_key`): in an instance or a
//! Lambda function (its user data, its environment), which then holds the user; in a
//! launch template or configuration, or an ECS task definition, whose Auto Scaling
//! and node groups, or services, then hold it; or in a Secrets Manager secret or an
//! SSM parameter, which a principal allowed to read it obtains the user through. A
//! resource keeps a key when its configuration refers to the key, or when its
//! attributes hold the key's id (a state writes the secret's text out in full).

use super::holders::{Found, task_definitions};
use super::{Arn, named, users::USER_UNKNOWN};
use crate::import::terraform::launch::Launch;
use crate::import::terraform::network;
use crate::import::terraform::objects::Plan;

/// A secret or a parameter that holds a user's access keys.
#[derive(Clone, Debug)]
pub struct Store {
    /// Its ARN as far as the plan knows it.
    pub arn: Arn,
    /// The actions that read it.
    pub actions: &'static [&'static str],
}

/// For one user: the assets that hold its keys (resource indexes) and the stores
/// that do.
#[derive(Clone, Debug, Default)]
pub(super) struct Kept {
    pub holders: Vec<usize>,
    pub stores: Vec<Store>,
}

/// Where the plan keeps the keys of each of `users` (resource indexes), in the
/// users' order. `warn` hears of each key whose user is unknown until apply.
pub(super) fn kept(plan: &Plan, users: &[usize], warn: &mut dyn FnMut(usize, &str)) -> Vec<Kept> {
    let mut kept = vec![Kept::default(); users.len()];
    // Each key: its resource, its id when known, and the users it may be of.
    let keys: Vec<(usize, Option<&str>, Vec<usize>)> = (plan.of_kind(&["aws_iam_access_key"]))
        .map(|key| {
            let of = named(plan, key, "user", users, &mut |key| warn(key, USER_UNKNOWN)).found;
            (key, plan.resource(key).id(), of)
        })
        .filter(|(_, _, of)| !of.is_empty())
        .collect();
    if keys.is_empty() {
        return kept;
    }
    let places = [
        "aws_instance",
        "aws_lambda_function",
        "aws_launch_template",
        "aws_launch_configuration",
        "aws_ecs_task_definition",
        "aws_secretsmanager_secret_version",
        "aws_ssm_parameter",
    ];
    let launchers = launchers(plan);
    for place in plan.of_kind(&places) {
        let resource = plan.resource(place);
        if resource.kind == "aws_lambda_function" && !network::in_vpc(&resource.values) {
            // Not an asset: nothing reaches it.
            continue;
        }
        let references = plan.references_anywhere(place);
        let holds = |(key, id, _): &&(usize, Option<&str>, Vec<usize>)| {
            references.binary_search(key).is_ok() || id.is_some_and(|id| resource.mentions(id))
        };
        let store = match resource.kind.as_str() {
            "aws_secretsmanager_secret_version" => Some(secret(plan, place)),
            "aws_ssm_parameter" => Some(parameter(plan, place)),
            _ => None,
        };
        // The assets that run with what the place keeps: itself, or those that
        // launch from it.
        let assets: Vec<usize> = match resource.kind.as_str() {
            "aws_launch_template" | "aws_launch_configuration" | "aws_ecs_task_definition" => {
                (launchers.iter())
                    .filter(|(_, from)| from.contains(&place))
                    .map(|(asset, _)| *asset)
                    .collect()
            }
            _ => vec![place],
        };
        for (_, _, of) in keys.iter().filter(holds) {
            for &user in of {
                match &store {
                    Some(store) => kept[user].stores.push(store.clone()),
                    None => kept[user].holders.extend(&assets),
                }
            }
        }
    }
    for user in &mut kept {
        user.holders.sort_unstable();
        user.holders.dedup();
    }
    kept
}

/// The assets that launch from templates, configurations or task definitions, with
/// what they launch from: Auto Scaling and EKS node groups, and ECS services whose
/// tasks are assets. One whose template or task definition the plan cannot name may
/// launch from any.
fn launchers(plan: &Plan) -> Vec<(usize, Vec<usize>)> {
    let templates: Vec<usize> = plan
        .of_kind(&["aws_launch_template", "aws_launch_configuration"])
        .collect();
    let definitions: Vec<usize> = plan.of_kind(&["aws_ecs_task_definition"]).collect();
    let mut launchers = Vec::new();
    for group in plan.of_kind(&["aws_autoscaling_group", "aws_eks_node_group"]) {
        let from = match Launch::launched(plan, group) {
            Some(Launch::Template(template) | Launch::Configuration(template)) => vec![template],
            Some(Launch::Unknown) => templates.clone(),
            None => continue,
        };
        launchers.push((group, from));
    }
    for service in plan.of_kind(&["aws_ecs_service"]) {
        if !network::tasks_in_vpc(&plan.resource(service).values) {
            continue;
        }
        let from = match task_definitions(plan, service, &definitions) {
            Found::Some(list) => list,
            Found::Unknown => definitions.clone(),
            Found::Elsewhere(_) => continue,
        };
        launchers.push((service, from));
    }
    launchers
}

/// The secret of an `aws_secretsmanager_secret_version`: its `secret_id` is the
/// secret's ARN; before apply, the secret's name with a suffix AWS adds.
fn secret(plan: &Plan, version: usize) -> Store {
    let actions = &["secretsmanager:GetSecretValue"][..];
    let id = plan.resource(version).str("secret_id").unwrap_or_default();
    if id.starts_with("arn:") {
        return Store {
            arn: Arn::known(id),
            actions,
        };
    }
    // A name serves as the id too.
    let secrets = plan.link(version, &[], "secret_id");
    let name = match secrets.known() {
        [secret] => plan.resource(*secret).str("name"),
        _ => Some(id),
    }
    .filter(|name| !name.is_empty());
    let arn = match name {
        Some(name) => Arn::from_parts(&[
            Some("arn:"),
            None,
            Some(":secretsmanager:"),
            None,
            Some(":"),
            None,
            Some(":secret:"),
            Some(name),
            None,
        ]),
        None => Arn::from_parts(&[None]),
    };
    Store { arn, actions }
}

/// An `aws_ssm_parameter`: its ARN, or one built from its name (`/prod/db` is
/// `parameter/prod/db`, `db` is `parameter/db`).
fn parameter(plan: &Plan, parameter: usize) -> Store {
    let actions = &[
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
    ][..];
    let resource = plan.resource(parameter);
    if let Some(arn) = resource.str("arn").filter(|arn| !arn.is_empty()) {
        return Store {
            arn: Arn::known(arn),
            actions,
        };
    }
    let name = resource.str("name").filter(|name| !name.is_empty());
    let slash = match name {
        Some(name) if name.starts_with('/') => "",
        _ => "/",
    };
    let arn = Arn::from_parts(&[
        Some("arn:"),
        None,
        Some(":ssm:"),
        None,
        Some(":"),
        None,
        Some(":parameter"),
        Some(slash),
        name,
    ]);
    Store { arn, actions }
}
