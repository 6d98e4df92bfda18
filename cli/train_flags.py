"""The ``rlmodules train`` flags that change settings, applied after the preset and the
config file (and again on ``--resume``): scaling, ``--num-envs``, evaluation, ``--set``;
``--input`` for behaviour cloning; and what ``--stop-on`` watches."""

from __future__ import annotations

import argparse
from typing import Any

from rlmodules.errors import ConfigError

from .accel import accel_settings

__all__ = ["apply_flags", "offline_input", "positive", "stop_on", "BC_EVAL_ITERATIONS"]

#: Behaviour cloning has no training return: without --eval-freq it evaluates after this
#: many iterations.
BC_EVAL_ITERATIONS = 5


def offline_input(config: Any, args: argparse.Namespace, algo_key: str) -> None:
    """``--input`` for behaviour cloning, which also evaluates by default (it has no
    training episodes to report)."""
    if algo_key != "bc":
        if args.input is not None:
            raise ConfigError(f"--input names recorded episodes for --algo bc; --algo "
                              f"{algo_key} samples its own")
        return
    if args.input is None:
        raise ConfigError(
            "--algo bc clones recorded episodes: pass --input DIR, a directory written by "
            "`rlmodules record CHECKPOINT --episodes N --out DIR`"
        )
    config.offline_data(input_=str(args.input))
    evaluation = config.evaluation_settings
    if evaluation["evaluation_interval"] is None and \
            evaluation["evaluation_interval_timesteps"] is None:
        config.evaluation(evaluation_interval=BC_EVAL_ITERATIONS)


def apply_flags(config: Any, args: argparse.Namespace) -> None:
    """The flags that change settings, in the order they apply (``--set`` last); also
    used on ``--resume``."""
    from .overrides import apply_overrides

    config.update_from_dict(_scaling_settings(args))
    if args.num_envs is not None:
        config.env_runners(num_envs_per_env_runner=positive("--num-envs", args.num_envs))
    if args.eval_freq is not None:
        if args.eval_freq < 0:
            raise ConfigError(f"--eval-freq must be a number of env steps (0: never), got "
                              f"{args.eval_freq}")
        config.evaluation(evaluation_interval=None,
                          evaluation_interval_timesteps=args.eval_freq or None)
    if args.eval_episodes is not None:
        config.evaluation(evaluation_duration=positive("--eval-episodes", args.eval_episodes))
    apply_overrides(config, args.overrides)


def stop_on(config: Any, flag: str | None, algo_key: str) -> str:
    """What ``--stop-return`` watches: ``flag``, else the evaluation when there is one."""
    evaluation = config.evaluation_settings
    evaluates = evaluation["evaluation_interval"] is not None or \
        evaluation["evaluation_interval_timesteps"] is not None
    stop_on = flag or ("eval" if evaluates else "train")
    if stop_on == "eval" and not evaluates:
        raise ConfigError("--stop-on eval needs evaluation during training: pass "
                          "--eval-freq STEPS (or set evaluation.evaluation_interval)")
    if stop_on == "train" and algo_key == "bc":
        raise ConfigError("--algo bc plays no training episodes: it stops on its "
                          "evaluations (--stop-on eval)")
    return stop_on




def positive(flag: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"{flag} must be a positive integer, got {value}")
    return value


def _scaling_settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    runners = {key: value for key, value in (("num_env_runners", args.num_env_runners),
                                             ("ray_address", args.ray_address))
               if value is not None}
    learners = {} if args.num_learners is None else {"num_learners": args.num_learners}
    sections = {section: values for section, values in
                (("env_runners", runners), ("learners", learners)) if values}
    for section, values in accel_settings(args).items():  # --device, --precision, ...
        sections[section] = {**sections.get(section, {}), **values}
    return sections
