//! The identity plane: service-account tokens and Secrets as credentials, and RBAC as
//! flows from the cluster's API server. A workload holds its ServiceAccount's token
//! (unless automounting is off: the pod's setting wins over its ServiceAccount's, and a
//! projected volume mounts it anyway) and the Secrets it mounts or reads into its
//! environment; a Secret that keeps an account's long-lived token gives that token too.
//! Each binding's role has `Powers` (`rbac.rs` reads them from its rules) in its
//! namespace, or in every namespace the inputs name for a ClusterRoleBinding, and opens
//! a flow from the API server to what they reach there: control of pods, to the
//! namespace's workloads; choosing a pod's labels, to `pods:NAMESPACE`
//! (`classes::Started`); reading Secrets, to its secret store, which holds its Secrets
//! and tokens, or, for rules limited to named Secrets, to a store of each; obtaining
//! tokens, to its token store, which holds its tokens and no Secret; starting containers
//! where Pod Security admission does not enforce `baseline` (and anywhere for a
//! ClusterRoleBinding), to the nodes (`escape.rs`).
//! Subjects are service accounts, named directly, as users
//! `system:serviceaccount:NS:NAME`, or through the groups `system:serviceaccounts`,
//! `system:serviceaccounts:NS` and `system:authenticated` (the accounts the inputs name,
//! and every namespace's `default`); or anyone, with no credential, as the group
//! `system:unauthenticated` or the user `system:anonymous`. Each flow takes the bound
//! accounts' tokens as `auth` (none when it binds anyone) and points at the binding's
//! `roleRef`. Every account goes back to the caller with what holds a token of it,
//! since on EKS such a token obtains an IAM role (`crate::import::ServiceAccount`).
use std::collections::{BTreeMap, BTreeSet};

use super::classes::Chooser;
use super::escape::{self, NODES};
use super::objects::{Binding, Objects, PolicyRule, Pos, ServiceAccount, Subject};
use super::rbac::{Powers, named_secrets, named_tokens, rules_of};
use super::{Emitter, FlowSpec, at, located_list, workload_name};
use crate::import;
use crate::raw::RawCredential;

/// The asset that RBAC flows start from.
pub const API_SERVER: &str = "kubernetes-api";
/// A namespace's store of credentials, an asset that a flow reaches to take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Store {
    /// Its Secrets and its accounts' tokens.
    Secrets,
    /// Its accounts' tokens only.
    Tokens,
}

impl Store {
    fn name(self, namespace: &str) -> String {
        match self {
            Store::Secrets => format!("secrets:{namespace}"),
            Store::Tokens => format!("tokens:{namespace}"),
        }
    }

    fn description(self, namespace: &str) -> String {
        match self {
            Store::Secrets => format!("the Secrets of namespace `{namespace}`"),
            Store::Tokens => format!("the service-account tokens of namespace `{namespace}`"),
        }
    }

    /// The store of one object, which a binding limited to it by `resourceNames` reaches:
    /// a Secret, or an account's token.
    fn one(self, namespace: &str, object: &str) -> String {
        format!("{}/{object}", self.name(namespace))
    }

    fn description_of_one(self, namespace: &str, object: &str) -> String {
        match self {
            Store::Secrets => format!("the Secret `{object}` of namespace `{namespace}`"),
            Store::Tokens => {
                format!("the token of service account `{object}` of namespace `{namespace}`")
            }
        }
    }
}
/// A credential being gathered: where it is declared and who holds it.
#[derive(Default)]
struct Gathering {
    at: Option<Pos>,
    holders: BTreeSet<String>,
}

impl Gathering {
    fn place(&mut self, pos: Pos) {
        self.at = Some(self.at.map_or(pos, |at| at.min(pos)));
    }
}

/// Every credential of the inputs as it is gathered: each account's token and each
/// Secret, by namespace and name.
#[derive(Default)]
struct Credentials<'o> {
    tokens: BTreeMap<(String, String), Gathering>,
    secrets: BTreeMap<(String, String), Gathering>,
    /// Long-lived tokens kept as Secrets, by namespace and name: the account each is for.
    token_secrets: BTreeMap<(&'o str, &'o str), &'o str>,
}

impl<'o> Credentials<'o> {
    fn token(&mut self, namespace: &str, account: &str) -> &mut Gathering {
        (self.tokens)
            .entry((namespace.to_owned(), account.to_owned()))
            .or_default()
    }

    fn secret(&mut self, namespace: &str, name: &str) -> &mut Gathering {
        (self.secrets)
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default()
    }

