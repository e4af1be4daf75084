//! IAM users as principals: each user's permission policies, its own and those of the
//! groups it belongs to. A user's credentials (access keys, a console password) live
//! outside the plan, so nothing of the plan holds them: a user is reached by a
//! principal that may make it new ones ([`super::KEYING`]), or is where an attacker
//! who stole them starts.
//!
//! Users, groups and memberships name one another by name (compared without case, as
//! IAM compares them) or ARN; one unknown until apply may be any of the plan's, as a
//! role is.

use serde_json::Value;

use super::groups::{Attached, Group, Groups, Membership};
use super::{Elsewhere, Kind, Named, Principal, attached, documents, iam_arn, keys, named};
use crate::import::terraform::objects::Plan;

/// The user and group resources of one plan, by kind, each list in address order.
#[derive(Default)]
struct Gathered {
    users: Vec<usize>,
    user_policies: Vec<usize>,
    user_policy_attachments: Vec<usize>,
    groups: Vec<usize>,
    group_policies: Vec<usize>,
    group_policy_attachments: Vec<usize>,
    /// `aws_iam_group_membership`: one group, its users.
    group_memberships: Vec<usize>,
    /// `aws_iam_user_group_membership`: one user, its groups.
    user_group_memberships: Vec<usize>,
    /// `aws_iam_policy_attachment`: one policy, its users, groups and roles.
    policy_attachments: Vec<usize>,
}

impl Gathered {
    fn read(plan: &Plan) -> Gathered {
        let mut gathered = Gathered::default();
        for (index, resource) in plan.resources.iter().enumerate() {
            let list = match resource.kind.as_str() {
                "aws_iam_user" => &mut gathered.users,
                "aws_iam_user_policy" => &mut gathered.user_policies,
                "aws_iam_user_policy_attachment" => &mut gathered.user_policy_attachments,
                "aws_iam_group" => &mut gathered.groups,
                "aws_iam_group_policy" => &mut gathered.group_policies,
                "aws_iam_group_policy_attachment" => &mut gathered.group_policy_attachments,
                "aws_iam_group_membership" => &mut gathered.group_memberships,
                "aws_iam_user_group_membership" => &mut gathered.user_group_memberships,
                "aws_iam_policy_attachment" => &mut gathered.policy_attachments,
                _ => continue,
            };
            list.push(index);
        }
        gathered
    }
}

pub(super) const USER_UNKNOWN: &str =
    "the user it names is unknown until apply; assumed to be every user of the plan";
const GROUP_UNKNOWN: &str =
    "the group it names is unknown until apply; assumed to be every group of the plan";

