"""A3C really learns: CartPole-v1 to a mean return of at least 195 over its last 20 episodes."""

import csv

import pytest

import asyncrl
from asyncrl import EnvConfig, RunConfig, TrainConfig


def last_returns(run_dir, n):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [float(row["return"]) for row in csv.DictReader(f)][-n:]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a3c_learns_cartpole_with_two_workers(tmp_path):
    config = TrainConfig(
        env=EnvConfig(env_id="CartPole-v1"),
        run=RunConfig(workers=2, frames=300_000, seed=1, run_dir=str(tmp_path / "run")),
    )
    run_dir = asyncrl.train(config, progress=False)
    returns = last_returns(run_dir, 20)
    assert len(returns) == 20
    assert sum(returns) / 20 >= 195, returns
