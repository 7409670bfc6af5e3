"""Shared RMSProp: the paper's update with epsilon inside the square root, shared across processes."""

import pytest
import torch
import torch.multiprocessing as mp

from asyncrl.optim import SharedRMSprop, linear_lr


def test_update_matches_the_papers_formula_with_epsilon_inside_the_root():
    theta = torch.tensor([1.0, -2.0])
    opt = SharedRMSprop([theta], alpha=0.99, eps=0.1)
    grads = [torch.tensor([0.5, -3.0]), torch.tensor([0.1, 2.0])]
    g = torch.zeros(2)
    expected = theta.clone()
    for grad in grads:
        opt.step([grad], lr=0.01)
        g = 0.99 * g + 0.01 * grad**2
        expected = expected - 0.01 * grad / torch.sqrt(g + 0.1)
    torch.testing.assert_close(theta, expected)
    torch.testing.assert_close(opt.square_avg[0], g)


def _apply(params, square_avg, grad, steps):
    opt = SharedRMSprop(params, alpha=0.9, eps=0.1, square_avg=square_avg)
    for _ in range(steps):
        opt.step([grad], lr=0.05)


def test_two_processes_update_one_set_of_shared_parameters_and_statistics():
    ctx = mp.get_context("spawn")
    theta = torch.ones(3)
    opt = SharedRMSprop([theta], alpha=0.9, eps=0.1).share_memory()
    grads = [torch.tensor([1.0, 0.0, -1.0]), torch.tensor([0.5, 2.0, 0.0])]
    for grad in grads:  # one after the other, so the expected result is exact
        p = ctx.Process(target=_apply, args=([theta], opt.square_avg, grad, 10))
        p.start()
        p.join(timeout=60)
        assert p.exitcode == 0

    ref_theta = torch.ones(3)
    ref = SharedRMSprop([ref_theta], alpha=0.9, eps=0.1)
    for grad in grads:
        for _ in range(10):
            ref.step([grad], lr=0.05)
    torch.testing.assert_close(theta, ref_theta)
    torch.testing.assert_close(opt.square_avg[0], ref.square_avg[0])
    assert not torch.equal(theta, torch.ones(3))


def test_learning_rate_anneals_linearly_to_zero_over_the_budget():
    assert linear_lr(1e-3, 0, 1000) == 1e-3
    assert linear_lr(1e-3, 250, 1000) == 7.5e-4
    assert linear_lr(1e-3, 1000, 1000) == 0.0
    assert linear_lr(1e-3, 1200, 1000) == 0.0
    assert linear_lr(1e-3, 500, 1000, anneal=False) == 1e-3


def test_a_warm_up_raises_the_learning_rate_from_zero_and_then_hands_over_to_the_annealing():
    assert linear_lr(1e-3, 0, 1000, warmup_frames=100) == 0.0
    assert linear_lr(1e-3, 50, 1000, warmup_frames=100) == pytest.approx(0.5 * 1e-3 * 0.95)
    assert linear_lr(1e-3, 100, 1000, warmup_frames=100) == pytest.approx(1e-3 * 0.9)
    assert linear_lr(1e-3, 500, 1000, warmup_frames=100) == linear_lr(1e-3, 500, 1000)
    assert linear_lr(1e-3, 25, 1000, anneal=False, warmup_frames=100) == pytest.approx(2.5e-4)


def test_a_measured_update_is_the_same_update_and_reports_its_size_relative_to_the_parameters():
    grad = torch.tensor([0.5, -3.0, 1.0])
    plain, measured = torch.tensor([1.0, -2.0, 2.0]), torch.tensor([1.0, -2.0, 2.0])
    assert SharedRMSprop([plain], eps=0.1).step([grad], lr=0.01) is None
    ratio = SharedRMSprop([measured], eps=0.1).step([grad], lr=0.01, measure=True)
    torch.testing.assert_close(measured, plain)
    update = 0.01 * grad / torch.sqrt(0.01 * grad**2 + 0.1)
    before = torch.tensor([1.0, -2.0, 2.0])
    assert abs(ratio - torch.linalg.norm(update).item() / torch.linalg.norm(before).item()) < 1e-6


def test_statistics_started_at_one_make_the_first_updates_small_as_tensorflows_rmsprop_does():
    grad = torch.tensor([0.5, -3.0])
    from_zero, from_one = torch.zeros(2), torch.zeros(2)
    SharedRMSprop([from_zero], eps=1e-5).step([grad], lr=0.01)
    SharedRMSprop([from_one], eps=1e-5, init=1.0).step([grad], lr=0.01)
    # From 0, g = 0.01 grad^2 and the step is 10x the learning rate whatever the gradient.
    torch.testing.assert_close(from_zero, -0.01 * grad / torch.sqrt(0.01 * grad**2 + 1e-5))
    assert torch.allclose(from_zero.abs(), torch.full((2,), 0.1), rtol=1e-2)
    torch.testing.assert_close(from_one, -0.01 * grad / torch.sqrt(0.99 + 0.01 * grad**2 + 1e-5))
