#!/bin/sh
# Times cordon `connections` and `check --allow-empty` (best of three) and NCA's
# `--connectivity` (once: it is slow) on the same cluster, one after another in one
# run, and prints the ratio (BENCHMARKS.md, "A cluster of 5,000 workloads").
#
#     benches/k8s_vs_nca.sh DIR [CORDON] [NCA]
set -eu
dir=$1
cordon=${2:-target/release/cordon}
nca=${3:-/tmp/ncavenv/bin/nca}
best() {
    best=
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" >/dev/null
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}
conn=$(best "$cordon" connections "$dir" --format json)
check=$(best "$cordon" check "$dir" --allow-empty -q)
echo "cordon connections: $conn s"
echo "cordon check:       $check s"
start=$(date +%s.%N)
status=0
timeout "${NCA_TIMEOUT:-3600}" "$nca" --connectivity "$dir" --resource_list "$dir" \
    --output_format txt_no_fw_rules --output_endpoints deployments >/dev/null 2>&1 || status=$?
end=$(date +%s.%N)
ncat=$(echo "$end - $start" | bc)
if [ "$status" = 124 ]; then
    echo "nca: did not finish in $ncat s (a lower bound)"
else
    echo "nca:                $ncat s (exit $status)"
fi
echo "ratio connections/nca: $(echo "scale=4; $conn / $ncat" | bc)"
