"""The seeds' module-level examples, with only import lines changed.

Each test body is the seed's code; the imports at the top of each test are the ported
``ray.rllib...`` lines. Fixes of the seeds' own typos are marked ``# seed fix:``.
"""

from __future__ import annotations

import pytest


def test_construct_default_bc_module_directly():
    import gymnasium as gym
    from rlmodules.plugins import DefaultBCTorchRLModule

    # Create an env object to know the spaces.
    env = gym.make("CartPole-v1")

    # Construct the actual RLModule object.
    rl_module = DefaultBCTorchRLModule(
        observation_space=env.observation_space,
        action_space=env.action_space,
        # A custom dict that will be accessible inside your class as `self.model_config`.
        model_config={"fcnet_hiddens": [64]},
    )
    assert rl_module.model_config["fcnet_hiddens"] == [64]


def test_construct_through_rl_module_spec():
    import gymnasium as gym
    from rlmodules.plugins import DefaultBCTorchRLModule
    from rlmodules import RLModuleSpec

    # Create an env object to know the spaces.
    env = gym.make("CartPole-v1")

    # First construct the spec.
    spec = RLModuleSpec(
        module_class=DefaultBCTorchRLModule,
        observation_space=env.observation_space,
        action_space=env.action_space,
        # A custom dict that will be accessible inside your class as `self.model_config`.
        model_config={"fcnet_hiddens": [64]},
    )

    # Then, build the RLModule through the spec's `build()` method.
    rl_module = spec.build()
    assert isinstance(rl_module, DefaultBCTorchRLModule)


def test_construct_multi_module_spec():
    import gymnasium as gym
    from rlmodules.plugins import DefaultBCTorchRLModule
    from rlmodules import RLModuleSpec
    from rlmodules import MultiRLModuleSpec
    from rlmodules.testing import DiscreteBCTorchModule  # seed fix: the seed never imports it

    # First construct the MultiRLModuleSpec.
    with pytest.warns(DeprecationWarning, match="module_specs"):
        spec = MultiRLModuleSpec(
            module_specs={
                "module_1": RLModuleSpec(
                    module_class=DefaultBCTorchRLModule,

                    # Define the spaces for only this sub-module.
                    observation_space=gym.spaces.Box(low=-1, high=1, shape=(10,)),
                    action_space=gym.spaces.Discrete(2),

                    # A custom dict that will be accessible inside your class as
                    # `self.model_config`.
                    model_config={"fcnet_hiddens": [32]},
                ),
                "module_2": RLModuleSpec(
                    module_class=DiscreteBCTorchModule,

                    # Define the spaces for only this sub-module.
                    observation_space=gym.spaces.Box(low=-1, high=1, shape=(5,)),
                    action_space=gym.spaces.Discrete(2),

                    # A custom dict that will be accessible inside your class as
                    # `self.model_config`.
                    model_config={"fcnet_hiddens": [16]},
                ),
            },
        )

    # Construct the actual MultiRLModule instance with .build():
    multi_rl_module = spec.build()
    assert sorted(multi_rl_module.keys()) == ["module_1", "module_2"]