    /// The account whose long-lived token the Secret `name` keeps, if it keeps one.
    fn account_of(&self, namespace: &str, name: &str) -> Option<&'o str> {
        self.token_secrets.get(&(namespace, name)).copied()
    }
}

/// The stores that bindings reach, each with the first binding that reaches it: a
/// namespace's whole store, and single objects' by kind, namespace and name.
#[derive(Default)]
struct Stores {
    whole: BTreeMap<(Store, String), Pos>,
    single: BTreeMap<(Store, String, String), Pos>,
}

/// What every binding applies over.
struct Cluster {
    /// The API server's asset name.
    api: String,
    /// Every namespace the inputs name.
    namespaces: BTreeSet<String>,
    /// The accounts that group subjects cover, by namespace and name.
    accounts: BTreeSet<(String, String)>,
}

impl Cluster {
    /// The accounts `binding` binds: those it names, and those its groups cover.
    fn subjects(&self, binding: &Binding) -> BTreeSet<(String, String)> {
        let mut accounts = BTreeSet::new();
        for subject in &binding.subjects {
            match subject {
                Subject::Account(namespace, account) => {
                    accounts.insert((namespace.clone(), account.clone()));
                }
                Subject::Namespace(namespace) => accounts.extend(
                    (self.accounts.iter())
                        .filter(|(n, _)| n == namespace)
                        .cloned(),
                ),
                Subject::Every => accounts.extend(self.accounts.iter().cloned()),
                // No account: the flow needs none (see `binding_flows`).
                Subject::Anonymous => {}
            }
        }
        accounts
    }
}

/// The rules `binding` grants, or `None` while its role is neither in the inputs nor
/// built in: Kubernetes accepts a binding to a role that does not exist yet, which
/// grants nothing until the role appears.
fn rules_of_binding(objects: &Objects, binding: &Binding) -> Option<Vec<PolicyRule>> {
    let role = objects.role_of(binding)?;
    Some(rules_of(objects, role).into_iter().cloned().collect())
}

/// The powers `binding` grants, or `None` while its role is not in the inputs.
fn powers_of(objects: &Objects, binding: &Binding) -> Option<Powers> {
    let rules = rules_of_binding(objects, binding)?;
    Some(Powers::of(&rules, binding.namespace.is_none()))
}

/// The pods whose labels someone chooses, each with the first binding that lets them:
/// where a binding lets its subjects start or relabel pods (a RoleBinding's namespace,
/// or for a ClusterRoleBinding every namespace the inputs name), and,
/// where one lets them relabel namespaces, in every namespace with its labels chosen too.
pub(super) fn label_choosers(objects: &Objects) -> BTreeMap<Chooser, Pos> {
    let every = objects.namespace_names();
    let mut choosers: BTreeMap<Chooser, Pos> = BTreeMap::new();
    for binding in &objects.bindings {
        let Some(powers) = powers_of(objects, binding) else {
            continue;
        };
        let scope = match &binding.namespace {
            Some(namespace) => vec![namespace.clone()],
            None => every.iter().cloned().collect(),
        };
        for namespace in scope {
            for (chosen, namespace_labels) in
                [(powers.labels, false), (powers.namespace_labels, true)]
            {
                if !chosen {
                    continue;
                }
                let chooser = Chooser {
                    namespace: namespace.clone(),
                    namespace_labels,
                };
                let at = choosers.entry(chooser).or_insert(binding.at);
                *at = (*at).min(binding.at);
            }
        }
    }
    choosers
}

/// The asset that stands for a pod whose labels someone chooses (`classes::Started`):
/// `pods:NAMESPACE`, or `relabelled:NAMESPACE` where the namespace's labels are chosen
/// too.
pub(super) fn started_pod_name(chooser: &Chooser) -> String {
    let kind = if chooser.namespace_labels {
        "relabelled"
    } else {
        "pods"
    };
    format!("{kind}:{}", chooser.namespace)
}

/// What a binding limited to named objects grants, for its flow's description.
fn named_description(named: &[(Store, String)]) -> String {
    let of = |wanted: Store| {
        let names: Vec<&str> = (named.iter())
            .filter(|(kind, _)| *kind == wanted)
            .map(|(_, name)| name.as_str())
            .collect();
        names.join("`, `")
    };
    let mut parts = Vec::new();
    let secrets = of(Store::Secrets);
    if !secrets.is_empty() {
        parts.push(format!("reading Secrets `{secrets}`"));
    }
    let tokens = of(Store::Tokens);
    if !tokens.is_empty() {
        parts.push(format!("the tokens of `{tokens}`"));
    }
    parts.join(" and ")
}

