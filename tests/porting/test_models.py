"""rlmodules.models: RLlib's model configs build working torch models."""

from __future__ import annotations

import pytest
import torch
from rlmodules import Columns, ConfigError
from rlmodules.models import (
    ACTOR,
    CRITIC,
    ENCODER_OUT,
    ActorCriticEncoderConfig,
    CNNEncoderConfig,
    FreeLogStdMLPHeadConfig,
    MLPEncoderConfig,
    MLPHeadConfig,
    RecurrentEncoderConfig,
)


def test_mlp_head_and_free_log_std_head():
    head = MLPHeadConfig(input_dims=[6], hidden_layer_dims=[8], hidden_layer_use_layernorm=True,
                         output_layer_dim=4).build(framework="torch")
    assert head(torch.zeros(3, 6)).shape == (3, 4)
    free = FreeLogStdMLPHeadConfig(input_dims=[6], hidden_layer_dims=[8],
                                   output_layer_dim=4).build(framework="torch")
    out = free(torch.randn(3, 6))
    assert out.shape == (3, 4) and torch.equal(out[:, 2:], torch.zeros(3, 2))
    assert "log_std" in dict(free.named_parameters())
    with pytest.raises(ConfigError, match="needs an even output_layer_dim"):
        FreeLogStdMLPHeadConfig(input_dims=[6], output_layer_dim=3).build()
    with pytest.raises(ConfigError, match=r"build\(framework='tf2'\): only 'torch'"):
        MLPHeadConfig(input_dims=[6], output_layer_dim=3).build(framework="tf2")
    with pytest.raises(ConfigError, match=r"MLPHeadConfig needs input_dims, e.g. \[32\]"):
        MLPHeadConfig(output_layer_dim=3).build()


@pytest.mark.parametrize("filters", [[[16, 4, 2], [32, 4, 2]], [[8, 3, 1, "valid"]],
                                     [[8, 3, 2, 1]]])
def test_cnn_encoder_output_dims_match_its_output(filters):
    config = CNNEncoderConfig(input_dims=[21, 17, 3], cnn_filter_specifiers=filters,
                              cnn_use_layernorm=True)
    encoder = config.build(framework="torch")
    out = encoder({Columns.OBS: torch.rand(2, 21, 17, 3)})[ENCODER_OUT]
    assert out.shape == (2, *config.output_dims) and encoder.output_dim == config.output_dims[0]


def test_recurrent_encoder_carries_state():
    encoder = RecurrentEncoderConfig(input_dims=[4], hidden_dim=8, num_layers=2,
                                     recurrent_layer_type="gru").build()
    state = {k: v.expand(3, *v.shape) for k, v in encoder.get_initial_state().items()}
    assert set(state) == {"h"} and state["h"].shape == (3, 2, 8)
    out = encoder({Columns.OBS: torch.randn(3, 5, 4), Columns.STATE_IN: state})
    assert out[ENCODER_OUT].shape == (3, 5, 8) and out[Columns.STATE_OUT]["h"].shape == (3, 2, 8)
    with pytest.raises(ConfigError, match="must be 'lstm' or 'gru', got 'rnn'"):
        RecurrentEncoderConfig(input_dims=[4], hidden_dim=8, recurrent_layer_type="rnn").build()


def test_actor_critic_encoder_shares_or_splits_and_drops_the_critic_for_inference():
    base = MLPEncoderConfig(input_dims=[4], hidden_layer_dims=[8])
    batch = {Columns.OBS: torch.randn(2, 4)}
    shared = ActorCriticEncoderConfig(base_encoder_config=base).build()
    out = shared(batch)[ENCODER_OUT]
    assert out[ACTOR] is out[CRITIC]
    split = ActorCriticEncoderConfig(base_encoder_config=base, shared=False).build()
    out = split(batch)[ENCODER_OUT]
    assert not torch.equal(out[ACTOR], out[CRITIC])
    lean = ActorCriticEncoderConfig(base_encoder_config=base, shared=False,
                                    inference_only=True).build()
    assert lean.critic_encoder is None
