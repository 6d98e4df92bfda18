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
# The layering: import-linter's contracts (pyproject.toml) and no private names across packages.
"$root/.venv/bin/python" "$root/scripts/check_layers.py"
# The Ray tests (tests/distributed) run in their own session inside a private network
# namespace, so Ray binds only the loopback interface; a run that selects none of them is
# fine (pytest's exit status 5).
"$root/.venv/bin/python" -m pytest "${marker[@]}" --ignore=tests/distributed "${paths[@]}" "$@"
status=0
bash "$root/scripts/private_network.sh" "$root/.venv/bin/python" -m pytest "${marker[@]}" \
    tests/distributed "$@" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 5 ]
