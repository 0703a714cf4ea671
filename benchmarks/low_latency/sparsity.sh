#!/usr/bin/env bash
# Seed 003's bit-sparsity regularizer on Burgers, 8-bit bit-serial: one network per lambda (~80 s each on one core).
# Run from the repo root:  bash benchmarks/low_latency/sparsity.sh && .venv/bin/python benchmarks/low_latency.py --sparsity
set -euo pipefail
for l in 0 1e-4 1e-2 1e-1; do
  .venv/bin/loihi-pinn train burgers --activation bitserial --bits 8 --init-from burgers --lr 1e-3 --steps 1500 \
    --sparsity "$l" --threads 1 --quiet --out "benchmarks/low_latency/checkpoints/burgers_bits8_sparsity$l"
done
