#!/usr/bin/env bash
# The main job: train the default PPO module on CartPole-v1 until it is solved (mean return
# >= 475 over 100 episodes; well under a minute on 2 CPU cores), then evaluate the saved
# checkpoint. Extra arguments go to `rlmodules train` (e.g. --env Pendulum-v1 --seed 1).
# Each main job replaces the previous one's run directory, runs/main, whatever its env.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
out="$root/runs/main"
"$root/.venv/bin/rlmodules" train --seed 0 "$@" --out "$out" --overwrite
"$root/.venv/bin/rlmodules" eval "$out" --episodes 20
