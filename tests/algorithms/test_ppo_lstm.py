"""With rlmodules-lstm installed: memory pays off on CartPole without velocities."""

import pytest
from rlmodules import registry
from rlmodules.algorithms import PPOConfig

STEPS = 60_000
#: One seed's return after 60k steps swings by a factor of two; two seeds' mean does not.
SEEDS = (0, 1)


def _train(model_config, module_class=None, seed=0):
    config = (
        PPOConfig()
        .environment("rlmodules.envs:StatelessCartPole")
        .env_runners(num_envs_per_env_runner=8, num_threads=1)
        # A shared recurrent trunk needs a small value-loss weight (RLlib's stateless
        # CartPole example uses 0.01) and no gradient-norm clipping to learn quickly.
        .training(lr=1e-3, train_batch_size=1024, minibatch_size=256, num_epochs=10,
                  gamma=0.99, lambda_=0.95, vf_loss_coeff=0.01, vf_clip_param=10.0,
                  grad_clip=None)
        .rl_module(model_config=model_config)
        .debugging(seed=seed)
    )
    if module_class is not None:
        from rlmodules import RLModuleSpec

        config.rl_module(rl_module_spec=RLModuleSpec(module_class=module_class))
    algo = config.build()
    while algo.timesteps < STEPS:
        result = algo.train()
    algo.stop()
    return result["episode_return_mean"]


@pytest.mark.slow
def test_lstm_module_beats_the_memoryless_module_without_velocities():
    if "lstm" not in [record.name for record in registry.list("module")]:
        pytest.skip("rlmodules-lstm is not installed")
    memoryless = sum(_train({"fcnet_hiddens": [64, 64], "vf_share_layers": False}, seed=seed)
                     for seed in SEEDS) / len(SEEDS)
    with_memory = sum(_train({"lstm_cell_size": 64, "dense_layers": [64], "max_seq_len": 32},
                             module_class="lstm", seed=seed) for seed in SEEDS) / len(SEEDS)
    print(f"stateless CartPole after {STEPS} steps, mean of seeds {SEEDS}: "
          f"mlp {memoryless:.1f}, lstm {with_memory:.1f}")
    assert with_memory > 2 * memoryless and with_memory > 100, (memoryless, with_memory)