def _my_torch_policy_classes():
    import torch
    from torch import nn  # seed fix: the seed's second example uses `nn` without importing it
    from rlmodules import Columns
    from rlmodules import TorchRLModule

    class MyTorchPolicy(TorchRLModule):

        def setup(self) -> None:
            # You have access here to the following already set attributes:
            # self.observation_space
            # self.action_space
            # self.inference_only
            # self.model_config  # <- a dict with custom settings
            # self.catalog
            input_dim = self.observation_space.shape[0]
            hidden_dim = self.model_config["fcnet_hiddens"][0]
            output_dim = self.action_space.n

            # Build all the layers and subcomponents here you need for the
            # RLModule's forward passes.
            self._pi_head = torch.nn.Sequential(
                torch.nn.Linear(input_dim, hidden_dim),
                torch.nn.ReLU(),
                torch.nn.Linear(hidden_dim, output_dim),
            )

    class MyWorkingTorchPolicy(TorchRLModule):
        def setup(self) -> None:
            input_dim = self.observation_space.shape[0]
            hidden_dim = self.model_config["fcnet_hiddens"][0]
            output_dim = self.action_space.n

            # Build all the layers and subcomponents here you need for the
            # RLModule's forward passes.
            self._pi_head = nn.Sequential(
                nn.Linear(input_dim, hidden_dim),
                nn.ReLU(),
                nn.Linear(hidden_dim, output_dim),
            )

        def _forward_train(self, batch) -> dict:
            # Push the observations from the batch through our pi-head.
            action_logits = self._pi_head(batch[Columns.OBS])

            # Return parameters for the (default) action distribution, which is
            # `TorchCategorical` (due to our action space being `gym.spaces.Discrete`).
            return {
                Columns.ACTION_DIST_INPUTS: action_logits,
            }

        def _forward_inference(self, batch) -> dict:
            with torch.no_grad():
                return self._forward_train(batch)

        def _forward_exploration(self, batch) -> dict:
            with torch.no_grad():
                return self._forward_train(batch)

    return MyTorchPolicy, MyWorkingTorchPolicy


def test_custom_module_setup_and_forwards():
    import gymnasium as gym
    import torch
    from rlmodules import Columns, RLModuleSpec, compute_actions

    setup_only, working = _my_torch_policy_classes()
    env = gym.make("CartPole-v1")
    spaces = dict(observation_space=env.observation_space, action_space=env.action_space)
    setup_only(**spaces, model_config={"fcnet_hiddens": [8]})  # setup() alone builds

    module = RLModuleSpec(module_class=working, **spaces, model_config={"fcnet_hiddens": [32]}).build()
    obs = torch.randn(5, 4)
    out = module.forward_train({Columns.OBS: obs})
    assert out[Columns.ACTION_DIST_INPUTS].shape == (5, 2)
    assert out[Columns.ACTION_DIST_INPUTS].requires_grad
    # The action step of the seeds: sample from the default (categorical) distribution.
    explored = compute_actions(module, {Columns.OBS: obs}, explore=True)
    assert explored[Columns.ACTIONS].shape == (5,)
    assert torch.all(explored[Columns.ACTION_LOGP] <= 0)
    greedy = compute_actions(module, {Columns.OBS: obs}, explore=False)
    assert torch.equal(greedy[Columns.ACTIONS], out[Columns.ACTION_DIST_INPUTS].argmax(-1))


def _shared_encoder_classes():
    from rlmodules import Columns
    from rlmodules import TorchRLModule
    from rlmodules import MultiRLModule

    import torch
    import torch.nn as nn

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

        def _forward_inference(self, batch):
            # seed fix: the seed's dict comprehension is broken (`} mid for mid ...`) and
            # nests the policy's whole output under ACTION_DIST_INPUTS. Pass each module's
            # observations through the shared encoder, then its features through the policy.
            ret = {
                mid: self[mid].forward_inference(
                    {"encoder_features": self._shared_encoder(batch[mid][Columns.OBS])}
                )
                for mid in batch
            }
            return ret

        def _forward_exploration(self, batch):
            return self._forward_inference(batch)

        def _forward_train(self, batch):
            # seed fix: training must keep gradients, so route to forward_train.
            return {
                mid: self[mid].forward_train(
                    {"encoder_features": self._shared_encoder(batch[mid][Columns.OBS])}
                )
                for mid in batch
            }

    return PGPolicyUsingSharedEncoder, MultiAgentPGWithSharedEncoder


