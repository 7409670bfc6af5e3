"""Shared RMSProp and the learning-rate schedule (paper notes, section 'Optimisation').

    g <- alpha * g + (1 - alpha) * dtheta^2
    theta <- theta - lr * dtheta / sqrt(g + eps)

One running average g is shared by every learner (the paper found shared statistics the most
robust choice). Epsilon sits inside the square root, as in the authors' implementation and PFRL's
``RMSpropEpsInsideSqrt``; ``torch.optim.RMSprop`` adds it outside, so it is not used here.
Updates are applied lock-free to parameters in shared memory (Hogwild).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch


class SharedRMSprop:
    """RMSProp whose parameters and squared-gradient statistics live in shared memory."""

    def __init__(self, params: Iterable[torch.Tensor], alpha: float = 0.99, eps: float = 0.1,
                 square_avg: list[torch.Tensor] | None = None, init: float = 0.0):
        """``square_avg`` attaches to statistics that already exist (a learner's view of shared ones);
        otherwise they start at ``init``. From 0 (PyTorch's RMSProp) the first updates are
        ``1 / sqrt(1 - alpha)`` = 10 times the learning rate per parameter when epsilon is small;
        from 1 (TensorFlow's RMSProp, which A2C in OpenAI Baselines used) they start small and grow
        as g decays to the gradients' scale: a warm-up of a few hundred updates."""
        self.params = list(params)
        self.alpha = alpha
        self.eps = eps
        if square_avg is None:
            square_avg = [torch.full_like(p, init, memory_format=torch.preserve_format) for p in self.params]
        self.square_avg = square_avg

    def share_memory(self) -> SharedRMSprop:
        for p in self.params:
            p.share_memory_()
        for g in self.square_avg:
            g.share_memory_()
        return self

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor], lr: float, measure: bool = False) -> float | None:
        """Apply one learner's accumulated gradients to the shared parameters, without locking.

        With ``measure`` it returns the update's size relative to the parameters, ||dtheta|| / ||theta||
        (a diagnostic: it says whether steps are too small to move the policy, or large enough to
        wreck it), at the cost of one more pass over the parameters.
        """
        update_sq = param_sq = 0.0
        for p, g, grad in zip(self.params, self.square_avg, grads, strict=True):
            g.mul_(self.alpha).addcmul_(grad, grad, value=1.0 - self.alpha)
            denom = (g + self.eps).sqrt_()
            if measure:
                update_sq += float((grad / denom).pow(2).sum())
                param_sq += float(p.pow(2).sum())
            # One way of applying it, measured or not: which updates are measured depends on the
            # clock, and a different rounding there would make a seed's run differ from itself.
            p.addcdiv_(grad, denom, value=-lr)
        if not measure:
            return None
        return lr * update_sq ** 0.5 / max(param_sq ** 0.5, 1e-12)

    def state_dict(self) -> dict:
        return {"square_avg": [g.clone() for g in self.square_avg], "alpha": self.alpha, "eps": self.eps}

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        for g, saved in zip(self.square_avg, state["square_avg"], strict=True):
            g.copy_(saved)


def linear_lr(initial: float, frames: int, total_frames: int, anneal: bool = True,
              warmup_frames: int = 0) -> float:
    """The paper's schedule: the learning rate falls linearly from ``initial`` to 0 over training;
    with ``warmup_frames``, it first rises linearly from 0 over those frames (the product of both)."""
    lr = initial * max(0.0, 1.0 - frames / total_frames) if anneal else initial
    if warmup_frames > 0:
        lr *= min(1.0, frames / warmup_frames)
    return lr
