"""The seeds' examples that build an algorithm, with only their import lines changed.

Each is the guide's code (``ray.rllib...`` imports replaced by ``rlmodules...``; the guide's
own typos fixed where noted) followed by one ``algo.train()``.
"""

from __future__ import annotations

import math

import pytest
import torch


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _trains(algo) -> dict:
    result = algo.train()
    assert result["training_iteration"] == 1
    losses = [v for k, v in result.items() if k.endswith("_loss")]
    assert losses and all(math.isfinite(v) for v in losses)
    return result


def test_bc_single_agent_example():
    from rlmodules import RLModuleSpec
    from rlmodules.testing import BCConfigTest, DiscreteBCTorchModule

    config = (
        BCConfigTest()
        .api_stack(
            enable_rl_module_and_learner=True,
            enable_env_runner_and_connector_v2=True,
        )
        .environment("CartPole-v1")
        .rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=DiscreteBCTorchModule,
                # The `self.model_config` attribute is available everywhere inside your
                # custom `DiscreteBCTorchModule` class.
                model_config={"fcnet_hiddens": [32, 32]},
            ),
        )
    )

    algo = config.build()
    print(algo.get_module())

    module = algo.get_module()
    assert isinstance(module, DiscreteBCTorchModule)
    assert [layer.out_features for layer in module.policy if hasattr(layer, "out_features")] \
        == [32, 32, 2]
    _trains(algo)
    algo.stop()


def test_bc_multi_agent_shared_policy_example():
    from rlmodules import MultiRLModuleSpec, RLModuleSpec
    from rlmodules.envs import MultiAgentCartPole
    from rlmodules.testing import BCConfigTest, DiscreteBCTorchModule

    config = (
        BCConfigTest()
        .api_stack(
            enable_rl_module_and_learner=True,
            enable_env_runner_and_connector_v2=True,
        )
        .environment(MultiAgentCartPole, env_config={"num_agents": 2})
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                # All agents (0 and 1) use the same (single) RLModule.
                rl_module_specs=RLModuleSpec(
                    module_class=DiscreteBCTorchModule,
                    model_config={"fcnet_hiddens": [32, 32]},
                )
            ),
        )
    )
    algo = config.build()
    print(algo.get_module())

    assert isinstance(algo.get_module(), DiscreteBCTorchModule)
    assert list(algo.module.keys()) == ["default_policy"]
    # Both agents' recorded steps trained the one shared module.
    assert {a for ep in algo.recorded.episodes for a in ep} == {0, 1}
    assert algo.rows["default_policy"]["obs"].shape[0] == sum(
        len(steps.rewards) for ep in algo.recorded.episodes for steps in ep.values())
    _trains(algo)
    algo.stop()


def test_bc_multi_agent_two_policy_nets_example():
    from rlmodules import MultiRLModuleSpec, RLModuleSpec
    from rlmodules.envs import MultiAgentCartPole
    from rlmodules.testing import BCConfigTest, DiscreteBCTorchModule

    config = (
        BCConfigTest()
        .api_stack(
            enable_rl_module_and_learner=True,
            enable_env_runner_and_connector_v2=True,
        )
        .environment(MultiAgentCartPole, env_config={"num_agents": 2})
        .multi_agent(
            policies={"p0", "p1"},
            # Agent IDs of `MultiAgentCartPole` are 0 and 1, mapping to
            # "p0" and "p1", respectively.
            policy_mapping_fn=lambda agent_id, episode, **kw: f"p{agent_id}"
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                # Agents (0 and 1) use different (single) RLModules.
                rl_module_specs={
                    "p0": RLModuleSpec(
                        module_class=DiscreteBCTorchModule,
                        # Small network.
                        model_config={"fcnet_hiddens": [32, 32]},
                    ),
                    "p1": RLModuleSpec(
                        module_class=DiscreteBCTorchModule,
                        # Large network.
                        model_config={"fcnet_hiddens": [128, 128]},
                    ),
                },
            ),
        )
    )
    algo = config.build()
    print(algo.get_module())

    multi = algo.get_module()
    assert list(multi.keys()) == ["p0", "p1"]
    assert multi["p0"].policy[0].out_features == 32
    assert multi["p1"].policy[0].out_features == 128
    before = {mid: [p.clone() for p in m.parameters()] for mid, m in multi.items()}
    result = _trains(algo)
    assert {"p0/bc_loss", "p1/bc_loss"} <= set(result)
    for mid, module in multi.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[mid], module.parameters()))
    algo.stop()


