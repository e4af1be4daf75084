"""Writes a Kubernetes cluster for the cluster-scale benchmark (BENCHMARKS.md, "A
cluster of 5,000 workloads"): 200 namespaces labelled with team, env and tier, 25
Deployments in each (web, api, worker, db and cache, with app and tier labels and named
container ports), and 10 NetworkPolicies in each: default deny, egress to DNS, tier to
tier within the namespace, matchExpressions, per-app rules, cross-namespace
namespaceSelector with podSelector, and ipBlock egress with except and endPort.

    python3 benches/k8s_cluster.py /tmp/k8s/cluster.yaml [--namespaces 200] [--seed 1]

Deterministic by seed. One file, Namespaces first: NCA 2.1.0 loses namespace labels when
it reads a Namespace after the workloads in it, and it looks up Exists and DoesNotExist
pod selectors only in the policy's own namespace, so those appear here only without a
namespaceSelector beside them. One replica each: NCA models two pods per replicated
Deployment and stops at 10,000 pods (an assertion in its Peer.py). A Python script rather than a Rust example because NCA,
the peer it is measured against, needs the files on disk anyway, and because its sibling
benches/terraform_plan.py is one too.
"""
import argparse
import random

ROLES = ["web", "api", "worker", "db", "cache"]
PORTS = {
    "web": [("http", 8080, "TCP")],
    "api": [("http", 8080, "TCP"), ("grpc", 9000, "TCP"), ("metrics", 9090, "TCP")],
    "worker": [("metrics", 9090, "TCP")],
    "db": [("postgres", 5432, "TCP")],
    "cache": [("redis", 6379, "TCP"), ("gossip", 7946, "UDP")],
}
TEAMS = [f"team-{t:02d}" for t in range(20)]
ENVS = ["prod", "staging", "dev"]
NS_TIERS = ["frontend", "backend", "data"]


