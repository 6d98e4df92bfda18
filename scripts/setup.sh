#!/usr/bin/env bash
# Creates .venv (once) and installs rlmodules, its contrib packages and the test tools into it.
# Idempotent and quick when nothing changed. torch is pinned to the local CPU build for
# development only (constraints-dev.txt); the package metadata keeps a normal range.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
# Reinstall only when a packaging file changed.
stamp="$venv/.rlmodules-setup"
shopt -s nullglob
digest=$(cat scripts/setup.sh pyproject.toml constraints-dev.txt contrib/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    editables=(-e ".[test,train,ray,pettingzoo,atari,mujoco,hub,video,envpool,wandb,mlflow,benchmark]")
    for pkg in contrib/*/; do
        # with its test extra: what its tests need (rlmodules-onnx's: onnx, onnxscript)
        [ -f "$pkg/pyproject.toml" ] && editables+=(-e "${pkg%/}[test]")
    done
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c constraints-dev.txt "${editables[@]}"
    echo "$digest" > "$stamp"
fi
