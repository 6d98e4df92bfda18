#!/usr/bin/env bash
# The whole test suite: the core's tests and every contrib package's tests.
# Slow end-to-end training checks run too with --slow; their small forms always run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
marker=(-m "not slow")
if [ "${1:-}" = "--slow" ]; then marker=(); shift; fi
shopt -s nullglob
paths=(tests)
for pkg in contrib/*/; do
    [ -d "$pkg/tests" ] && paths+=("$pkg/tests")
done
# Lint and type checks first: they are quick and their failures are the cheapest to read.
"$root/.venv/bin/ruff" check --quiet .
"$root/.venv/bin/mypy" --no-error-summary
exec "$root/.venv/bin/python" -m pytest "${marker[@]}" "${paths[@]}" "$@"
