#!/usr/bin/env bash
# Forward-only speed (prefill with the loss over all positions), ours vs PyTorch; the configs and
# flags of bench/train_step.sh. Usage: bench/prefill.sh [THREADS] [STEPS]
cd "$(dirname "$0")/.." && MODE=prefill exec bash bench/train_step.sh "$@"
