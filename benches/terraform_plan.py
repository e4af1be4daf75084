"""Writes a Terraform state of 20,000 resources for the plan-scale benchmark
(BENCHMARKS.md): one VPC, 50 subnets, 500 security groups whose rules reference each
other, 5,000 instances with two groups each, and security group rules up to the count.

    python3 benches/terraform_plan.py /tmp/tfscale/state.json
"""
import json
import random
import sys

random.seed(1)
R = []
def add(a, t, v): R.append({"address": a, "mode": "managed", "type": t, "values": v})
add("aws_vpc.main", "aws_vpc", {"id": "vpc-1", "cidr_block": "10.0.0.0/16"})
S, G, N = 50, 500, 5000
for s in range(S):
    add(f"aws_subnet.s[{s}]", "aws_subnet", {"id": f"subnet-{s}", "vpc_id": "vpc-1", "cidr_block": f"10.0.{s}.0/24"})
for g in range(G):
    ing = [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": [], "security_groups": [f"sg-{random.randrange(G)}", f"sg-{random.randrange(G)}"], "self": False},
           {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": [f"10.0.{random.randrange(S)}.0/24"], "security_groups": [], "self": False}]
    eg = [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"], "security_groups": [], "self": False}]
    add(f"aws_security_group.g[{g}]", "aws_security_group", {"id": f"sg-{g}", "vpc_id": "vpc-1", "ingress": ing, "egress": eg})
for i in range(N):
    add(f"aws_instance.i[{i}]", "aws_instance", {"id": f"i-{i}", "subnet_id": f"subnet-{i % S}", "private_ip": f"10.0.{i % S}.{10 + i // S}", "vpc_security_group_ids": [f"sg-{random.randrange(G)}", f"sg-{random.randrange(G)}"]})
# Fill up to 20,000 resources with rules and unmodelled resources.
k = 0
while len(R) < 20000:
    add(f"aws_security_group_rule.r[{k}]", "aws_security_group_rule", {"id": f"sgr-{k}", "type": "ingress", "security_group_id": f"sg-{k % G}", "protocol": "tcp", "from_port": 8000 + k % 100, "to_port": 8000 + k % 100, "cidr_blocks": [], "source_security_group_id": f"sg-{(k * 7) % G}", "self": False})
    k += 1
doc = {"format_version": "1.0", "terraform_version": "1.6.6", "values": {"root_module": {"resources": R}}}
with open(sys.argv[1], "w") as out:
    out.write(json.dumps(doc, indent=2))

