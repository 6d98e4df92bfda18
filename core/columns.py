"""Standard batch column names, with RLlib's string values."""

from __future__ import annotations

__all__ = ["Columns"]


class Columns:
    """Keys of forward input and output batches (same strings as RLlib)."""

    OBS = "obs"
    INFOS = "infos"
    ACTIONS = "actions"
    ACTIONS_FOR_ENV = "actions_for_env"
    REWARDS = "rewards"
    TERMINATEDS = "terminateds"
    TRUNCATEDS = "truncateds"
    NEXT_OBS = "new_obs"
    EPS_ID = "eps_id"
    AGENT_ID = "agent_id"
    MODULE_ID = "module_id"
    T = "t"

    ACTION_DIST_INPUTS = "action_dist_inputs"
    ACTION_PROB = "action_prob"
    ACTION_LOGP = "action_logp"
    VF_PREDS = "vf_preds"
    VALUES_BOOTSTRAPPED = "values_bootstrapped"
    ADVANTAGES = "advantages"
    RETURNS_TO_GO = "returns_to_go"
    VALUE_TARGETS = "value_targets"
    INTRINSIC_REWARDS = "intrinsic_rewards"

    STATE_IN = "state_in"
    STATE_OUT = "state_out"
    NEXT_STATE_IN = "next_state_in"
    NEXT_STATE_OUT = "next_state_out"
    SEQ_LENS = "seq_lens"
    LOSS_MASK = "loss_mask"
    PREV_ACTIONS = "prev_actions"
    PREV_REWARDS = "prev_rewards"

    EMBEDDINGS = "embeddings"
    QF_PREDS = "qf_preds"
    QF_TARGET_NEXT_PREDS = "qf_target_next_preds"
