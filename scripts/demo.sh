#!/usr/bin/env bash
# The main job: set-up, build, then the whole pipeline on the built-in synthetic world.
#   scripts/demo.sh [--out DIR] [--size tiny|small|base] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/onerec demo --out demo-out "$@"
