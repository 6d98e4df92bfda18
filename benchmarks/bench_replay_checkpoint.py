"""Save/restore time of a DQN algorithm checkpoint whose replay buffer is full, and how much
of the restore the schema checks take (JSON schemas, arrays against the spaces).

Run: ``python benchmarks/bench_replay_checkpoint.py [--capacity 100000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from bench_checkpoint import best_ms  # this folder is on sys.path when run as a script


def main() -> None:
    from rlmodules.algorithms.offpolicy_config import DQNConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    algo = (DQNConfig().environment("CartPole-v1")
            .training(replay_buffer_config={"type": "prioritized", "capacity": args.capacity})
            .debugging(seed=0).build())
    rng = np.random.default_rng(0)
    n = args.capacity
    obs = rng.standard_normal((n, 4), dtype=np.float32)
    algo.replay_buffer.add(obs, rng.integers(0, 2, n), rng.standard_normal(n).astype(
        np.float32), obs, np.zeros(n, bool), np.zeros(n, bool))
    path = Path(tempfile.mkdtemp(prefix="bench-replay-")) / "ckpt"
    algo.save_to_path(path)
    size_mb = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
    rows = [("save_to_path", lambda: algo.save_to_path(path)),
            ("restore_from_path", lambda: algo.restore_from_path(path))]
    try:  # the schema checks alone, where this version has them
        from rlmodules.algorithms.checkpoint import read_algorithm_state
        from rlmodules.algorithms.checkpoint_schema import OffPolicyExtra, check_replay_arrays
        from rlmodules.checkpoint import read_tensor_file, structure

        state = read_algorithm_state(path)
        tensors = read_tensor_file(path, state["extra"]["file"])
        arrays = {k[7:]: v.numpy() for k, v in tensors.items() if k.startswith("replay/")}
        module = algo.module["default_policy"]

        def schema() -> None:
            extra = structure(state["extra"], OffPolicyExtra, source=path)
            check_replay_arrays(arrays, extra.replay_buffer, source=path,
                                observation_space=module.observation_space,
                                action_space=module.action_space)

        rows.append(("  of which: replay schema + array checks", schema))
    except ImportError:
        pass
    print(f"DQN checkpoint with a full buffer of {n:,} transitions: {size_mb:.1f} MB")
    for label, fn in rows:
        best, median = best_ms(fn, args.repeat)
        print(f"{label:<44} best {best:8.1f} ms  median {median:8.1f} ms")
    algo.stop()


if __name__ == "__main__":
    main()
