#!/usr/bin/env bash
# Quantization-aware PINNs for the low-latency benchmark (benchmarks/low_latency.py), fine-tuned by
# distillation from the shipped tanh PINNs. Run from the repo root:  bash benchmarks/low_latency/train.sh [PROBLEM...]
# ~80 s per network on one core; the checkpoints land in benchmarks/low_latency/checkpoints/.
set -euo pipefail
STEPS=${STEPS:-1500}
OUT=benchmarks/low_latency/checkpoints
problems=${*:-"poisson diffusion_reaction wave burgers beltrami"}
train() { .venv/bin/loihi-pinn train "$1" --init-from "$1" --steps "$STEPS" --threads 1 --quiet "${@:3}" --out "$OUT/$1_$2"; }
for p in $problems; do
  train "$p" qcfs4 --activation qcfs --levels 4 --lr 5e-3
  train "$p" slip4_c0.2 --activation slip --levels 4 --slope 0.2 --lr 5e-3
  train "$p" slip4_c0.5 --activation slip --levels 4 --slope 0.5 --lr 5e-3
  train "$p" bits4 --activation bitserial --bits 4 --shape tanh --lr 1e-3
  train "$p" bits8 --activation bitserial --bits 8 --shape tanh --lr 1e-3
done
