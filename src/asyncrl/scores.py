"""Reference Atari scores: random and human baselines, and the A3C paper's per-game results.

The table ships with the package (``asyncrl/data/atari_scores.csv``; its header names the source of
every column). Human-normalised score = 100 * (agent - random) / (human - random), in percent,
with the no-op-starts random and human baselines of Nature DQN (Mnih et al. 2015) and, for the
8 games it lacks, of the dueling-network paper (Wang et al. 2016).

The A3C paper's scores were measured with *human starts* (30 start states sampled from human
play, never published); ours use no-op starts, the reproducible protocol. The two are close in
spirit, not identical: compare orders of magnitude, not decimals.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources

# Column of the table -> how the paper names the agent.
PAPER_COLUMNS = {"a3c_ff_1day": "A3C FF, 1 day", "a3c_ff": "A3C FF", "a3c_lstm": "A3C LSTM"}


@dataclass(frozen=True)
class GameScores:
    game: str
    random: float
    human: float
    paper: dict[str, float]  # PAPER_COLUMNS key -> the paper's raw score (human starts)

    def normalize(self, score: float) -> float:
        """Human-normalised score in percent: 0 plays like random, 100 like the human tester."""
        return 100.0 * (score - self.random) / (self.human - self.random)


@functools.cache
def _table() -> dict[str, GameScores]:
    text = resources.files("asyncrl").joinpath("data/atari_scores.csv").read_text()
    rows = csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#"))))
    table = {}
    for row in rows:
        paper = {k: float(row[k]) for k in PAPER_COLUMNS if row.get(k)}
        table[row["game"].lower()] = GameScores(row["game"], float(row["random"]), float(row["human"]), paper)
    return table


def sources() -> list[str]:
    """The table's header comments: where each column comes from."""
    text = resources.files("asyncrl").joinpath("data/atari_scores.csv").read_text()
    return [line.lstrip("# ").rstrip() for line in text.splitlines() if line.startswith("#")]


def game_name(env_id: str) -> str:
    """ALE/Pong-v5, PongNoFrameskip-v4, ALE/Pong-ram-v5 -> Pong."""
    name = env_id.split(":")[-1].split("/")[-1]
    name = re.sub(r"-v\d+$", "", name)
    name = re.sub(r"(-ram)?(NoFrameskip|Deterministic)?(-ram)?$", "", name)
    return name


def lookup(env_id: str) -> GameScores | None:
    """The reference scores of the game ``env_id`` plays, or None outside the Atari-57 set."""
    return _table().get(game_name(env_id).lower())


def games() -> list[str]:
    return sorted(s.game for s in _table().values())
