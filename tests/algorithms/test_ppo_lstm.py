"""With rlmodules-lstm installed: memory pays off on CartPole without velocities."""

import json
from pathlib import Path

import pytest
from rlmodules import registry
from rlmodules.algorithms import PPOConfig

#: The README's example: the settings and the LSTM module this check proves.
EXAMPLE = Path(__file__).parents[2] / "examples" / "stateless_cartpole_lstm.json"
STEPS = 60_000
#: One seed's return after 60k steps swings by a factor of two; two seeds' mean does not.
SEEDS = (0, 1)
MEMORYLESS = {"model_config": {"fcnet_hiddens": [64, 64], "vf_share_layers": False}}


def _train(rl_module, seed):
    settings = dict(json.loads(EXAMPLE.read_text()), rl_module=rl_module)
    algo = (PPOConfig().update_from_dict(settings).env_runners(num_threads=1)
            .debugging(seed=seed).build())
    while algo.timesteps < STEPS:
        result = algo.train()
    algo.stop()
    return result["episode_return_mean"]


@pytest.mark.slow
def test_lstm_module_beats_the_memoryless_module_without_velocities():
    if "lstm" not in [record.name for record in registry.list("module")]:
        pytest.skip("rlmodules-lstm is not installed")
    lstm = json.loads(EXAMPLE.read_text())["rl_module"]
    assert lstm["module_class"] == "lstm"
    memoryless = sum(_train(MEMORYLESS, seed) for seed in SEEDS) / len(SEEDS)
    with_memory = sum(_train(lstm, seed) for seed in SEEDS) / len(SEEDS)
    print(f"stateless CartPole after {STEPS} steps, mean of seeds {SEEDS}: "
          f"mlp {memoryless:.1f}, lstm {with_memory:.1f}")
    assert with_memory > 2 * memoryless and with_memory > 100, (memoryless, with_memory)
