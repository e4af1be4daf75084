//! What runs with each role: instances through their instance profiles, and Lambda
//! functions through their execution role (those in a VPC are assets that hold it;
//! whoever may replace the code of one outside a VPC obtains it). An
//! instance profile and a role are named by name, as IAM names them (a profile often
//! has its role's name, and so its id); one unknown until apply may be any of the
//! plan's. A name that none of its plan's profiles or roles has may be another plan's:
//! one stack often launches instances with a profile another made. Those links are
//! gathered per plan ([`Strays`]) and followed once every plan is read ([`join`]);
//! one that no plan answers carries nothing, with a warning.

use super::{Arn, Gathered, Kind, Named, Principal, function_arn, may_be_named, named, named_at};
use crate::import::terraform::launch::{Launch, ProfileAt};
use crate::import::terraform::objects::{Link, Plan};

const ROLE_UNKNOWN: &str = "its role is unknown until apply; assumed to be every role of the plan";
const EXECUTION_ROLE: &str = "execution role";
const PROFILE_UNKNOWN: &str =
    "its instance profile is unknown until apply; assumed to be every instance profile of the plan";

/// An instance profile of one plan.
struct Profile {
    plan: usize,
    /// Its resource index in its plan.
    resource: usize,
    name: Option<String>,
    arn: Option<String>,
    /// The roles of its plan it carries, as indexes into every plan's principals.
    roles: Vec<usize>,
    /// The role names it gives that none of its plan's roles has.
    elsewhere: Vec<String>,
    /// The instances of its plan that name it.
    instances: Vec<usize>,
}

