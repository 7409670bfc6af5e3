"""The methods really learn: CartPole-v1 to a mean return of at least 195 over the last 20 episodes
(continuous A3C: InvertedPendulum-v5 to at least 800).

A3C FF on CartPole is judged at the end of its budget. A3C LSTM, the value-based methods and
continuous A3C run with ``stop_at_return`` and are judged by whether they get there within the
budget: their training returns can swing or collapse after they learn, or stall on the way, so the
end of a fixed budget can land in a dip (docs/algorithms/q.md and docs/algorithms/a3c.md have the
measurements).
"""

import csv
import json

import pytest

import asyncrl
from asyncrl import AlgoConfig, EnvConfig, NetConfig, RunConfig, TrainConfig

THRESHOLD, WINDOW = 195, 20


def episode_returns(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [float(row["return"]) for row in csv.DictReader(f)]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a3c_learns_cartpole_with_two_workers(tmp_path):
    config = TrainConfig(
        env=EnvConfig(env_id="CartPole-v1"),
        run=RunConfig(workers=2, frames=300_000, seed=1, run_dir=str(tmp_path / "run")),
    )
    run_dir = asyncrl.train(config, progress=False)
    returns = episode_returns(run_dir)[-WINDOW:]
    assert len(returns) == WINDOW
    assert sum(returns) / WINDOW >= THRESHOLD, returns


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.parametrize(
    "env_id, algo, net, seed, budget, threshold",
    [
        ("CartPole-v1", "a3c", NetConfig(core="lstm"), 1, 150_000, THRESHOLD),
        # 12 of 12 runs reached 800 within 53k-90k frames once the variance had its floor
        # (docs/algorithms/a3c.md); before, one run in seven collapsed.
        ("InvertedPendulum-v5", "a3c", NetConfig(obs_norm=True), 1, 400_000, 800),
        ("CartPole-v1", "one-step-q", NetConfig(), 2, 300_000, THRESHOLD),
        ("CartPole-v1", "one-step-sarsa", NetConfig(), 2, 300_000, THRESHOLD),
        ("CartPole-v1", "n-step-q", NetConfig(), 2, 300_000, THRESHOLD),
    ],
    ids=["a3c-lstm-cartpole", "a3c-gaussian-inverted-pendulum", "one-step-q-cartpole",
         "one-step-sarsa-cartpole", "n-step-q-cartpole"],
)
def test_reaches_the_threshold_with_two_workers_within_a_fixed_budget(tmp_path, env_id, algo, net, seed,
                                                                       budget, threshold):
    config = TrainConfig(
        env=EnvConfig(env_id=env_id),
        net=net,
        algo=AlgoConfig(algo=algo),
        run=RunConfig(workers=2, frames=budget, seed=seed, run_dir=str(tmp_path / "run"),
                      stop_at_return=threshold, stop_episodes=WINDOW),
    )
    run_dir = asyncrl.train(config, progress=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "return_reached", summary
    assert summary["frames"] <= budget
    # Check the trainer's decision from the episode log itself.
    returns = episode_returns(run_dir)
    means = [sum(returns[i - WINDOW : i]) / WINDOW for i in range(WINDOW, len(returns) + 1)]
    assert max(means) >= threshold, means[-5:]
