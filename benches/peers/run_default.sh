#!/usr/bin/env bash
# Runs the default-model peers (JAX jit step, torch eager) one after another at
# n = 10k, 100k and 1M and prints a table of ms/step.
#
# Usage: VENV=/tmp/venv-peers bash benches/peers/run_default.sh
# Environment (all optional):
#   PEERS_DIR  scratch folder for generated data and logs (default ${TMPDIR:-/tmp}/scm5-peers)
#   REPS       repetitions of every configuration (default 2)
#   SIZES      which sizes, any of 10k 100k 1m (default "10k 100k 1m")
#   STEPS      steps at 10k and 100k (default 500); STEPS_1M steps at 1M (default 50)
#   THREADS    intra-op threads (default 2)
# Logs: $PEERS_DIR/default_runs/*.log; JSON lines appended to $PEERS_DIR/default_results.jsonl.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${VENV:?set VENV to the peers venv}/bin/python"
export PEERS_DIR="${PEERS_DIR:-${TMPDIR:-/tmp}/scm5-peers}"
REPS="${REPS:-2}"
SIZES="${SIZES:-10k 100k 1m}"
STEPS="${STEPS:-500}"
STEPS_1M="${STEPS_1M:-50}"
THREADS="${THREADS:-2}"
D10="$HERE/../../data/scm5/train_10k.csv"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
LOGS="$PEERS_DIR/default_runs"
mkdir -p "$LOGS"
THIS="$LOGS/results_$RUN_ID.jsonl"
: > "$THIS"

# Make the generated data (and its .npy cache) before anything is timed.
for size in $SIZES; do
  case "$size" in
    100k) "$PY" -c "import sys; sys.path.insert(0, '$HERE'); import default_common as C; C.load_csv(None, 100000)" ;;
    1m)   "$PY" -c "import sys; sys.path.insert(0, '$HERE'); import default_common as C; C.load_csv(None, 1000000)" ;;
  esac
done

for rep in $(seq 1 "$REPS"); do
  for size in $SIZES; do
    case "$size" in
      10k)  data=("$D10"); steps="$STEPS" ;;
      100k) data=(--n 100000); steps="$STEPS" ;;
      1m)   data=(--n 1000000); steps="$STEPS_1M" ;;
      *) echo "unknown size $size" >&2; exit 2 ;;
    esac
    for peer in jax torch; do
      log="$LOGS/${peer}_${size}_rep${rep}_$RUN_ID.log"
      echo "rep $rep  n=$size  $peer  ($steps steps, $THREADS threads) -> $log" >&2
      "$PY" "$HERE/default_model_$peer.py" "${data[@]}" --steps "$steps" --threads "$THREADS" > "$log" 2>&1
      grep -h '^{' "$log" | sed "s/^{/{\"rep\": $rep, \"run\": \"$RUN_ID\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", /" >> "$THIS"
    done
  done
done
cat "$THIS" >> "$PEERS_DIR/default_results.jsonl"

"$PY" - "$THIS" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| n | peer | rep | steps | warmup s | mean ms/step | median ms/step | final loss | load avg after |")
print("|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["n"], r["framework"], r["rep"])):
    print(f"| {r['n']} | {r['framework']} {r['mode']} | {r['rep']} | {r['steps']} | {r['warmup_s']:.3f} "
          f"| {r['ms_per_step']:.3f} | {r['ms_per_step_median']:.3f} | {r['final_loss']:.6f} | {r['load']} |")
EOF