# --- the custom MultiRLModule with a shared encoder -------------------------------------------
# The guide's two classes, at module level as in the guide. Fixes of the guide's typos:
# `_forward_inference` built a broken dict comprehension and never fed the encoder's
# features to the policies; here each policy gets its agents' features, and
# `_forward_train` calls the policies' `forward_train` (the guide routed training through
# the no-grad inference forward, which cannot train).
import torch.nn as nn  # noqa: E402
from rlmodules import (
    Columns,  # noqa: E402
    MultiRLModule,  # noqa: E402
    TorchRLModule,  # noqa: E402
)


class PGPolicyUsingSharedEncoder(TorchRLModule):
    """A PG-style RLModule using the inputs (features) of a shared encoder.

    Note that the shared encoder is a separate RLModule handled separately by the
    top level MultiRLModule that holds this RLModule.
    """
    def setup(self):
        feature_dim = self.model_config["feature_dim"]
        hidden_dim = self.model_config["hidden_dim"]

        self._pi_head = nn.Sequential(
            nn.Linear(feature_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, self.action_space.n),
        )

    def _forward_inference(self, batch):
        with torch.no_grad():
            return self._common_forward(batch)

    def _forward_exploration(self, batch):
        with torch.no_grad():
            return self._common_forward(batch)

    def _forward_train(self, batch):
        return self._common_forward(batch)

    def _common_forward(self, batch):
        features = batch["encoder_features"]
        logits = self._pi_head(features)

        return {Columns.ACTION_DIST_INPUTS: logits}


class MultiAgentPGWithSharedEncoder(MultiRLModule):
    def setup(self):
        # Call the super constructor to create all submodules (the policies)
        # first.
        super().setup()

        # Then construct the shared encoder
        obs_dim = self.observation_space.shape[0]
        hidden_dim = self.model_config["encoder_hidden_dim"]
        feature_dim = self.model_config["feature_dim"]
        self._shared_encoder = nn.Sequential(
            nn.Linear(obs_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, feature_dim),
        )

    def _forward_inference(self, batch, forward="forward_inference"):
        # Pass observations through the shared encoder.
        features = {mid: self._shared_encoder(batch[mid][Columns.OBS]) for mid in batch}
        # Pass computed features through all submodules (policies).
        ret = {
            mid: getattr(self[mid], forward)(
                {**batch[mid], "encoder_features": features[mid]}
            ) for mid in batch
        }
        return ret

    def _forward_exploration(self, batch):
        return self._forward_inference(batch, forward="forward_exploration")

    def _forward_train(self, batch):
        return self._forward_inference(batch, forward="forward_train")


def test_shared_encoder_multi_rl_module_example_trains_with_ppo():
    from rlmodules import MultiRLModuleSpec, RLModuleSpec
    from rlmodules.algorithms import PPOConfig
    from rlmodules.envs import MultiAgentCartPole

    FEATURE_DIM = 128
    ENCODER_HIDDEN_DIM = 256

    config = (
        PPOConfig()
        .api_stack(
            enable_rl_module_and_learner=True,
            enable_env_runner_and_connector_v2=True,
        )
        .environment(MultiAgentCartPole, env_config={"num_agents": 2})
        .multi_agent(
            policies={"p0", "p1"},
            # Agent IDs of `MultiAgentCartPole` are 0 and 1, mapping to
            # "p0" and "p1", respectively.
            policy_mapping_fn=lambda agent_id, episode, **kw: f"p{agent_id}"
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                # Speficy our custom MultiRLModule class.
                multi_rl_module_class=MultiAgentPGWithSharedEncoder,
                model_config={
                    "feature_dim": FEATURE_DIM,
                    "encoder_hidden_dim": ENCODER_HIDDEN_DIM,
                },
                # Specify the individual policy RLModules (with different hidden dims).
                rl_module_specs={
                    "p0": RLModuleSpec(
                        module_class=PGPolicyUsingSharedEncoder,
                        # Large policy net.
                        model_config={"feature_dim": FEATURE_DIM, "hidden_dim": 1024},
                    ),
                    "p1": RLModuleSpec(
                        module_class=PGPolicyUsingSharedEncoder,
                        # Small policy net.
                        model_config={"feature_dim": FEATURE_DIM, "hidden_dim": 64},
                    ),
                },
            ),
        )
    )
    # Test-size iteration (the guide's defaults sample 2048 steps per iteration).
    config.training(train_batch_size=256, minibatch_size=128, num_epochs=1)
    algo = config.build()
    print(algo.get_module())

    multi = algo.get_module()
    assert isinstance(multi, MultiAgentPGWithSharedEncoder)
    assert multi["p0"]._pi_head[0].out_features == 1024
    assert multi["p1"]._pi_head[0].out_features == 64
    encoder = [p.clone() for p in multi._shared_encoder.parameters()]
    heads = {mid: [p.clone() for p in multi[mid].parameters()] for mid in ("p0", "p1")}
    result = _trains(algo)
    # Both policies and the shared encoder learned; one optimizer step per minibatch.
    assert {"p0/policy_loss", "p1/policy_loss"} <= set(result)
    assert result["learner/num_minibatch_steps"] == 2
    assert any(not torch.equal(a, b) for a, b in zip(encoder, multi._shared_encoder.parameters()))
    for mid in ("p0", "p1"):
        assert any(not torch.equal(a, b) for a, b in zip(heads[mid], multi[mid].parameters()))
    algo.stop()


