#!/usr/bin/env bash
# Runs a command in a private network namespace that has only the loopback interface, so
# Ray and torch.distributed can bind nothing but 127.0.0.1 (the Ray tests run this way).
# Needs root or unprivileged user namespaces; fails loudly when neither is available.
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi
if [ "$(id -u)" -eq 0 ]; then
    exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
exec unshare --net --map-root-user -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
