"""A results table like the paper's Table S3 from `bench/atari.py` results: method x game.

Reads any number of ``atari.json`` files and groups their runs by method, game and setting, so that
the seeds of one setting, run by one bench command or by several, make one row. A setting is the
run's resolved ``config.json`` (the seed, run directory, time budget and logging aside), not only the
flags given: the same flags under older defaults (say ``--algo n-step-q`` before its defaults
changed) are another setting, and such rows name the settings in which they differ. A row has the
evaluation's mean ± std over seeds (the std of the per-seed means; each seed's own evaluation is the
protocol's episodes, no-op starts), the frames and frames/s of the runs, the game's random and human
scores and the human-normalised mean. A bench's baseline (SB3 A2C or DQN) makes its own row for the
game. Runs that stopped early because their last 10 games reached the bench's ``--score`` are not
runs of the full budget: they make their own row, whose minutes are those they trained, marked
"stopped at" the score.

    python bench/table.py runs/h1-pong-*/atari.json runs/h1-breakout-*/atari.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from atari import BASELINES

from asyncrl.config import TrainConfig
from asyncrl.run import read_config
from asyncrl.scores import game_name, lookup

METHODS = {"a3c": "A3C", "one-step-q": "one-step Q", "one-step-sarsa": "one-step Sarsa", "n-step-q": "n-step Q"}
# Flags of the asyncrl command that differ between the seeds of one setting, and the config fields
# they set, with those that only say how a run is recorded or where it runs. Stopping at --score is
# not a setting either: a run that did stop gets its own row (below), one that did not ran the budget.
PER_RUN_FLAGS = {"--seed", "--run-dir", "--max-seconds", "--log-interval", "--env", "--stop-at-return",
                 "--stop-episodes"}
PER_RUN_FIELDS = {"run.seed", "run.run_dir", "run.max_seconds", "run.log_interval", "run.checkpoint_interval",
                  "run.backend", "run.address", "env.env_id", "run.stop_at_return", "run.stop_episodes"}


def method_of(config: TrainConfig) -> str:
    name = METHODS.get(config.algo.algo, config.algo.algo)
    if config.algo.algo == "a3c":
        name += " LSTM" if config.net.core == "lstm" else " FF"
    return name


def setting_of(config: TrainConfig) -> tuple[tuple[str, str], ...]:
    """The resolved config as (group.field, value) pairs, without what differs between seeds."""
    return tuple((f"{group}.{name}", json.dumps(value)) for group, values in config.to_dict().items()
                 for name, value in values.items() if f"{group}.{name}" not in PER_RUN_FIELDS)


def setting_flags(command: str) -> str:
    """The train flags of an `asyncrl train` command that name the setting, not the run."""
    words = shlex.split(command)[2:]  # past "asyncrl train"
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in PER_RUN_FLAGS:
            skip = True
        else:
            kept.append(word)
    return " ".join(kept)


def _told_apart(groups: dict[tuple, list]) -> dict[tuple, str]:
    """Each group's flags, with the settings that differ from groups of the same method, game and flags."""
    shown = {}
    for method, env, flags, setting, stopped in groups:
        twins = [dict(s) for m, e, f, s, _ in groups if (m, e, f) == (method, env, flags)]
        mine = dict(setting)
        differing = sorted(k for k, v in mine.items() if any(t.get(k) != v for t in twins))
        shown[method, env, flags, setting, stopped] = flags + "".join(f" [{k} {mine[k]}]" for k in differing)
    return shown


def rows_of(paths: list[Path]) -> list[dict]:
    groups: dict[tuple, list[tuple[dict, dict]]] = defaultdict(list)
    for path in paths:
        result = json.loads(path.read_text())
        for run in result["asyncrl"]:
            config = read_config(path.parent / Path(run["run_dir"]).name)
            # A run stopped at --score trained for less than the budget: not a seed of the budget's row.
            stopped = result.get("score") if run.get("status") == "return_reached" else None
            key = (method_of(config), result["env"], setting_flags(run["command"]) or "(defaults)",
                   setting_of(config), stopped)
            groups[key].append((result, run))
        for run in result.get("baseline") or []:
            key = (BASELINES.get(result["baseline_name"], result["baseline_name"]), result["env"], "", (), None)
            groups[key].append((result, run))
    shown = _told_apart(groups)
    rows = []
    for key, runs in groups.items():
        method, env, _, _, stopped = key
        flags = shown[key]
        means = [run["evaluation"]["mean"] for _, run in runs]
        reference = lookup(env)
        mean = statistics.mean(means)
        rows.append({
            "method": method, "game": game_name(env), "flags": flags,
            "seeds": sorted(run["seed"] for _, run in runs),
            "minutes": sorted({result["minutes"] for result, _ in runs}),
            "stopped_at": stopped,
            "train_minutes": statistics.mean(run.get("train_seconds", 60 * result["minutes"]) / 60
                                             for result, run in runs),
            "episodes": sorted({run["evaluation"]["episodes"] for _, run in runs}),
            "mean": mean, "std": statistics.pstdev(means) if len(means) > 1 else None,
            "frames": statistics.mean(run["frames"] for _, run in runs),
            "fps": statistics.mean(run["frames_per_second"] for _, run in runs),
            "random": reference.random if reference else None,
            "human": reference.human if reference else None,
            "normalized": reference.normalize(mean) if reference else None,
            "commands": sorted({result["command"] for result, _ in runs}),
        })
    return sorted(rows, key=lambda r: (r["game"], r["method"], r["flags"]))


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def markdown(rows: list[dict]) -> str:
    lines = [("| game | method | asyncrl flags | seeds | minutes | evaluation, mean ± std over seeds | "
              "frames (mean) | frames/s | random | human | human-normalised |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        episodes = "/".join(str(e) for e in r["episodes"])
        minutes = "/".join(f"{m:g}" for m in r["minutes"])
        if r["stopped_at"] is not None:
            minutes = f"{r['train_minutes']:.1f} of {minutes}, stopped at {r['stopped_at']:g}"
        lines.append(
            f"| {r['game']} | {r['method']} | {r['flags'] or '–'} | {', '.join(map(str, r['seeds']))} | "
            f"{minutes} | {_num(r['mean'])}{'' if r['std'] is None else ' ± ' + _num(r['std'])} "
            f"({episodes} episodes each) | {r['frames']:,.0f} | {r['fps']:,.0f} | {_num(r['random'])} | "
            f"{_num(r['human'])} | {_num(r['normalized'])} % |")
    commands = sorted({c for r in rows for c in r["commands"]})
    lines += ["", "Commands:", *(f"- `{c}`" for c in commands)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, nargs="+", help="atari.json files written by bench/atari.py")
    args = parser.parse_args()
    missing = [str(p) for p in args.results if not p.is_file()]
    if missing:
        parser.exit(2, f"table.py: no such results file: {', '.join(missing)}\n")
    print(markdown(rows_of(args.results)))


if __name__ == "__main__":
    main()
