"""The PPO math on hand-computed examples."""

import numpy as np
import pytest
import torch
from rlmodules.algorithms.layout import sequence_chunks
from rlmodules.algorithms.ppo_math import (
    clipped_surrogate_loss,
    compute_gae,
    masked_mean,
    normalize_advantages,
    value_loss,
)
from rlmodules.algorithms.schedules import schedule_value


def _gae(terminated, truncated, mask, values=(1.0, 2.0, 3.0, 4.0, 5.0)):
    col = lambda xs, dtype: np.array(xs, dtype=dtype).reshape(-1, 1)  # noqa: E731
    return compute_gae(
        col([1.0, 2.0, 0.0, 3.0], np.float32), col(values, np.float32),
        col(terminated, bool), col(truncated, bool), col(mask, bool),
        gamma=0.5, lambda_=0.5,
    )


def test_gae_truncation_bootstraps_from_the_final_observation():
    # Step 1 is truncated; row 2 is the reset step (masked) holding the final observation.
    adv, targets = _gae([0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 1])
    # t=3: 3 + .5*5 - 4 = 1.5; t=2 masked; t=1: 2 + .5*V(final)=3 - 2 = 1.5 (no chaining);
    # t=0: (1 + .5*2 - 1) + .5*.5*1.5 = 1.375
    np.testing.assert_allclose(adv[:, 0], [1.375, 1.5, 0.0, 1.5])
    np.testing.assert_allclose(targets[:, 0], [2.375, 3.5, 0.0, 5.5])


def test_gae_termination_does_not_bootstrap():
    adv, _ = _gae([0, 1, 0, 0], [0, 0, 0, 0], [1, 1, 0, 1])
    np.testing.assert_allclose(adv[:, 0], [1.0, 0.0, 0.0, 1.5])


def test_gae_with_zero_values_is_the_lambda_discounted_return():
    adv, _ = _gae([0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], values=(0, 0, 0, 0, 0))
    gl = 0.25
    np.testing.assert_allclose(adv[:, 0], [1 + gl * 2 + gl**3 * 3, 2 + gl**2 * 3, gl * 3, 3])


def test_masked_mean_ignores_masked_entries_and_never_divides_by_zero():
    x = torch.tensor([1.0, 2.0, 100.0])
    assert masked_mean(x, torch.tensor([True, True, False])).item() == pytest.approx(1.5)
    assert masked_mean(x, torch.zeros(3, dtype=torch.bool)).item() == 0.0
    assert masked_mean(x, None).item() == pytest.approx(103 / 3)


def test_normalize_advantages_uses_only_unmasked_entries():
    adv = torch.tensor([1.0, 3.0, 50.0])
    out = normalize_advantages(adv, torch.tensor([True, True, False]))
    np.testing.assert_allclose(out.numpy(), [-1.0, 1.0, 0.0], atol=1e-6)


def test_clipped_surrogate_takes_the_pessimistic_bound():
    old = torch.zeros(2)
    logp = torch.log(torch.tensor([1.5, 0.5]))  # ratios 1.5 and 0.5
    loss, ratio = clipped_surrogate_loss(logp, old, torch.tensor([1.0, -1.0]), 0.2)
    # positive advantage: min(1.5, 1.2) = 1.2; negative: min(-0.5, -0.8) = -0.8
    np.testing.assert_allclose(loss.numpy(), [-1.2, 0.8], rtol=1e-6)
    np.testing.assert_allclose(ratio.numpy(), [1.5, 0.5], rtol=1e-6)


def test_clipped_surrogate_matches_the_min_form_in_value_and_gradient():
    generator = torch.Generator().manual_seed(0)
    advantages = torch.randn(512, generator=generator)
    old = torch.randn(512, generator=generator) * 0.1
    logp = (old + torch.randn(512, generator=generator) * 0.3).requires_grad_()
    loss, _ = clipped_surrogate_loss(logp, old, advantages, 0.2)
    (grad,) = torch.autograd.grad(loss.sum(), logp)
    logp_ref = logp.detach().clone().requires_grad_()
    ratio = torch.exp(logp_ref - old)
    reference = -torch.min(ratio * advantages, ratio.clamp(0.8, 1.2) * advantages)
    (grad_ref,) = torch.autograd.grad(reference.sum(), logp_ref)
    torch.testing.assert_close(loss, reference)
    torch.testing.assert_close(grad, grad_ref)
    assert (grad == 0).any() and (grad != 0).any()  # both clipped and unclipped samples


def test_value_loss_is_the_mean_squared_error_optionally_capped_and_masked():
    values, targets = torch.tensor([0.0, 1.0]), torch.tensor([3.0, 1.5])
    assert value_loss(values, targets, None).item() == pytest.approx((9.0 + 0.25) / 2)
    assert value_loss(values, targets, 4.0).item() == pytest.approx((4.0 + 0.25) / 2)
    only_first = torch.tensor([True, False])
    assert value_loss(values, targets, None, only_first).item() == pytest.approx(9.0)
    assert value_loss(values, targets, 4.0, only_first).item() == pytest.approx(4.0)


def test_piecewise_linear_schedule():
    schedule = [[0, 1.0], [100, 0.0], [200, 0.5]]
    assert [schedule_value(schedule, t) for t in (0, 50, 100, 150, 300)] == [1.0, 0.5, 0.0,
                                                                            0.25, 0.5]
    assert schedule_value(3e-4, 10**9) == 3e-4


def test_sequence_chunks_split_episodes_and_pad():
    # One slot: steps 0 and 2 valid, step 1 is a reset step: segments [0, 1] and [2, 3].
    index, seq_lens = sequence_chunks(np.array([[1], [0], [1]], dtype=bool), 2)
    assert index.tolist() == [[0, 1], [2, 3]]
    assert seq_lens.tolist() == [2, 2]
    # Two slots, no episode end, T = 4 -> 5 grid rows per slot chunked by 2.
    index, seq_lens = sequence_chunks(np.ones((4, 2), dtype=bool), 2)
    assert index.tolist() == [[0, 2], [4, 6], [8, -1], [1, 3], [5, 7], [9, -1]]
    assert seq_lens.tolist() == [2, 2, 1, 2, 2, 1]
