"""LSTMEncoder: an LSTM over another encoder's features, with RLlib's state convention.

State is ``{"h": [B, H], "c": [B, H]}`` (unbatched ``[H]`` from ``get_initial_state``);
observations are ``[B, T, ...]``; an optional ``seq_lens`` ``[B]`` marks positions
``>= seq_len`` as padding, which then affects neither the outputs at valid positions nor the
returned state (the sequences are packed).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from rlmodules.columns import Columns
from rlmodules.errors import BatchError, ConfigError, SpaceError
from rlmodules.networks import ENCODER_OUT, Encoder, Init, initializer
from torch import nn

__all__ = ["LSTMEncoder", "action_width"]


def action_width(space: gym.Space) -> int:
    """Width of the encoded previous action (one-hot for discrete spaces)."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return int(space.nvec.sum())
    if isinstance(space, (gym.spaces.Box, gym.spaces.MultiBinary)) and len(space.shape) == 1:
        return int(space.shape[0])
    raise SpaceError(
        f"lstm_use_prev_action supports Discrete, MultiDiscrete and 1-D Box / MultiBinary "
        f"action spaces, got {space}; set lstm_use_prev_action=False"
    )


def _encode_actions(space: gym.Space, actions: torch.Tensor) -> torch.Tensor:
    if isinstance(space, gym.spaces.Discrete):
        return nn.functional.one_hot(actions.long() - int(space.start), int(space.n)).float()
    if isinstance(space, gym.spaces.MultiDiscrete):
        return torch.cat([
            nn.functional.one_hot(actions[..., i].long() - int(space.start[i]), int(n)).float()
            for i, n in enumerate(space.nvec)
        ], dim=-1)
    return actions.float()