impl Emitter {
    /// The flows of a binding that lets its subjects relabel namespaces: in each
    /// namespace of `scope`, from the pods they may run there to the same pods with the
    /// namespace relabelled (`relabelled:NAMESPACE`), which then meet other namespace
    /// selectors; opened by `auth` (`None`: open to anyone).
    fn relabel_flows(&mut self, binding: &Binding, scope: &[String], auth: Option<&[String]>) {
        for namespace in scope {
            let pods = Chooser {
                namespace: namespace.clone(),
                namespace_labels: false,
            };
            let relabelled = Chooser {
                namespace_labels: true,
                ..pods.clone()
            };
            if !self.started.contains(&relabelled) {
                continue;
            }
            let mut from = Vec::new();
            if self.per_namespace.contains_key(namespace) {
                from.push(self.scoped(namespace));
            }
            if self.started.contains(&pods) {
                from.push(self.scoped(&started_pod_name(&pods)));
            }
            if from.is_empty() {
                continue;
            }
            let spec = FlowSpec {
                from: from.into(),
                to: vec![self.scoped(&started_pod_name(&relabelled))].into(),
                ports: None,
                auth: auth.map(<[String]>::to_vec),
                kind: Some("kubernetes-rbac".to_owned()),
                description: Some(format!(
                    "ClusterRoleBinding `{}` grants relabelling the namespace of pods its subjects run",
                    binding.name
                )),
            };
            self.push_flow(binding.at, spec);
        }
    }

    fn token_name(&self, namespace: &str, account: &str) -> String {
        format!("token:{}", self.scoped(&format!("{namespace}/{account}")))
    }

    /// Emits the API server, the credentials and the RBAC flows. Nothing when the inputs
    /// bind no role: then no credential opens anything. Gives back every account the
    /// cluster knows, with what holds a token of it, for the roles it may obtain in AWS.
    pub(super) fn identity(&mut self, objects: &Objects) -> Vec<import::ServiceAccount> {
        let mut credentials = self.held_credentials(objects);
        let cluster = self.cluster(objects, &credentials);
        let Some(first) = objects.bindings.iter().map(|b| b.at).min() else {
            return self.service_accounts(objects, &cluster, &credentials);
        };
        let mut stores = Stores::default();
        for binding in &objects.bindings {
            self.binding_flows(objects, binding, &cluster, &mut credentials, &mut stores);
        }
        self.store_assets(stores, &mut credentials);
        let accounts = self.service_accounts(objects, &cluster, &credentials);
        self.push_asset(
            cluster.api.clone(),
            "the cluster's API server".to_owned(),
            first,
        );
        self.api = Some(cluster.api);
        self.push_credentials(credentials, first);
        accounts
    }

    /// Every account the cluster knows, with what holds a token of it: whatever holds
    /// its token here (the stores that bindings reach included), and every workload
    /// that runs as it, its token mounted or not. EKS's webhooks give such a pod a
    /// token for AWS whatever `automountServiceAccountToken` says.
    fn service_accounts(
        &self,
        objects: &Objects,
        cluster: &Cluster,
        credentials: &Credentials,
    ) -> Vec<import::ServiceAccount> {
        let mut holders: BTreeMap<&(String, String), BTreeSet<String>> = (cluster.accounts)
            .iter()
            .map(|account| {
                let held = credentials.tokens.get(account);
                (account, held.map(|g| g.holders.clone()).unwrap_or_default())
            })
            .collect();
        for workload in &objects.workloads {
            let account = (workload.namespace.clone(), workload.service_account.clone());
            if let Some(set) = holders.get_mut(&account) {
                set.insert(self.scoped(&workload_name(workload)));
            }
        }
        holders
            .into_iter()
            .map(|((namespace, name), holders)| import::ServiceAccount {
                namespace: namespace.clone(),
                name: name.clone(),
                holders: holders.into_iter().collect(),
            })
            .collect()
    }

