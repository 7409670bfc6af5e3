"""Algorithm plug-ins: each says how it acts and what the loss of a segment is.

An algorithm (``asyncrl.algos.base.Algorithm``) has a ``head`` (which network head it needs),
``act(net, obs, deterministic)`` and ``loss(net, segment, target_net) -> (loss, stats)``. The
learner loop in ``asyncrl.learner`` is shared by all.
"""

from __future__ import annotations

from asyncrl.algos.a3c import A3C
from asyncrl.algos.base import Algorithm
from asyncrl.algos.q import QLearning
from asyncrl.algos.segment import Segment, discounted_returns
from asyncrl.config import AlgoConfig

REGISTRY: dict[str, type[Algorithm]] = {
    "a3c": A3C,
    "one-step-q": QLearning,
    "one-step-sarsa": QLearning,
    "n-step-q": QLearning,
}


def make_algorithm(config: AlgoConfig) -> Algorithm:
    return REGISTRY[config.algo](config)


__all__ = ["A3C", "REGISTRY", "Algorithm", "QLearning", "Segment", "discounted_returns", "make_algorithm"]
