#!/usr/bin/env bash
# Set up (once) and run the default suite `quick` on the embedded synthetic data, then print the
# results table. Extra arguments go to the harness, e.g. `scripts/run.sh --suite g2d-ablation`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
exec cargo run --release -p harness -- "$@"