    /// Every account's token and every Secret, each with the workloads that hold it.
    fn held_credentials<'o>(&self, objects: &'o Objects) -> Credentials<'o> {
        let accounts: BTreeMap<(&str, &str), &ServiceAccount> = (objects.service_accounts)
            .iter()
            .map(|a| ((a.namespace.as_str(), a.name.as_str()), a))
            .collect();
        let mut credentials = Credentials {
            token_secrets: (objects.secrets.iter())
                .filter_map(|s| {
                    Some((
                        (s.namespace.as_str(), s.name.as_str()),
                        s.account.as_deref()?,
                    ))
                })
                .collect(),
            ..Credentials::default()
        };
        for account in &objects.service_accounts {
            credentials
                .token(&account.namespace, &account.name)
                .place(account.at);
        }
        for secret in &objects.secrets {
            credentials
                .secret(&secret.namespace, &secret.name)
                .place(secret.at);
        }
        for workload in &objects.workloads {
            let holder = self.scoped(&workload_name(workload));
            let account = accounts.get(&(
                workload.namespace.as_str(),
                workload.service_account.as_str(),
            ));
            let mounted = workload
                .automount
                .or(account.and_then(|a| a.automount))
                .unwrap_or(true);
            if mounted || workload.projects_token {
                let token = credentials.token(&workload.namespace, &workload.service_account);
                token.place(workload.at);
                token.holders.insert(holder.clone());
            }
            for name in &workload.secrets {
                let secret = credentials.secret(&workload.namespace, name);
                secret.place(workload.at);
                secret.holders.insert(holder.clone());
                if let Some(account) = credentials.account_of(&workload.namespace, name) {
                    credentials
                        .token(&workload.namespace, account)
                        .holders
                        .insert(holder.clone());
                }
            }
        }
        credentials
    }

    /// What every binding applies over: the namespaces and the accounts the inputs name.
    fn cluster(&self, objects: &Objects, credentials: &Credentials) -> Cluster {
        // Every namespace the inputs name: a ClusterRoleBinding applies in each, those
        // without workloads included, where it still reaches Secrets and tokens.
        let mut namespaces = objects.namespace_names();
        namespaces.extend(self.per_namespace.keys().cloned());
        namespaces.extend(
            credentials
                .tokens
                .keys()
                .map(|(namespace, _)| namespace.clone()),
        );
        namespaces.extend(
            credentials
                .secrets
                .keys()
                .map(|(namespace, _)| namespace.clone()),
        );
        // The accounts a group subject covers: those the inputs declare or run pods as,
        // and each namespace's `default`, which the ServiceAccount controller keeps in
        // every namespace and a pod runs as when it names none.
        let mut accounts: BTreeSet<(String, String)> = credentials.tokens.keys().cloned().collect();
        accounts.extend(
            (objects.workloads.iter()).map(|w| (w.namespace.clone(), w.service_account.clone())),
        );
        accounts
            .extend((namespaces.iter()).map(|namespace| (namespace.clone(), "default".to_owned())));
        Cluster {
            api: self.scoped(API_SERVER),
            namespaces,
            accounts,
        }
    }

    /// The flows of one binding: from the API server to what its role reaches, opened by
    /// its subjects' tokens, and the relabelling flows when it lets them relabel
    /// namespaces. The stores it reaches are noted in `stores`.
    fn binding_flows(
        &mut self,
        objects: &Objects,
        binding: &Binding,
        cluster: &Cluster,
        credentials: &mut Credentials,
        stores: &mut Stores,
    ) {
        let Some(rules) = rules_of_binding(objects, binding) else {
            return;
        };
        let powers = Powers::of(&rules, binding.namespace.is_none());
        // Where the role reaches every Secret or token, the store holds the named ones.
        let mut named: Vec<(Store, String)> = Vec::new();
        if !powers.secrets {
            named.extend(
                named_secrets(&rules)
                    .into_iter()
                    .map(|n| (Store::Secrets, n)),
            );
            if !powers.tokens {
                named.extend(named_tokens(&rules).into_iter().map(|n| (Store::Tokens, n)));
            }
        }
        if !powers.any() && named.is_empty() {
            return;
        }
        // A binding of anyone, with no credential, opens its flows to whatever reaches
        // the API server: they take no `auth`.
        let anyone = binding.subjects.contains(&Subject::Anonymous);
        let accounts = cluster.subjects(binding);
        if accounts.is_empty() && !anyone {
            return;
        }
        let mut auth = Vec::new();
        for (namespace, account) in &accounts {
            credentials.token(namespace, account).place(binding.at);
            auth.push(self.token_name(namespace, account));
        }
        auth.sort();
        auth.dedup();
        let auth = (!anyone).then_some(auth);
        // A ClusterRoleBinding applies in every namespace.
        let scope: Vec<String> = match &binding.namespace {
            Some(namespace) => vec![namespace.clone()],
            None => cluster.namespaces.iter().cloned().collect(),
        };
        // The secret store holds the tokens too, so it stands for the token store.
        let store = match powers {
            Powers { secrets: true, .. } => Some(Store::Secrets),
            Powers { tokens: true, .. } => Some(Store::Tokens),
            _ => None,
        };
        // A container started where Pod Security admission does not enforce
        // `baseline` may be privileged, and take over its node. A ClusterRoleBinding
        // starts them in namespaces the inputs do not hold too, `kube-system` among
        // them, which admission must leave open for the cluster's own pods.
        let takes_nodes = powers.starts
            && (binding.namespace.as_ref())
                .is_none_or(|namespace| !escape::enforced(objects, namespace));
        let mut targets = Vec::new();
        if takes_nodes {
            self.reach_nodes(binding.at);
            targets.push(self.scoped(NODES));
        }
        for namespace in &scope {
            if powers.control && self.per_namespace.contains_key(namespace) {
                targets.push(self.scoped(namespace));
            }
            let pods = Chooser {
                namespace: namespace.clone(),
                namespace_labels: false,
            };
            if powers.labels && self.started.contains(&pods) {
                targets.push(self.scoped(&started_pod_name(&pods)));
            }
            if let Some(store) = store {
                (stores.whole)
                    .entry((store, namespace.clone()))
                    .or_insert(binding.at);
                targets.push(self.scoped(&store.name(namespace)));
            }
            for (kind, object) in &named {
                (stores.single)
                    .entry((*kind, namespace.clone(), object.clone()))
                    .or_insert(binding.at);
                targets.push(self.scoped(&kind.one(namespace, object)));
            }
        }
        if powers.namespace_labels {
            self.relabel_flows(binding, &scope, auth.as_deref());
        }
        if targets.is_empty() {
            return;
        }
        let description = format!(
            "{} `{}` grants {}{}{}",
            if binding.namespace.is_some() {
                "RoleBinding"
            } else {
                "ClusterRoleBinding"
            },
            binding.name,
            [powers.describe(), named_description(&named)]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" and "),
            if takes_nodes {
                ", and privileged pods that take over the nodes"
            } else {
                ""
            },
            if anyone {
                ", to anyone who reaches the API server, with no credential"
            } else {
                ""
            }
        );
        self.push_flow(
            binding.at,
            FlowSpec {
                from: vec![cluster.api.clone()].into(),
                to: targets.into(),
                ports: None,
                auth,
                kind: Some("kubernetes-rbac".to_owned()),
                description: Some(description),
            },
        );
    }

    /// The stores the bindings reach, as assets that hold what they store: a namespace's
    /// secret store holds its Secrets and its accounts' tokens, its token store the
    /// tokens only; a single Secret's store holds it, and the token it keeps if it keeps
    /// one; a single token's, that token.
    fn store_assets(&mut self, stores: Stores, credentials: &mut Credentials) {
        for ((kind, namespace), pos) in stores.whole {
            let store = self.scoped(&kind.name(&namespace));
            let held = (credentials.tokens.iter_mut())
                .chain((credentials.secrets.iter_mut()).filter(|_| kind == Store::Secrets));
            for ((owner, _), gathering) in held {
                if *owner == namespace {
                    gathering.holders.insert(store.clone());
                }
            }
            self.push_asset(store, kind.description(&namespace), pos);
        }
        for ((kind, namespace, object), pos) in stores.single {
            let store = self.scoped(&kind.one(&namespace, &object));
            let account = match kind {
                Store::Secrets => {
                    let gathering = credentials.secret(&namespace, &object);
                    gathering.place(pos);
                    gathering.holders.insert(store.clone());
                    credentials
                        .account_of(&namespace, &object)
                        .map(str::to_owned)
                }
                Store::Tokens => Some(object.clone()),
            };
            if let Some(account) = account {
                let gathering = credentials.token(&namespace, &account);
                gathering.place(pos);
                gathering.holders.insert(store.clone());
            }
            self.push_asset(store, kind.description_of_one(&namespace, &object), pos);
        }
    }

    /// Every token and Secret as a credential, placed where it is first declared (or
    /// at the first binding when nothing declares it), with its holders.
    fn push_credentials(&mut self, credentials: Credentials, first: Pos) {
        let lists = [
            ("kubernetes-token", credentials.tokens),
            ("kubernetes-secret", credentials.secrets),
        ];
        for (kind, map) in lists {
            for ((namespace, name), gathering) in map {
                let pos = gathering.at.unwrap_or(first);
                let credential = RawCredential {
                    name: at(
                        if kind == "kubernetes-token" {
                            self.token_name(&namespace, &name)
                        } else {
                            format!("secret:{}", self.scoped(&format!("{namespace}/{name}")))
                        },
                        pos,
                    ),
                    held_by: (!gathering.holders.is_empty())
                        .then(|| located_list(gathering.holders.into_iter().collect(), pos)),
                    leaked: None,
                    status: None,
                    kind: Some(kind.to_owned()),
                    description: None,
                    owner: None,
                    rotated: None,
                };
                self.file(pos)
                    .credentials
                    .get_or_insert_with(Vec::new)
                    .push(at(credential, pos));
            }
        }
    }
}