def test_checkpoint_into_algorithm_example(tmp_path):
    import shutil
    import tempfile

    import gymnasium as gym
    from rlmodules import RLModule, RLModuleSpec
    from rlmodules.algorithms import PPOConfig
    from rlmodules.plugins import DefaultPPOTorchRLModule as PPOTorchRLModule
    from rlmodules.plugins import PPOCatalog

    config = (
        PPOConfig()
        # Enable the new API stack (RLModule and Learner APIs).
        .api_stack(
            enable_rl_module_and_learner=True,
            enable_env_runner_and_connector_v2=True,
        ).environment("CartPole-v1")
    )
    env = gym.make("CartPole-v1")
    # Create an RL Module that we would like to checkpoint
    with pytest.warns(DeprecationWarning, match="model_config_dict"):
        module_spec = RLModuleSpec(
            module_class=PPOTorchRLModule,
            observation_space=env.observation_space,
            action_space=env.action_space,
            # If we want to use this externally created module in the algorithm,
            # we need to provide the same config as the algorithm. Any changes to
            # the defaults can be given via the right side of the `|` operator.
            model_config_dict=config.model_config | {"fcnet_hiddens": [32]},
            catalog_class=PPOCatalog,
        )
    module = module_spec.build()

    # Create the checkpoint.
    module_ckpt_path = tempfile.mkdtemp()
    module.save_to_path(module_ckpt_path)

    # Create a new RLModule from the checkpoint.
    loaded_module = RLModule.from_checkpoint(module_ckpt_path)

    # Create a new Algorithm (with the changed module config: 32 units instead of the
    # default 256; otherwise loading the state of `module` will fail due to a shape
    # mismatch).
    with pytest.warns(DeprecationWarning, match="model_config_dict"):
        config.rl_module(model_config_dict=config.model_config | {"fcnet_hiddens": [32]})
    algo = config.build()
    # Now load the saved RLModule state (from the above `module.save_to_path()`) into the
    # Algorithm's RLModule(s). Note that all RLModules within the algo get updated, the ones
    # in the Learner workers and the ones in the EnvRunners.
    algo.restore_from_path(
        module_ckpt_path,  # <- NOT an Algorithm checkpoint, but single-agent RLModule one.
        # We have to provide the exact component-path to the (single) RLModule
        # within the algorithm, which is:
        component="learner_group/learner/rl_module/default_policy",
    )

    assert type(loaded_module) is type(module)
    restored = algo.get_module().state_dict()
    for name, value in module.state_dict().items():
        assert torch.equal(restored[name], value)
        assert torch.equal(loaded_module.state_dict()[name], value)
    config.training(train_batch_size=256, minibatch_size=128, num_epochs=1)
    algo.config.training(train_batch_size=256, minibatch_size=128, num_epochs=1)
    _trains(algo)

    algo.stop()
    shutil.rmtree(module_ckpt_path)
