"""Greedy evaluation of a trained single-agent module over episodes on given seeds.

Each episode resets its env with its own seed, so anyone can replay exactly the episodes a
model card reports; one episode can be rendered on the way (its frames become the replay
video, so the video shows an episode the reported mean includes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from rlmodules.algorithms.env_creation import env_name, make_env_creator
from rlmodules.algorithms.recording import play_episode, rendering_env
from rlmodules.errors import ConfigError

__all__ = ["Evaluation", "evaluate_policy", "MAX_EPISODE_STEPS", "MAX_VIDEO_FRAMES"]

#: Steps after which an evaluation episode is cut (an env without a time limit never hangs it).
MAX_EPISODE_STEPS = 100_000
#: Frames a recorded episode keeps at most (its first ones), as RL Zoo's 1000-step videos:
#: frames are held in memory until the video is written.
MAX_VIDEO_FRAMES = 1000


@attrs.frozen
class Evaluation:
    """Returns and lengths of greedy episodes, one per seed; ``frames`` are those of the
    episode ``recorded`` (an index into ``seeds``), if one was."""

    seeds: tuple[int, ...]
    returns: tuple[float, ...]
    lengths: tuple[int, ...]
    recorded: int | None = None
    frames: list[np.ndarray] = attrs.field(factory=list, eq=False, repr=False)
    #: The rendering env's ``metadata["render_fps"]`` (the speed a replay should play at).
    fps: float | None = None

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        """The population standard deviation (``numpy.std``), as SB3 and RL Zoo report."""
        return float(np.std(self.returns))

    def to_json(self) -> dict[str, Any]:
        return {"episodes": len(self.seeds), "seeds": list(self.seeds),
                "returns": list(self.returns), "lengths": list(self.lengths),
                "mean": self.mean, "std": self.std, "explore": False,
                "recorded_episode": self.recorded,
                "recorded_frames": None if self.recorded is None else len(self.frames)}


def evaluate_policy(module: Any, env: Any, env_config: Mapping[str, Any], *,
                    seeds: Sequence[int], record: bool = False,
                    preprocess: Callable[[Any], Any] | None = None) -> Evaluation:
    """Play one greedy episode of ``module`` per seed in ``env`` (an id, import path, class
    or factory, made with ``env_config``); with ``record``, the first episode is played in
    an env that renders ``rgb_array`` frames. ``preprocess`` maps observations before the
    module sees them (the frozen normalisation of a ``MeanStdFilter`` run). A recorded
    episode keeps its first :data:`MAX_VIDEO_FRAMES` frames.
    """
    if not seeds:
        raise ConfigError("an evaluation needs at least one episode")
    training = getattr(module, "training", False)
    if training:
        module.eval()  # as Algorithm.evaluate does; given back as it was below
    returns: list[float] = []
    lengths: list[int] = []
    frames: list[np.ndarray] = []
    plain, fps = None, None
    try:
        for index, seed in enumerate(seeds):
            rendered = record and index == 0
            if rendered:
                instance = rendering_env(env, env_config)
                fps = instance.metadata.get("render_fps")
            else:
                plain = plain or make_env_creator(env, env_config)()
                instance = plain
            try:
                played = play_episode(module, instance, seed=seed, render=rendered,
                                      max_steps=MAX_EPISODE_STEPS, max_frames=MAX_VIDEO_FRAMES,
                                      env_id=env_name(env), preprocess=preprocess)
            finally:
                if rendered:
                    instance.close()
            returns.append(played.episode_return)
            lengths.append(played.length)
            frames = played.frames if rendered else frames
    finally:
        if plain is not None:
            plain.close()
        if training:
            module.train()
    return Evaluation(seeds=tuple(seeds), returns=tuple(returns), lengths=tuple(lengths),
                      recorded=0 if record else None, frames=frames, fps=fps)
