#!/usr/bin/env bash
# The measurements behind benchmarks/RESULTS.md, in one go.
#
# Usage: benchmarks/run_results.sh PYTHON [OUTPUT_DIR]
#   PYTHON: an interpreter with keras-hub, transformers, torch, jax and
#           tensorflow installed (albert_mlm itself is read from this checkout).
# Writes OUTPUT_DIR/<backend>_<precision>_<length>.json (default OUTPUT_DIR:
# benchmarks/results); each run's printed report is made from that JSON's
# numbers. Run it on an otherwise idle machine.
set -euo pipefail
python="${1:?usage: $0 PYTHON [OUTPUT_DIR]}"
out="${2:-$(dirname "$0")/results}"
mkdir -p "$out"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
benchmark="$(dirname "$0")/benchmark.py"

run() {  # backend precision length batch steps rounds implementations...
  local backend=$1 precision=$2 length=$3 batch=$4 steps=$5 rounds=$6
  shift 6
  local name="${backend}_${precision}_${length}"
  echo "== ${name}" >&2
  KERAS_BACKEND="$backend" "$python" "$benchmark" --architecture base \
    --precision "$precision" --sequence-length "$length" --batch-size "$batch" \
    --steps "$steps" --rounds "$rounds" --implementations "$@" --json "$out/$name.json"
}

for precision in float32 mixed_bfloat16; do
  # transformers runs on PyTorch whatever the Keras backend: measure it once.
  run tensorflow "$precision" 128 8 5 3 albert_mlm keras_hub transformers
  for backend in jax torch; do
    run "$backend" "$precision" 128 8 5 3 albert_mlm keras_hub
  done
done
# Scaling to 512 tokens: same batch, four times the length.
run tensorflow float32 512 8 3 3 albert_mlm keras_hub