def emit(value, indent=0, out=None):
    """Block-style YAML for dicts, lists and scalars (enough for manifests)."""
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:")
                emit(item, indent + 1, out)
            else:
                out.append(f"{pad}{key}: {scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = []
                emit(item, indent + 1, inner)
                first = inner[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {scalar(item)}")
    return out


def scalar(item):
    if item == {}:
        return "{}"
    if item == []:
        return "[]"
    if isinstance(item, str):
        return f'"{item}"'
    return str(item)


def expr(key, op, values=None):
    e = {"key": key, "operator": op}
    if values is not None:
        e["values"] = values
    return e


def policy(ns, name, pod_selector, types, ingress=None, egress=None):
    spec = {"podSelector": pod_selector, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def ports(*specs):
    out = []
    for spec in specs:
        if isinstance(spec, tuple):
            protocol, port, end = spec
            p = {"protocol": protocol, "port": port}
            if end:
                p["endPort"] = end
            out.append(p)
        else:
            out.append({"protocol": "TCP", "port": spec})
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--per-namespace", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    per = args.per_namespace
    docs = []
    namespaces = []
    for i in range(args.namespaces):
        ns = {
            "name": f"ns-{i:03d}",
            "team": TEAMS[i % len(TEAMS)],
            "env": rng.choice(ENVS),
            "tier": rng.choice(NS_TIERS),
        }
        namespaces.append(ns)
        docs.append({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns["name"], "labels": {k: ns[k] for k in ("team", "env", "tier")}},
        })
    for ns in namespaces:
        for j in range(per):
            role = ROLES[j % len(ROLES)]
            name = f"{role}-{j // len(ROLES)}"
            labels = {"app": name, "tier": role}
            if rng.random() < 0.3:
                labels["version"] = rng.choice(["v1", "v2"])
            container = {
                "name": role,
                "image": f"registry.example/{role}:1.0",
                "ports": [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in PORTS[role]],
            }
            docs.append({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns["name"], "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
                },
            })
    apps = [f"{ROLES[j % len(ROLES)]}-{j // len(ROLES)}" for j in range(per)]
    for ns in namespaces:
        n = ns["name"]
        other_teams = rng.sample(TEAMS, 2)
        api = rng.choice([a for a in apps if a.startswith("api")] or apps)
        db = rng.choice([a for a in apps if a.startswith("db")] or apps)
        caller = rng.choice([a for a in apps if a.startswith("api") or a.startswith("worker")] or apps)
        docs.append(policy(n, "default-deny", {}, ["Ingress", "Egress"]))
        docs.append(policy(n, "egress-dns", {}, ["Egress"], egress=[{
            "to": [{"ipBlock": {"cidr": "10.96.0.10/32"}}],
            "ports": ports(("UDP", 53, None), ("TCP", 53, None)),
        }]))
        docs.append(policy(n, "web-from-env", {"matchLabels": {"tier": "web"}}, ["Ingress"], ingress=[{
            "from": [{"namespaceSelector": {"matchLabels": {"env": ns["env"]}}}],
            "ports": [{"protocol": "TCP", "port": "http"}],
        }]))
        docs.append(policy(n, "api-from-web", {"matchLabels": {"tier": "api"}}, ["Ingress"], ingress=[{
            "from": [{"podSelector": {"matchLabels": {"tier": "web"}}}],
            "ports": [{"protocol": "TCP", "port": "http"}, {"protocol": "TCP", "port": "grpc"}],
        }]))
        docs.append(policy(n, "stores-from-backends",
                           {"matchExpressions": [expr("tier", "In", ["db", "cache"])]}, ["Ingress"], ingress=[{
            "from": [{"podSelector": {"matchExpressions": [expr("tier", "In", ["api", "worker"]),
                                                           expr("version", "DoesNotExist")]}}],
            "ports": ports(5432, 6379, ("UDP", 7946, None)),
        }]))
        docs.append(policy(n, f"{api}-from-teams", {"matchLabels": {"app": api}}, ["Ingress"], ingress=[{
            "from": [{
                "namespaceSelector": {"matchExpressions": [expr("team", "In", sorted(other_teams))]},
                "podSelector": {"matchExpressions": [expr("tier", "In", ["api", "worker"])]},
            }],
            "ports": [{"protocol": "TCP", "port": "grpc"}],
        }]))
        docs.append(policy(n, f"{db}-from-{caller}", {"matchLabels": {"app": db}}, ["Ingress"], ingress=[{
            "from": [{"podSelector": {"matchLabels": {"app": caller}}}],
            "ports": [{"protocol": "TCP", "port": "postgres"}],
        }]))
        docs.append(policy(n, "egress-in-namespace",
                           {"matchExpressions": [expr("tier", "NotIn", ["db"])]}, ["Egress"], egress=[{
            "to": [{"podSelector": {}}],
        }]))
        docs.append(policy(n, "api-egress-cross", {"matchLabels": {"tier": "api"}}, ["Egress"], egress=[{
            "to": [{
                "namespaceSelector": {"matchExpressions": [expr("tier", "In", ["backend", "data"]),
                                                           expr("env", "NotIn", ["dev"])]},
                "podSelector": {"matchLabels": {"tier": "api"}},
            }],
            "ports": ports(9000),
        }, {
            "to": [{"namespaceSelector": {"matchLabels": {"team": ns["team"]}}}],
            "ports": ports(("TCP", 8000, 8100)),
        }]))
        docs.append(policy(n, "workers-egress-internet",
                           {"matchExpressions": [expr("tier", "In", ["worker"]), expr("app", "Exists")]},
                           ["Egress"], egress=[{
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
            "ports": ports(443, ("TCP", 8443, 8445)),
        }]))
    lines = []
    for doc in docs:
        lines.append("---")
        emit(doc, 0, lines)
    with open(args.out, "w") as out:
        out.write("\n".join(lines) + "\n")


main()