/// The users of one plan, with their policies; `first` is the index of its first user
/// among every plan's principals. `warn` hears of each resource whose user or group is
/// unknown until apply; policies attached to users the plan does not hold go to
/// `elsewhere`, and its groups, with the memberships and attachments that name users or
/// groups it does not hold, to `groups`.
pub(super) fn users(
    plan_index: usize,
    plan: &Plan,
    warn: &mut dyn FnMut(usize, &str),
    (first, elsewhere, across): (usize, &mut Vec<Elsewhere>, &mut Groups),
) -> Vec<Principal> {
    let gathered = Gathered::read(plan);
    let first_group = across.list.len();
    let mut attach_elsewhere = |names: Vec<String>, documents: &[Option<Value>]| {
        if !names.is_empty() {
            elsewhere.push(Elsewhere {
                plan: plan_index,
                kind: Kind::User,
                names,
                documents: documents.to_vec(),
                service_accounts: Vec::new(),
            });
        }
    };
    let users_named = |resource: usize, key: &str, warn: &mut dyn FnMut(usize, &str)| {
        named(plan, resource, key, &gathered.users, &mut |resource| {
            warn(resource, USER_UNKNOWN)
        })
    };
    let groups_named = |resource: usize, key: &str, warn: &mut dyn FnMut(usize, &str)| {
        named(plan, resource, key, &gathered.groups, &mut |resource| {
            warn(resource, GROUP_UNKNOWN)
        })
    };
    // Each group's policies, then each user's own.
    let mut group_policies: Vec<Vec<Option<Value>>> = vec![Vec::new(); gathered.groups.len()];
    let mut policies: Vec<Vec<Option<Value>>> = vec![Vec::new(); gathered.users.len()];
    for &resource in gathered
        .group_policies
        .iter()
        .chain(&gathered.group_policy_attachments)
    {
        let documents = documents(plan, resource);
        let Named { found, strays } = groups_named(resource, "group", warn);
        for group in found {
            group_policies[group].extend(documents.iter().cloned());
        }
        attach_to_groups_elsewhere((plan_index, across), strays, &documents);
    }
    for &resource in gathered
        .user_policies
        .iter()
        .chain(&gathered.user_policy_attachments)
    {
        let documents = documents(plan, resource);
        let Named { found, strays } = users_named(resource, "user", warn);
        for user in found {
            policies[user].extend(documents.iter().cloned());
        }
        attach_elsewhere(strays, &documents);
    }
    for &resource in &gathered.policy_attachments {
        let documents = attached(plan, resource);
        let Named { found, strays } = users_named(resource, "users", warn);
        for user in found {
            policies[user].extend(documents.iter().cloned());
        }
        let Named {
            found: in_groups,
            strays: group_strays,
        } = groups_named(resource, "groups", warn);
        for group in in_groups {
            group_policies[group].extend(documents.iter().cloned());
        }
        attach_elsewhere(strays, &documents);
        attach_to_groups_elsewhere((plan_index, across), group_strays, &documents);
    }
    // Which users each group holds.
    let mut memberships: Vec<Vec<usize>> = vec![Vec::new(); gathered.users.len()];
    let membership_keys = (gathered
        .group_memberships
        .iter()
        .map(|&r| (r, "group", "users")))
    .chain((gathered.user_group_memberships.iter()).map(|&r| (r, "groups", "user")));
    for (resource, group_key, user_key) in membership_keys {
        let in_groups = groups_named(resource, group_key, warn);
        let users = users_named(resource, user_key, warn);
        for &user in &users.found {
            memberships[user].extend(&in_groups.found);
        }
        if !in_groups.strays.is_empty() || !users.strays.is_empty() {
            across.memberships.push(Membership {
                plan: plan_index,
                users: users.found.iter().map(|user| first + user).collect(),
                user_strays: users.strays,
                groups: (in_groups.found.iter())
                    .map(|group| first_group + group)
                    .collect(),
                group_strays: in_groups.strays,
            });
        }
    }
    let group_arns: Vec<_> = (gathered.groups.iter())
        .map(|&group| iam_arn(plan.resource(group), "group"))
        .collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); gathered.groups.len()];
    for (user, of) in memberships.iter().enumerate() {
        for &group in of {
            if members[group].last() != Some(&(first + user)) {
                members[group].push(first + user);
            }
        }
    }
    let local_groups = (gathered.groups.iter())
        .zip(&group_policies)
        .zip(&group_arns)
        .zip(members);
    for (((&resource, documents), arn), members) in local_groups {
        let group = plan.resource(resource);
        across.list.push(Group {
            plan: plan_index,
            name: group.str("name").map(str::to_owned),
            arn: group.str("arn").map(str::to_owned),
            full_arn: arn.clone(),
            documents: documents.clone(),
            members,
        });
    }
    let kept = keys::kept(plan, &gathered.users, warn);
    let mut users = Vec::with_capacity(gathered.users.len());
    for (((&resource, mut policies), mut groups), kept) in (gathered.users.iter())
        .zip(policies)
        .zip(memberships)
        .zip(kept)
    {
        groups.sort_unstable();
        groups.dedup();
        for &group in &groups {
            policies.extend(group_policies[group].iter().cloned());
        }
        let user = plan.resource(resource);
        users.push(Principal {
            plan: plan_index,
            resource,
            kind: Kind::User,
            name: user.str("name").map(str::to_owned),
            arn: user.str("arn").map(str::to_owned),
            full_arn: iam_arn(user, Kind::User.in_arn()),
            policies,
            trust: None,
            groups: groups
                .iter()
                .map(|&group| group_arns[group].clone())
                .collect(),
            holders: (kept.holders.into_iter())
                .map(|holder| (plan_index, holder))
                .collect(),
            stores: kept.stores,
            run_by: Vec::new(),
            public: false,
            service_accounts: Vec::new(),
        });
    }
    users
}

/// Records policies that plan `plan` attaches to groups it does not hold, for the other
/// plans' groups of those names.
fn attach_to_groups_elsewhere(
    (plan, across): (usize, &mut Groups),
    names: Vec<String>,
    documents: &[Option<Value>],
) {
    if !names.is_empty() {
        across.attached.push(Attached {
            plan,
            names,
            documents: documents.to_vec(),
        });
    }
}
