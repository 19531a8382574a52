#!/usr/bin/env bash
# causalgrad's default path on the bundled scm5 data, the command-line
# counterpart of dowhy_select.py: fit with the defaults (tanh MLPs, 5
# ensemble members for intervals) and the effect of x2 on x5 with its
# 95% interval, 10,000 samples per arm (DoWhy's num_samples_to_draw).
# With --select, the fit chooses each variable's mechanism first (as
# DoWhy's assign_causal_mechanisms does).
#
#   cargo build -p causalgrad-cli
#   benches/peers/causalgrad_default_path.sh [--select]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${CAUSALGRAD:-$root/target/debug/causalgrad}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin" fit --data "$root/data/scm5/train_10k.csv" --graph "$root/data/scm5/graph.dot" \
    --out "$out/m.cg" --quiet "$@" >/dev/null
"$bin" --json effect --model "$out/m.cg" --treatment x2 --outcome x5 --a -1 --b 1 -n 10000