class LSTMEncoder(Encoder):
    """``tokenizer`` (any stateless encoder) -> [prev action, prev reward] -> one LSTM layer.

    ``forward({"obs": [B, T, ...], "state_in": {"h", "c"}, "seq_lens"?: [B],
    "prev_actions"?, "prev_rewards"?})`` returns ``encoder_out`` ``[B, T, cell_size]`` (zeros
    at padding) and ``state_out`` (the state after each sequence's last valid step).
    Training chunks (batches with ``seq_lens``) may be at most ``max_seq_len`` steps long.
    ``kernel_init`` / ``bias_init`` initialise the LSTM's weights and biases (``None``:
    torch's default).

    Example::

        encoder = LSTMEncoder(mlp_encoder, cell_size=64)
        state = {k: v.expand(B, -1) for k, v in encoder.get_initial_state().items()}
        out = encoder({"obs": obs_BxTxD, "state_in": state})
    """

    def __init__(
        self,
        tokenizer: Encoder,
        *,
        cell_size: int = 256,
        max_seq_len: int = 20,
        action_space: gym.Space | None = None,
        use_prev_action: bool = False,
        use_prev_reward: bool = False,
        kernel_init: Init | None = None,
        bias_init: Init | None = None,
    ) -> None:
        super().__init__()
        if use_prev_action and action_space is None:
            raise ConfigError("lstm_use_prev_action=True needs the action space; pass action_space")
        self.tokenizer = tokenizer
        self.action_space = action_space if use_prev_action else None
        self.use_prev_reward = use_prev_reward
        self.max_seq_len = max_seq_len
        input_dim = tokenizer.output_dim + int(use_prev_reward)
        if self.action_space is not None:
            input_dim += action_width(self.action_space)
        self.lstm = nn.LSTM(input_dim, cell_size, batch_first=True)
        self._initialize(kernel_init, bias_init)
        self.output_dim = cell_size

    @classmethod
    def from_model_config(
        cls, tokenizer: Encoder, model_config: Any, *, action_space: gym.Space | None = None
    ) -> LSTMEncoder:
        """The encoder a ``DefaultModelConfig`` describes (``lstm_*``, ``max_seq_len``);
        weights keep torch's LSTM initialisation unless the config names initializers."""
        return cls(
            tokenizer,
            cell_size=model_config.lstm_cell_size,
            max_seq_len=model_config.max_seq_len,
            action_space=action_space,
            use_prev_action=model_config.lstm_use_prev_action,
            use_prev_reward=model_config.lstm_use_prev_reward,
            kernel_init=initializer(model_config.lstm_kernel_initializer,
                                    model_config.lstm_kernel_initializer_kwargs),
            bias_init=initializer(model_config.lstm_bias_initializer,
                                  model_config.lstm_bias_initializer_kwargs),
        )

    def _initialize(self, kernel_init: Init | None, bias_init: Init | None) -> None:
        with torch.no_grad():
            for name, param in self.lstm.named_parameters():
                init = kernel_init if name.startswith("weight") else bias_init
                if init is not None:
                    init(param)

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        weight = next(self.lstm.parameters())
        zeros = torch.zeros(self.output_dim, dtype=weight.dtype, device=weight.device)
        return {"h": zeros, "c": zeros.clone()}

    def forward(self, batch: Any) -> dict[str, Any]:
        inputs = self._inputs(batch)  # [B, T, D]
        batch_size, steps = inputs.shape[:2]
        h, c = self._state_in(batch, batch_size)
        seq_lens = batch.get(Columns.SEQ_LENS)
        lengths = None if seq_lens is None else self._lengths(seq_lens, batch_size, steps)
        if lengths is None or bool((lengths == steps).all()):
            out, (h, c) = self.lstm(inputs, (h.unsqueeze(0), c.unsqueeze(0)))
        else:
            packed = nn.utils.rnn.pack_padded_sequence(
                inputs, lengths, batch_first=True, enforce_sorted=False
            )
            packed_out, (h, c) = self.lstm(packed, (h.unsqueeze(0), c.unsqueeze(0)))
            out, _ = nn.utils.rnn.pad_packed_sequence(
                packed_out, batch_first=True, total_length=steps
            )
        return {ENCODER_OUT: out, Columns.STATE_OUT: {"h": h.squeeze(0), "c": c.squeeze(0)}}

    # --- input checks and assembly --------------------------------------------------------
    def _inputs(self, batch: Any) -> torch.Tensor:
        tokens = self.tokenizer({Columns.OBS: batch[Columns.OBS]})[ENCODER_OUT]
        if tokens.dim() != 3:
            raise BatchError(
                f"a recurrent module needs observations as [B, T, ...] (got shape "
                f"{tuple(batch[Columns.OBS].shape)}); rlmodules.compute_actions adds the time "
                f"axis when acting"
            )
        parts = [tokens]
        if self.action_space is not None:
            parts.append(_encode_actions(self.action_space, self._column(batch, tokens,
                                                                         Columns.PREV_ACTIONS)))
        if self.use_prev_reward:
            rewards = self._column(batch, tokens, Columns.PREV_REWARDS)
            parts.append(rewards.float().reshape(*tokens.shape[:2], 1))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else tokens

    @staticmethod
    def _column(batch: Any, tokens: torch.Tensor, key: str) -> torch.Tensor:
        value = batch.get(key)
        if value is None:
            flag = "lstm_use_prev_action" if key == Columns.PREV_ACTIONS else "lstm_use_prev_reward"
            raise BatchError(
                f"{flag}=True: the batch needs a {key!r} column [B, T, ...] (the previous "
                f"step's value, zeros at an episode start); it has {sorted(batch)}"
            )
        value = torch.as_tensor(value, device=tokens.device)
        if tuple(value.shape[:2]) != tuple(tokens.shape[:2]):
            raise BatchError(
                f"{key!r} has shape {tuple(value.shape)}, but the observations are "
                f"[B, T] = {list(tokens.shape[:2])}; it must start with the same [B, T]"
            )
        return value

    def _state_in(self, batch: Any, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        state = batch.get(Columns.STATE_IN)
        if state is None or "h" not in state or "c" not in state:
            raise BatchError(
                f"a recurrent module needs 'state_in' = {{'h': [B, {self.output_dim}], 'c': "
                f"[B, {self.output_dim}]}} (got {None if state is None else sorted(state)}); "
                f"start an episode from module.get_initial_state() stacked over the batch"
            )
        expected = (batch_size, self.output_dim)
        for key in ("h", "c"):
            if tuple(state[key].shape) != expected:
                raise BatchError(
                    f"state_in[{key!r}] has shape {tuple(state[key].shape)}, expected "
                    f"[B, cell_size] = {list(expected)}"
                )
        return state["h"], state["c"]

    def _lengths(self, seq_lens: Any, batch_size: int, steps: int) -> torch.Tensor:
        lengths = torch.as_tensor(seq_lens).to("cpu", torch.int64)
        if tuple(lengths.shape) != (batch_size,):
            raise BatchError(
                f"seq_lens must have shape [B] = [{batch_size}], got {tuple(lengths.shape)}"
            )
        low, high = int(lengths.min()), int(lengths.max())
        if low < 1 or high > steps:
            raise BatchError(
                f"seq_lens must be in 1..T = 1..{steps} (the time axis of the batch), got "
                f"values from {low} to {high}"
            )
        if high > self.max_seq_len:
            raise BatchError(
                f"seq_lens up to {high} exceed max_seq_len={self.max_seq_len}; split episodes "
                f"into chunks of at most max_seq_len steps or raise max_seq_len in the model config"
            )
        return lengths