/// The links of every plan's instances, functions and profiles to IAM resources, kept
/// to be followed across plans.
#[derive(Default)]
pub struct Strays {
    profiles: Vec<Profile>,
    /// (plan, instance or Auto Scaling group, the profile names it gives that none of
    /// its plan's has).
    instances: Vec<(usize, usize, Vec<String>)>,
    /// (plan, function, ECS service or EKS node group, what it calls its role, the role
    /// names it gives that none of its plan's roles has).
    functions: Vec<(usize, usize, &'static str, Vec<String>)>,
    /// (plan, function outside a VPC, its ARN, the role names it gives that none of
    /// its plan's roles has).
    outside: Vec<(usize, usize, Arn, Vec<String>)>,
}

/// For each role of one plan, what holds it there (resource indexes: instances, then
/// functions), and the functions outside a VPC that run with it. `first` is the index
/// of the plan's first role among every plan's principals; the links to profiles and
/// roles the plan does not hold go to `links`.
pub(super) fn holders(
    plan_index: usize,
    plan: &Plan,
    gathered: &Gathered,
    first: usize,
    warn: &mut dyn FnMut(usize, &str),
    links: &mut Strays,
) -> (Vec<Vec<usize>>, Vec<Vec<Arn>>) {
    let mut holders = vec![Vec::new(); gathered.roles.len()];
    let mut carried: Vec<Vec<usize>> = Vec::with_capacity(gathered.profiles.len());
    for &profile in &gathered.profiles {
        let Named {
            found: roles,
            strays,
        } = named(plan, profile, "role", &gathered.roles, &mut |profile| {
            warn(profile, ROLE_UNKNOWN)
        });
        let resource = plan.resource(profile);
        links.profiles.push(Profile {
            plan: plan_index,
            resource: profile,
            name: resource.str("name").map(str::to_owned),
            arn: resource.str("arn").map(str::to_owned),
            roles: roles.iter().map(|role| first + role).collect(),
            elsewhere: strays,
            instances: Vec::new(),
        });
        carried.push(roles);
    }
    let plan_profiles = links.profiles.len() - gathered.profiles.len();
    // Instances name their profile; an Auto Scaling group's launch template or
    // configuration names the profile of the instances it launches.
    let own = (gathered.instances.iter()).map(|&instance| {
        let place: ProfileAt = (instance, &[], "iam_instance_profile");
        (instance, Some(vec![place]))
    });
    let launched =
        (gathered.autoscaling.iter()).map(|&group| (group, Launch::of(plan, group).profile_at()));
    for (instance, places) in own.chain(launched) {
        let mut profiles = Vec::new();
        let mut elsewhere = Vec::new();
        match places {
            // A launch the plan cannot name may carry any profile (warned of with the
            // rest of what it may give, by the network reading).
            None => profiles.extend(0..gathered.profiles.len()),
            Some(places) => {
                for (resource, path, key) in places {
                    let candidates = &gathered.profiles;
                    let named = named_at(plan, resource, path, key, candidates, &mut |at| {
                        warn(at, PROFILE_UNKNOWN)
                    });
                    profiles.extend(named.found);
                    elsewhere.extend(named.strays);
                }
            }
        }
        profiles.sort_unstable();
        profiles.dedup();
        for profile in profiles {
            links.profiles[plan_profiles + profile]
                .instances
                .push(instance);
            for &role in carried.get(profile).into_iter().flatten() {
                // Instances come in order: one that two profiles give a role is
                // pushed twice in a row.
                if let Some(role) = holders.get_mut(role)
                    && role.last() != Some(&instance)
                {
                    role.push(instance);
                }
            }
        }
        if !elsewhere.is_empty() {
            links.instances.push((plan_index, instance, elsewhere));
        }
    }
    // What else runs with a role it names, by name or ARN: a Lambda function in a VPC
    // (its execution role), an EKS node group's nodes (its node role), an ECS
    // service's tasks (their task definition's task role). Each is an asset that
    // holds the role: (holder, the resource that names the role, its key, what the
    // role is to the holder).
    let mut naming: Vec<(usize, usize, &str, &'static str)> = Vec::new();
    let functions = gathered.functions.iter();
    naming.extend(functions.map(|&function| (function, function, "role", EXECUTION_ROLE)));
    let node_groups = gathered.node_groups.iter();
    naming.extend(node_groups.map(|&group| (group, group, "node_role_arn", "node role")));
    for &service in &gathered.services {
        let definitions = match task_definitions(plan, service, &gathered.task_definitions) {
            Found::Some(list) => list,
            Found::Unknown => {
                warn(
                    service,
                    "its task definition is unknown until apply; assumed to be any task definition of the plan",
                );
                gathered.task_definitions.clone()
            }
            Found::Elsewhere(name) => {
                warn(
                    service,
                    &format!(
                        "its task definition `{name}` is not in its plan; assumed to run with no role"
                    ),
                );
                Vec::new()
            }
        };
        let definitions = definitions.into_iter();
        naming.extend(definitions.map(|td| (service, td, "task_role_arn", "task role")));
    }
    for (holder, resource, key, what) in naming {
        let Named {
            found: roles,
            strays: elsewhere,
        } = named(plan, resource, key, &gathered.roles, &mut |resource| {
            warn(resource, ROLE_UNKNOWN)
        });
        for role in roles {
            if let Some(role) = holders.get_mut(role)
                && role.last() != Some(&holder)
            {
                role.push(holder);
            }
        }
        if !elsewhere.is_empty() {
            links.functions.push((plan_index, holder, what, elsewhere));
        }
    }
    // A function outside a VPC is no asset, but its code runs with its role.
    let mut run_by = vec![Vec::new(); gathered.roles.len()];
    for &function in &gathered.outside_functions {
        let Named {
            found: roles,
            strays: elsewhere,
        } = named(plan, function, "role", &gathered.roles, &mut |function| {
            warn(function, ROLE_UNKNOWN)
        });
        let arn = function_arn(plan.resource(function));
        for role in roles {
            if let Some(role) = run_by.get_mut(role) {
                role.push(arn.clone());
            }
        }
        if !elsewhere.is_empty() {
            links.outside.push((plan_index, function, arn, elsewhere));
        }
    }
    (holders, run_by)
}

/// What a service's `task_definition` names, among the plan's task definitions.
pub(super) enum Found {
    Some(Vec<usize>),
    /// Unknown until apply: it may be any.
    Unknown,
    /// Written, but none of the plan's: another plan's, or one made outside Terraform.
    Elsewhere(String),
}

/// The task definitions that ECS service `service` runs: through the configuration's
/// reference, or by what it writes, an ARN (with or without its revision), a family,
/// or `family:revision`.
pub(super) fn task_definitions(plan: &Plan, service: usize, definitions: &[usize]) -> Found {
    let key = "task_definition";
    let written = plan
        .resource(service)
        .str(key)
        .filter(|text| !text.is_empty());
    let Some(text) = written else {
        return match plan.referenced(service, &[], key) {
            Some(Link::Known(list)) if !list.is_empty() => Found::Some(
                list.into_iter()
                    .filter(|i| definitions.contains(i))
                    .collect(),
            ),
            _ if plan.configured(service, &[], key) => Found::Unknown,
            _ => Found::Some(Vec::new()),
        };
    };
    let named = text
        .rsplit_once("task-definition/")
        .map_or(text, |(_, name)| name);
    let found: Vec<usize> = (definitions.iter().copied())
        .filter(|&definition| {
            let r = plan.resource(definition);
            let family = r.str("family").unwrap_or_default();
            let revision = r
                .int("revision")
                .map(|revision| format!("{family}:{revision}"));
            r.str("arn") == Some(text) || named == family || revision.as_deref() == Some(named)
        })
        .collect();
    if found.is_empty() {
        Found::Elsewhere(text.to_owned())
    } else {
        Found::Some(found)
    }
}

/// A link to a profile or role that none of the plans read holds: (plan, resource,
/// what is assumed of it), for a warning.
pub type Unmatched = (usize, usize, String);

/// Adds the holders that name profiles and roles of other plans: an instance whose
/// profile is another plan's, a profile whose role is, a function whose execution
/// role is (or, outside a VPC, runs with it). After each principal's own, in the
/// order of the plans. Returns the links that no plan's profile or role answers.
pub(super) fn join(principals: &mut [Principal], strays: &Strays) -> Vec<Unmatched> {
    let mut unmatched: Vec<Unmatched> = Vec::new();
    let mut warn = |plan: usize, resource: usize, what: &str, names: &[String], assumed| {
        let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
        let names = names.join(", ");
        let what = format!("its {what} {names} is in none of the plans read; assumed to {assumed}");
        unmatched.push((plan, resource, what));
    };
    let named_elsewhere = |name: Option<&str>, arn: Option<&str>, names: &[String]| {
        (names.iter()).any(|text| may_be_named(name, arn, text))
    };
    let roles_of_others = |plan: usize, names: &[String]| -> Vec<usize> {
        if names.is_empty() {
            return Vec::new();
        }
        (principals.iter().enumerate())
            .filter(|(_, role)| role.kind == Kind::Role && role.plan != plan)
            .filter(|(_, role)| named_elsewhere(role.name.as_deref(), role.arn.as_deref(), names))
            .map(|(index, _)| index)
            .collect()
    };
    // The roles of other plans that each profile carries.
    let from_others: Vec<Vec<usize>> = (strays.profiles.iter())
        .map(|profile| roles_of_others(profile.plan, &profile.elsewhere))
        .collect();
    let mut added: Vec<(usize, (usize, usize))> = Vec::new();
    for (profile, roles) in strays.profiles.iter().zip(&from_others) {
        if roles.is_empty() && !profile.elsewhere.is_empty() {
            let (plan, resource) = (profile.plan, profile.resource);
            warn(plan, resource, "role", &profile.elsewhere, "allow nothing");
        }
        for &role in roles {
            let instances = profile.instances.iter();
            added.extend(instances.map(|&instance| (role, (profile.plan, instance))));
        }
    }
    for (plan, instance, names) in &strays.instances {
        let profiles = (strays.profiles.iter().zip(&from_others)).filter(|(profile, _)| {
            profile.plan != *plan
                && named_elsewhere(profile.name.as_deref(), profile.arn.as_deref(), names)
        });
        let mut found = false;
        for (profile, others) in profiles {
            found = true;
            for &role in profile.roles.iter().chain(others) {
                added.push((role, (*plan, *instance)));
            }
        }
        if !found {
            warn(*plan, *instance, "instance profile", names, "carry no role");
        }
    }
    for (plan, function, what, names) in &strays.functions {
        let roles = roles_of_others(*plan, names);
        if roles.is_empty() {
            warn(*plan, *function, what, names, "allow nothing");
        }
        added.extend(roles.into_iter().map(|role| (role, (*plan, *function))));
    }
    let mut run_by: Vec<(usize, Arn)> = Vec::new();
    for (plan, function, arn, names) in &strays.outside {
        let roles = roles_of_others(*plan, names);
        if roles.is_empty() {
            warn(*plan, *function, EXECUTION_ROLE, names, "allow nothing");
        }
        run_by.extend(roles.into_iter().map(|role| (role, arn.clone())));
    }
    for (role, holder) in added {
        if let Some(role) = principals.get_mut(role)
            && !role.holders.contains(&holder)
        {
            role.holders.push(holder);
        }
    }
    for (role, function) in run_by {
        if let Some(role) = principals.get_mut(role) {
            role.run_by.push(function);
        }
    }
    unmatched.sort();
    unmatched
}
