# mypy: disable-error-code="has-type"
# (`input_` is declared by the offline_data() builder of the base config)
"""BCConfigTest: the test BC configuration the seeds' examples build algorithms with.

It is :class:`~rlmodules.algorithms.bc.BCConfig` that also works without recorded data:
when no ``offline_data(input_=...)`` is given, ``build()`` records a few episodes of the
freshly built (untrained, exploring) module in the configured env, so an example can
``build()`` and ``train()`` end to end. With ``offline_data`` it is plain BC.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

from rlmodules.algorithms.bc import BC, BCConfig
from rlmodules.algorithms.episodes import RecordedEpisodes, record_episodes
from rlmodules.algorithms.multi_agent import module_ids_of, resolve_policy_mapping_fn

__all__ = ["BCConfigTest", "BCAlgorithmTest"]

#: Episodes recorded when no offline data is configured.
SELF_RECORDED_EPISODES = 5


class BCConfigTest(BCConfig):
    """BC config for tests and examples; recorded data is optional.

    Example::

        algo = (BCConfigTest().environment("CartPole-v1")
                .rl_module(rl_module_spec=RLModuleSpec(module_class=DiscreteBCTorchModule,
                                                       model_config={"fcnet_hiddens": [32]}))
                .build())
        algo.train()
    """

    algo_class_path = "rlmodules.testing.bc_algorithm:BCAlgorithmTest"

    def validate(self) -> None:
        input_, self.input_ = self.input_, self.input_ or "(recorded at build)"
        try:
            super().validate()
        finally:
            self.input_ = input_


class BCAlgorithmTest(BC):
    """BC that records its own episodes when the config names none (removed on ``stop()``)."""

    def load_episodes(self) -> RecordedEpisodes:
        if self.config.input_ is not None:
            return super().load_episodes()
        self._scratch = tempfile.mkdtemp(prefix="rlmodules-bc-test-")
        mapping_fn = (
            resolve_policy_mapping_fn(self.config, module_ids_of(self.config))
            if self.is_multi_agent else None
        )
        return record_episodes(
            self.module, self.env_creator, f"{self._scratch}/episodes",
            num_episodes=SELF_RECORDED_EPISODES, env=_env_name(self.config.env),
            policy_mapping_fn=mapping_fn, explore=True, seed=self.config.seed,
        )

    def stop(self) -> None:
        super().stop()
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _env_name(env: Any) -> str:
    if isinstance(env, str):
        return env
    return f"{getattr(env, '__module__', '?')}:{getattr(env, '__qualname__', repr(env))}"
