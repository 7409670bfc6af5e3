"""Algorithm plug-ins: each says how it acts and what the loss of a segment is.

An algorithm has a ``head`` (which network head it needs), ``act(net, obs, deterministic)`` and
``loss(net, segment) -> (loss, stats)``. The learner loop in ``asyncrl.learner`` is shared by all.
"""

from __future__ import annotations

from asyncrl.algos.a3c import A3C
from asyncrl.algos.segment import Segment, discounted_returns
from asyncrl.config import AlgoConfig

REGISTRY = {"a3c": A3C}


def make_algorithm(config: AlgoConfig):
    return REGISTRY[config.algo](config)


__all__ = ["A3C", "REGISTRY", "Segment", "discounted_returns", "make_algorithm"]