def test_multi_rl_module_with_shared_encoder():
    import gymnasium as gym
    import torch
    from rlmodules import Columns, MultiRLModuleSpec, RLModuleSpec, compute_actions

    policy_cls, multi_cls = _shared_encoder_classes()
    FEATURE_DIM = 16
    spec = MultiRLModuleSpec(
        multi_rl_module_class=multi_cls,
        observation_space=gym.spaces.Box(-1.0, 1.0, (4,)),
        action_space=gym.spaces.Discrete(2),
        model_config={"feature_dim": FEATURE_DIM, "encoder_hidden_dim": 32},
        rl_module_specs={
            "p0": RLModuleSpec(module_class=policy_cls,
                               model_config={"feature_dim": FEATURE_DIM, "hidden_dim": 64}),
            "p1": RLModuleSpec(module_class=policy_cls,
                               model_config={"feature_dim": FEATURE_DIM, "hidden_dim": 8}),
        },
    )
    multi = spec.build()
    batch = {mid: {Columns.OBS: torch.rand(3, 4)} for mid in ("p0", "p1")}
    out = multi.forward_train(batch)
    loss = sum(o[Columns.ACTION_DIST_INPUTS].sum() for o in out.values())
    loss.backward()
    # The shared encoder gets gradients from both policies.
    assert multi._shared_encoder[0].weight.grad is not None
    acted = compute_actions(multi, batch, explore=True)
    assert set(acted) == {"p0", "p1"}
    assert acted["p1"][Columns.ACTIONS].shape == (3,)


# The seed builds tensors from a list of arrays, which torch warns is slow.
@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_api_reference_sampling_training_and_inference_loops():
    from rlmodules.plugins import DefaultPPOTorchRLModule as PPOTorchRLModule
    from rlmodules.plugins import PPOCatalog
    from rlmodules import RLModuleSpec
    import gymnasium as gym
    import torch

    env = gym.make("CartPole-v1")

    # Create a single agent RL module spec.
    with pytest.warns(DeprecationWarning, match="model_config_dict"):
        module_spec = RLModuleSpec(
            module_class=PPOTorchRLModule,
            observation_space=env.observation_space,
            action_space=env.action_space,
            # seed fix: the seed's key "hidden" is not a model-config field.
            model_config_dict = {"fcnet_hiddens": [128, 128]},
            catalog_class = PPOCatalog,
        )
    module = module_spec.build()
    action_dist_class = module.get_inference_action_dist_cls()
    obs, info = env.reset(seed=0)
    terminated = False
    truncated = False  # seed fix: the seed loops until termination only
    steps = 0

    while not terminated and not truncated:
        fwd_ins = {"obs": torch.Tensor([obs])}
        fwd_outputs = module.forward_exploration(fwd_ins)
        # this can be either deterministic or stochastic distribution
        action_dist = action_dist_class.from_logits(
            fwd_outputs["action_dist_inputs"]
        )
        action = action_dist.sample()[0].numpy()
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
    assert steps >= 1

    # Example for training.
    fwd_ins = {"obs": torch.Tensor([obs])}
    fwd_outputs = module.forward_train(fwd_ins)
    assert fwd_outputs["action_dist_inputs"].requires_grad

    # Example for inference.
    obs, info = env.reset(seed=1)
    terminated = truncated = False
    while not terminated and not truncated:
        fwd_ins = {"obs": torch.Tensor([obs])}
        fwd_outputs = module.forward_inference(fwd_ins)
        action_dist = action_dist_class.from_logits(
            fwd_outputs["action_dist_inputs"]
        )
        action = action_dist.sample()[0].numpy()
        obs, reward, terminated, truncated, info = env.step(action)


def test_api_reference_typo_gets_a_did_you_mean():
    import gymnasium as gym
    from rlmodules import ConfigError, RLModuleSpec

    env = gym.make("CartPole-v1")
    spec = RLModuleSpec(module_class="ppo", observation_space=env.observation_space,
                        action_space=env.action_space, model_config={"hidden": [128, 128]})
    with pytest.raises(ConfigError, match="unknown model config key 'hidden'.*Did you mean 'fcnet_hiddens'"):
        spec.build()
