"""The methods really learn: CartPole-v1 to a mean return of at least 195 over the last 20 episodes
(continuous A3C: InvertedPendulum-v5 to at least 800).

Every run stops itself with ``stop_at_return`` and is judged by whether it gets there within the
budget: training returns can swing or collapse after learning, or stall on the way, so the end of
a fixed budget can land in a dip (docs/algorithms/q.md and docs/algorithms/a3c.md have the
measurements). A3C FF and A3C LSTM run twice: with the paper's learner and with learners that
step 4 environments each (``envs_per_worker``).
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
@pytest.mark.parametrize(
    "env_id, algo, net, envs, seed, budget, threshold",
    [
        ("CartPole-v1", "a3c", NetConfig(), 1, 1, 300_000, THRESHOLD),
        # A learner stepping 4 environments, its one update summing their 4 segments.
        ("CartPole-v1", "a3c", NetConfig(), 4, 1, 300_000, THRESHOLD),
        # At lr 3e-3 (now 1e-3) this run fell onto one action in CI and never left it (docs/experiments/small-tasks.md).
        ("CartPole-v1", "a3c", NetConfig(core="lstm"), 1, 1, 150_000, THRESHOLD),
        # Each of the 4 environments keeps its own LSTM state; one batched pass replays their segments.
        ("CartPole-v1", "a3c", NetConfig(core="lstm"), 4, 1, 300_000, THRESHOLD),
        # The continuous defaults (issue 18): runs of this setting reached 800 within 21k-23k frames
        # (docs/experiments/continuous-a3c.md); with the paper's Gaussian 17 of 18 did, within 47k-165k frames, and one
        # collapsed for its whole budget in CI (docs/experiments/small-tasks.md).
        ("InvertedPendulum-v5", "a3c", NetConfig(), 1, 1, 400_000, 800),
        ("CartPole-v1", "one-step-q", NetConfig(), 1, 2, 300_000, THRESHOLD),
        ("CartPole-v1", "one-step-sarsa", NetConfig(), 1, 2, 300_000, THRESHOLD),
        ("CartPole-v1", "n-step-q", NetConfig(), 1, 2, 300_000, THRESHOLD),
    ],
    ids=["a3c-cartpole", "a3c-4-envs-per-learner-cartpole", "a3c-lstm-cartpole",
         "a3c-lstm-4-envs-per-learner-cartpole", "a3c-gaussian-inverted-pendulum", "one-step-q-cartpole",
         "one-step-sarsa-cartpole", "n-step-q-cartpole"],
)
def test_reaches_the_threshold_with_two_workers_within_a_fixed_budget(tmp_path, env_id, algo, net, envs, seed,
                                                                       budget, threshold):
    config = TrainConfig(
        env=EnvConfig(env_id=env_id),
        net=net,
        algo=AlgoConfig(algo=algo),
        run=RunConfig(workers=2, envs_per_worker=envs, frames=budget, seed=seed, run_dir=str(tmp_path / "run"),
                      stop_at_return=threshold, stop_episodes=WINDOW),
    )
    run_dir = asyncrl.train(config, progress=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    returns = episode_returns(run_dir)
    means = [sum(returns[i - WINDOW : i]) / WINDOW for i in range(WINDOW, len(returns) + 1)]
    # A failure says how far the run got and where it ended, so a rare one in CI can be read.
    course = (f"{summary['frames']} frames, {len(returns)} episodes, best {WINDOW}-episode mean "
              f"{max(means, default=float('nan')):.1f}, last {[round(m, 1) for m in means[-5:]]}")
    assert summary["status"] == "return_reached", course
    assert summary["frames"] <= budget
    # Check the trainer's decision from the episode log itself.
    assert max(means) >= threshold, course
