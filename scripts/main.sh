#!/usr/bin/env bash
# The main job: build modules from specs, act in CartPole-v1, checkpoint and reload.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
exec "$root/.venv/bin/python" "$root/examples/quickstart.py" "$@"
