//! IAM groups across plans. One Terraform configuration often keeps the users and
//! groups, and others add users to a group or attach policies to it by name. Within a
//! plan, `users.rs` gives each user its groups' policies; what crosses plans is
//! recorded here while each plan is read, and joined once every plan is: a membership
//! or an attachment that names a user or group of another plan counts there too, by
//! name or ARN as IAM names them.

use serde_json::Value;

use super::{Arn, Kind, Principal, may_be_named};

/// What every plan says about groups that another plan may need.
#[derive(Default)]
pub(super) struct Groups {
    /// Every plan's groups, in the order read.
    pub list: Vec<Group>,
    /// Memberships that name a user or group their plan does not hold.
    pub memberships: Vec<Membership>,
    /// Policies attached to groups their plan does not hold.
    pub attached: Vec<Attached>,
}

pub(super) struct Group {
    pub plan: usize,
    pub name: Option<String>,
    pub arn: Option<String>,
    pub full_arn: Arn,
    /// The policies its own plan gives it.
    pub documents: Vec<Option<Value>>,
    /// The users of its own plan that belong to it, as indexes among every principal.
    pub members: Vec<usize>,
}

/// A membership, with what it names in its own plan (indexes among every principal
/// and every group) and what it names that its plan does not hold.
pub(super) struct Membership {
    pub plan: usize,
    pub users: Vec<usize>,
    pub user_strays: Vec<String>,
    pub groups: Vec<usize>,
    pub group_strays: Vec<String>,
}

/// Policies that a plan attaches to groups, by names no group of that plan has.
pub(super) struct Attached {
    pub plan: usize,
    pub names: Vec<String>,
    pub documents: Vec<Option<Value>>,
}

impl Groups {
    /// Gives users the policies of groups that other plans hold, or that other plans
    /// attach policies to or add them to. What one plan joins on its own was given
    /// when it was read.
    pub fn join(&self, principals: &mut [Principal]) {
        let named_by = |names: &[String], name: Option<&str>, arn: Option<&str>| {
            names.iter().any(|text| may_be_named(name, arn, text))
        };
        // Policies that other plans attach to each group.
        let mut extra: Vec<Vec<Option<Value>>> = vec![Vec::new(); self.list.len()];
        for attached in &self.attached {
            for (group, extra) in self.list.iter().zip(&mut extra) {
                if group.plan != attached.plan
                    && named_by(&attached.names, group.name.as_deref(), group.arn.as_deref())
                {
                    extra.extend(attached.documents.iter().cloned());
                }
            }
        }
        // Each user's groups of other plans, and of its own plan through a membership
        // that another plan holds.
        let mut joined: Vec<Vec<usize>> = vec![Vec::new(); principals.len()];
        for membership in &self.memberships {
            let mut users = membership.users.clone();
            users.extend((principals.iter().enumerate()).filter_map(|(index, user)| {
                let named = user.kind == Kind::User
                    && user.plan != membership.plan
                    && named_by(
                        &membership.user_strays,
                        user.name.as_deref(),
                        user.arn.as_deref(),
                    );
                named.then_some(index)
            }));
            let mut groups = membership.groups.clone();
            groups.extend((self.list.iter().enumerate()).filter_map(|(index, group)| {
                let named = group.plan != membership.plan
                    && named_by(
                        &membership.group_strays,
                        group.name.as_deref(),
                        group.arn.as_deref(),
                    );
                named.then_some(index)
            }));
            for &user in &users {
                for &group in &groups {
                    // A pair of the membership's own plan was joined when it was read.
                    let local = principals[user].plan == membership.plan
                        && self.list[group].plan == membership.plan;
                    if !local && let Some(joined) = joined.get_mut(user) {
                        joined.push(group);
                    }
                }
            }
        }
        for ((group, extra), index) in self.list.iter().zip(&extra).zip(0..) {
            for &member in &group.members {
                if let Some(user) = principals.get_mut(member) {
                    user.policies.extend(extra.iter().cloned());
                }
                if let Some(joined) = joined.get_mut(member) {
                    // Its policies are the user's already; the others' are in `extra`.
                    joined.retain(|&other| other != index);
                }
            }
        }
        for (user, mut groups) in principals.iter_mut().zip(joined) {
            groups.sort_unstable();
            groups.dedup();
            for group in groups {
                let (group, extra) = (&self.list[group], &extra[group]);
                user.policies.extend(group.documents.iter().cloned());
                user.policies.extend(extra.iter().cloned());
                user.groups.push(group.full_arn.clone());
            }
        }
    }
}
