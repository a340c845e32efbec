#!/usr/bin/env bash
# Set up (once) and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
exec cargo test --workspace "$@"
