"""Example environments, and the parallel-env protocol the trainer speaks.

The protocol is PettingZoo's parallel API; any object with that API works (PettingZoo
itself is not required), and PettingZoo's turn-based AEC envs are converted to it
(:func:`as_parallel_env`). Importing this package imports neither torch nor an environment.

Example::

    from rlmodules.envs import MultiAgentCartPole

    env = MultiAgentCartPole(config={"num_agents": 2})
    obs, infos = env.reset(seed=0)
    obs, rewards, terminations, truncations, infos = env.step({0: 1, 1: 0})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

_LAZY = {
    "MultiAgentCartPole": "multi_agent_cartpole",
    "AtariEnv": "atari",
    "is_atari_id": "atari",
    "StatelessCartPole": "stateless_cartpole",
    "ParallelEnv": "parallel_api",
    "check_parallel_env": "parallel_api",
    "is_parallel_env": "parallel_api",
    "is_aec_env": "parallel_api",
    "TurnBasedParallelEnv": "pettingzoo",
    "as_parallel_env": "pettingzoo",
    "SingleAgentParallelEnv": "single_agent",
    "DEFAULT_AGENT_ID": "single_agent",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .atari import AtariEnv, is_atari_id
    from .multi_agent_cartpole import MultiAgentCartPole
    from .parallel_api import ParallelEnv, check_parallel_env, is_aec_env, is_parallel_env
    from .pettingzoo import TurnBasedParallelEnv, as_parallel_env
    from .single_agent import DEFAULT_AGENT_ID, SingleAgentParallelEnv
    from .stateless_cartpole import StatelessCartPole
