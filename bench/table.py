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

With ``--page`` it prints ``docs/results.md`` instead: the results under today's defaults, from the
committed summaries in ``results/`` (``--results DIR``; results/README.md describes them): Atari
method x game after 60 minutes with the SB3 baselines beside, MuJoCo after its steps budget with SB3
A2C beside, and the speed against SB3 A2C. A run counts as today's defaults when its train flags
only name the method (or restate a default) and the settings it recorded are the ones `asyncrl
train` resolves today; the others are left out (docs/experiments has them). ``results_page()`` and
``readme_results()`` (the README's short table) are what docs/generate.py imports.

    python bench/table.py --page > docs/results.md
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import shlex
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from atari import BASELINES
from figure import BASELINE, FIVE_GAMES, five_games
from figure import METHODS as FIVE_GAMES_METHODS

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


def setting_words(command: str, per_run: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The words of an `asyncrl train` command that name the setting, not the run (``per_run``: more
    flags, with their values, to leave out)."""
    words = shlex.split(command)[2:]  # past "asyncrl train"
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in PER_RUN_FLAGS or word in per_run:
            skip = True
        else:
            kept.append(word)
    return kept


def setting_flags(command: str) -> str:
    """The train flags of an `asyncrl train` command that name the setting, not the run."""
    return " ".join(setting_words(command))


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


# --- docs/results.md from results/: today's defaults only ---------------------------------------

REPO = Path(__file__).resolve().parent.parent
PAGE_HEADER = "<!-- generated by docs/generate.py from results/ — do not edit -->"
NONE = "—"  # a value the results do not have
RESULT_KINDS = ("atari", "mujoco", "speed")
HEADLINE_GAMES = ("Pong", "Breakout", "SpaceInvaders")
HEADLINE_TASKS = ("HalfCheetah-v5", "Hopper-v5")
METHOD_ORDER = ("A3C FF", "A3C LSTM", "n-step Q", "one-step Q", "one-step Sarsa", "A3C", "A3C, the runs beside SB3 A2C")
Q_METHODS = ("n-step Q", "one-step Q", "one-step Sarsa")
# Settings in which a run may differ from today's defaults and still count as run under them, with
# the measurement that says the difference does not change what is learnt (it may change the speed:
# the speed table takes no such run).
EQUIVALENT = {
    "env.vector_env": (
        "run on Gymnasium's Atari pipeline, before ALE's vector environment became the default (2026-12-04, "
        "late evening). Counted under today's defaults because A3C FF learnt Breakout no less per frame with the "
        "vector environment (12-minute runs, seeds 0 and 1, in docs/experiments); the vector environment makes "
        "about 10 % more frames/s, so these runs' frames and frames/s are the pipeline's"),
}
# mujoco.py gives the steps budget as the run's --frames: a budget, like --max-seconds, not a setting.
MUJOCO_PER_RUN_FLAGS = frozenset({"--frames"})


def results_dir(root: Path) -> Path:
    """The results directory: ``root`` itself, or ``root/results`` when ``root`` is the repository."""
    root = Path(root)
    if not any((root / kind).is_dir() for kind in RESULT_KINDS) and (root / "results").is_dir():
        return root / "results"
    return root


def _files(results: Path, kind: str) -> list[Path]:
    return sorted((results / kind).glob("*.json"))


def _plain(value: Any) -> Any:
    """A setting's value as JSON holds it (tuples as lists)."""
    return json.loads(json.dumps(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return a == b


@functools.cache
def resolved(env_id: str, words: tuple[str, ...], continuous: bool) -> TrainConfig:
    """`asyncrl train --env ENV WORDS` as today's asyncrl resolves it (ConfigError, or SystemExit for a
    flag it no longer takes)."""
    import contextlib
    import io

    from asyncrl.cli import config_from_args, make_parser
    from asyncrl.config import resolve
    from asyncrl.envs import ActionSpec

    with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage message: the caller says what failed
        args = make_parser().parse_args(["train", "--env", env_id, *words])
    return resolve(config_from_args(args, TrainConfig()), ActionSpec(continuous=continuous, size=1))


def _flat(config: TrainConfig) -> dict[str, Any]:
    return {f"{group}.{name}": _plain(value) for group, values in config.to_dict().items()
            for name, value in values.items()}


@functools.cache
def _field_names() -> dict[str, str]:
    """A config field's bare name (as bench/atari.py records its settings) -> group.name."""
    return {key.split(".", 1)[1]: key for key in _flat(TrainConfig())}


def method_words(words: list[str]) -> list[str]:
    """The words of a command that choose the method: --algo and --net."""
    kept = []
    for i, word in enumerate(words):
        if word in ("--algo", "--net") and i + 1 < len(words):
            kept += [word, words[i + 1]]
        elif word.startswith(("--algo=", "--net=")):
            kept.append(word)
    return kept


def _cores(machine: str | None) -> int | None:
    """The cores of a machine as bench/common.py (``"2 cores, ..."``) or a hand entry (``"2-core ..."``) names it."""
    match = re.match(r"\s*(\d+)[ -]cores?\b", machine or "")
    return int(match.group(1)) if match else None


def today_differences(env_id: str, words: list[str], settings: dict | None, *, continuous: bool,
                      machine: str | None = None, trained: float | None = None,
                      equivalent: dict[str, str] = EQUIVALENT) -> tuple[list[str], set[str]]:
    """How a run's setting differs from today's defaults for its method (its --algo and --net): the
    differences that leave it out, and the ``equivalent`` settings in which it differs but still counts.

    ``words`` are its command's setting flags (the run's seed, directory and budget left out); they may
    restate a default. ``settings`` are those it recorded (bench/atari.py's bare names or
    bench/mujoco.py's group.name; None: not recorded), which tell a run made under older defaults from
    one made today. Its learners must be today's default for the cores of ``machine``. ``trained``: the
    frames it trained, so that the frames budget of a run whose lr was not annealed (a budget only)
    does not count when the run stopped before it."""
    recorded = {_field_names().get(key, key): _plain(value) for key, value in (settings or {}).items()
                if value is not None}
    workers = recorded.get("run.workers")
    pinned = [] if workers is None or "--workers" in words else ["--workers", str(workers)]
    try:
        today = resolved(env_id, tuple(method_words(words) + pinned), continuous)
        theirs = resolved(env_id, tuple(words + pinned), continuous)
    except (SystemExit, ValueError) as exc:  # ConfigError is a ValueError
        detail = f": {exc}" if isinstance(exc, ValueError) else ""
        return [f"flags today's asyncrl does not take ({' '.join(words)}){detail}"], set()
    now, flagged = _flat(today), _flat(theirs)
    told = [key for key, value in flagged.items() if key not in PER_RUN_FIELDS and not _same(value, now[key])]
    differences = [f"{key} {as_json(flagged[key])} (today {as_json(now[key])})" for key in told]
    same: set[str] = set()
    for key, value in recorded.items():
        if key == "run.workers" or key in told or key not in now or _same(value, now[key]):
            continue
        if (key == "run.frames" and now["optim.lr_anneal"] is False and recorded.get("optim.lr_anneal") is False
                and trained is not None and trained < min(value, now[key])):
            continue  # the lr held: the frames were a budget, and the run stopped before either
        if key in equivalent:
            same.add(key)
        else:
            differences.append(f"{key} {as_json(value)} (today {as_json(now[key])})")
    cores = _cores(machine)
    if workers is not None and cores is not None and "--workers" not in words:
        from asyncrl.config import default_workers

        expected = default_workers(today, cores)
        if workers != expected:
            differences.append(f"run.workers {workers} (today's default on {cores} cores: {expected})")
    return differences, same


def as_json(value: Any) -> str:
    return json.dumps(value)


def _entry(path: Path, results: Path, result: dict, run: dict, same: set[str] = frozenset()) -> dict:
    return {"file": path.relative_to(results).as_posix(), "result": result, "run": run, "same": set(same),
            "by_hand": result.get("entered_by_hand")}


def _spread(means: list[float]) -> float | None:
    return statistics.pstdev(means) if len(means) > 1 else None


def _summary(kind: str, method: str, task: str, entries: list[dict]) -> dict:
    """What every row has: the runs' evaluations, seeds, commands, machines and files."""
    entries = sorted(entries, key=lambda e: (e["run"]["seed"], e["file"]))
    means = [e["run"]["evaluation"]["mean"] for e in entries]
    return {
        "kind": kind, "method": method, "task": task, "entries": entries,
        "seeds": [e["run"]["seed"] for e in entries], "means": means,
        "mean": statistics.mean(means), "std": _spread(means),
        "episodes": sorted({e["run"]["evaluation"].get("episodes") for e in entries} - {None}),
        # Each once, in the order of the seeds they ran, as the row lists its seeds.
        "commands": list(dict.fromkeys(e["result"]["command"] for e in entries)),
        "machines": list(dict.fromkeys(e["result"].get("machine") or NONE for e in entries)),
        "files": sorted({(e["file"], e["by_hand"] is not None) for e in entries}),
        "same": sorted(set().union(*(e["same"] for e in entries))),
    }


def _method_rank(row: dict) -> tuple:
    order = METHOD_ORDER.index(row["method"]) if row["method"] in METHOD_ORDER else len(METHOD_ORDER)
    return (row["kind"] == "baseline", order, row["method"])


def atari_rows(root: Path) -> tuple[list[dict], list[str]]:
    """The 60-minute Atari rows under today's defaults (a method's or a baseline's runs of one game),
    and what was left out, with why."""
    results = results_dir(root)
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    left_out: list[str] = []
    for path in _files(results, "atari"):
        result = json.loads(path.read_text())
        name = path.relative_to(results).as_posix()
        if result.get("minutes") != 60 or result.get("frames") is not None:
            budget = f"{result.get('minutes'):g} minutes" + (f", {result['frames']:,} frames" if result.get("frames") else "")
            left_out.append(f"{name}: a budget of {budget}, not 60 minutes")
            continue
        env, game = result["env"], game_name(result["env"])
        for run in result.get("asyncrl") or []:
            if run.get("status") == "return_reached":
                left_out.append(f"{name}, seed {run['seed']}: stopped at its score, not a run of the hour")
                continue
            words = setting_words(run["command"])
            differences, same = today_differences(env, words, run.get("settings"), continuous=False,
                                                  machine=result.get("machine"), trained=run.get("frames"))
            if differences:
                left_out.append(f"{name}, seed {run['seed']}: {'; '.join(differences)}")
                continue
            method = method_of(resolved(env, tuple(method_words(words)), False))
            groups["asyncrl", method, game].append(_entry(path, results, result, run, same))
        for run in result.get("baseline") or []:
            baseline = BASELINES.get(result["baseline_name"], result["baseline_name"])
            groups["baseline", baseline, game].append(_entry(path, results, result, run))
    rows = []
    for (kind, method, game), entries in groups.items():
        row = _summary(kind, method, game, entries)
        reference = lookup(entries[0]["result"]["env"])
        minutes = [e["run"].get("train_seconds", 60 * e["result"]["minutes"]) / 60 for e in row["entries"]]
        row.update({
            "frames": statistics.mean(e["run"]["frames"] for e in row["entries"]),
            "minutes": minutes, "budget_minutes": 60.0,
            "per_second": [e["run"]["frames_per_second"] for e in row["entries"]],
            "normalized": reference.normalize(row["mean"]) if reference else None,
        })
        rows.append(row)
    return sorted(rows, key=lambda r: (r["task"], _method_rank(r))), left_out


def mujoco_rows(root: Path) -> tuple[list[dict], list[str]]:
    """The MuJoCo rows under today's defaults, per task and steps budget, SB3 A2C's beside (with
    asyncrl's runs of the seeds it ran beside), and what was left out, with why."""
    results = results_dir(root)
    groups: dict[tuple[str, str, str, int], list[dict]] = defaultdict(list)
    left_out: list[str] = []
    for path in _files(results, "mujoco"):
        result = json.loads(path.read_text())
        name = path.relative_to(results).as_posix()
        env, budget = result["env"], result["steps"]
        baseline_seeds = {run["seed"] for run in result.get("baseline") or []}
        kept = set()
        for run in result.get("asyncrl") or []:
            if run["steps"] < budget:
                left_out.append(f"{name}, seed {run['seed']}: {run['steps']:,} of its {budget:,} steps (the minutes "
                                "ran out)")
                continue
            words = setting_words(run["command"], MUJOCO_PER_RUN_FLAGS)
            differences, same = today_differences(env, words, run.get("settings"), continuous=True,
                                                  machine=result.get("machine"))
            if differences:
                left_out.append(f"{name}, seed {run['seed']}: {'; '.join(differences)}")
                continue
            kept.add(run["seed"])
            groups["asyncrl", "A3C", env, budget].append(_entry(path, results, result, run, same))
            if run["seed"] in baseline_seeds:
                groups["asyncrl", "A3C, the runs beside SB3 A2C", env, budget].append(
                    _entry(path, results, result, run, same))
        for run in result.get("baseline") or []:
            if run["seed"] in kept:  # beside a run of today's defaults, for its wall-clock
                baseline = BASELINES.get(result["baseline_name"], result["baseline_name"])
                groups["baseline", baseline, env, budget].append(_entry(path, results, result, run))
    rows = []
    for (kind, method, env, budget), entries in groups.items():
        row = _summary(kind, method, env, entries)
        row.update({
            "budget_steps": budget,
            "steps": statistics.mean(e["run"]["steps"] for e in row["entries"]),
            "minutes": [e["run"]["train_seconds"] / 60 for e in row["entries"]],
            "per_second": [e["run"]["steps_per_second"] for e in row["entries"]],
        })
        rows.append(row)
    return sorted(rows, key=lambda r: (r["task"], r["budget_steps"], _method_rank(r))), left_out


def _flag_value(words: list[str], flag: str) -> str | None:
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


def _median(values: list[float | None]) -> float | None:
    measured = [v for v in values if v is not None]
    return statistics.median(measured) if measured else None


def speed_rows(root: Path) -> tuple[list[dict], list[str]]:
    """The speed comparisons with SB3 A2C (bench/compare.py's JSON) of today's default command, and
    what was left out, with why."""
    results = results_dir(root)
    rows, left_out = [], []
    for path in _files(results, "speed"):
        result = json.loads(path.read_text())
        name = path.relative_to(results).as_posix()
        env = _flag_value(shlex.split(result["asyncrl_command"]), "--env") or "ALE/Pong-v5"
        words = setting_words(result["asyncrl_command"])
        workers = {run.get("workers") for run in result["asyncrl"]} - {None}
        settings = {**({"run.workers": workers.pop()} if len(workers) == 1 else {}), **(result.get("settings") or {})}
        # The vector environment is part of the speed: no setting counts as equivalent here.
        differences, _ = today_differences(env, words, settings, continuous=False, machine=result.get("machine"),
                                           equivalent={})
        if differences:
            left_out.append(f"{name}: {'; '.join(differences)}")
            continue
        ours = [run.get("steady_fps") for run in result["asyncrl"]]
        theirs = [run.get("fps") for run in result["sb3_a2c"]]
        a, b = _median(ours), _median(theirs)
        rows.append({"file": name, "by_hand": result.get("entered_by_hand"), "game": game_name(env),
                     "asyncrl_command": result["asyncrl_command"], "asyncrl": ours, "sb3_a2c": theirs,
                     "asyncrl_median": a, "sb3_median": b, "ratio": a / b if a is not None and b else None,
                     "seconds": result.get("seconds"), "command": result.get("command"),
                     "machine": result.get("machine") or NONE, "started": result.get("started")})
    return sorted(rows, key=lambda r: (r["started"] or "", r["file"])), left_out


def _cell(x: float | None, digits: int = 1) -> str:
    return NONE if x is None else f"{x:,.{digits}f}"


def _listed(values: list[float | None], digits: int = 0, most: int = 5) -> str:
    """Every value if there are a few, else their range."""
    known = [v for v in values if v is not None]
    if not known:
        return NONE
    if len(values) <= most:
        return ", ".join(_cell(v, digits) for v in values)
    return f"{_cell(min(known), digits)}–{_cell(max(known), digits)}"


def _score(row: dict) -> str:
    text = _cell(row["mean"]) + ("" if row["std"] is None else f" ± {_cell(row['std'])}")
    if len(row["means"]) > 1:
        each = (", ".join(_cell(m) for m in row["means"]) if len(row["means"]) <= 5
                else f"median {_cell(statistics.median(row['means']))}")
        text += f" ({each})"
    return text


def _seeds(row: dict) -> str:
    seeds = row["seeds"]
    return ", ".join(map(str, seeds)) if len(seeds) <= 5 else f"{len(seeds)} runs: " + ", ".join(map(str, seeds))


def _minutes(row: dict) -> str:
    budget = row.get("budget_minutes")
    if budget is not None and all(abs(m - budget) < 0.5 for m in row["minutes"]):
        return f"{budget:g}"
    text = _listed(row["minutes"], 1)
    return f"{text} of {budget:g}" if budget is not None else text


def _code(commands: list[str]) -> str:
    return "<br>".join(f"`{c}`" for c in commands) or NONE


def _by_hand(files: list[tuple[str, bool]]) -> str:
    marked = sum(by_hand for _, by_hand in files)
    return "yes" if marked == len(files) else "no" if marked == 0 else f"{marked} of {len(files)} files"


def _data(files: list[tuple[str, bool]]) -> str:
    return ", ".join(f"[{Path(name).stem}](../results/{name})" for name, _ in files)


def _markdown(header: str, cells: list[str]) -> list[str]:
    """A Markdown table: ``header`` is the columns joined by " | ", ``cells`` one row each, likewise."""
    return [f"| {header} |", "|" + "---|" * (header.count(" | ") + 1), *(f"| {row} |" for row in cells)]


def _atari_table(rows: list[dict]) -> list[str]:
    return _markdown(
        "game | method | evaluation: mean ± std over seeds (each seed's) | seeds | frames (mean) | minutes | frames/s | "
        "human-normalised | command | machine | entered by hand | data",
        [f"{r['task']} | {r['method']}{' †' if r['same'] else ''} | {_score(r)} | {_seeds(r)} | {r['frames']:,.0f} | "
         f"{_minutes(r)} | {_listed(r['per_second'])} | "
         f"{NONE if r['normalized'] is None else _cell(r['normalized']) + ' %'} | {_code(r['commands'])} | "
         f"{'<br>'.join(r['machines'])} | {_by_hand(r['files'])} | {_data(r['files'])}" for r in rows])


# Published numbers to read the five games against (not run here).
ANCHORS = (
    "A2C after 40M frames (the PPO paper, arXiv 1707.06347, Table 6, mean of the last 100 training "
    "episodes): BeamRider 3,031.7, Q*bert 10,065.7, Space Invaders 744.5; A2C after 10M steps (the RL "
    "Zoo's benchmark.md): BeamRider 2,890, Q*bert 3,882. The paper's A3C FF after 1 day on 16 cores is "
    "the last column, with human starts, not the no-op starts used here")
FIGURE = "img/atari-five-games.png"  # under docs/: bench/table.py --figure docs/img/atari-five-games.png


def _five_games_cell(row: dict | None) -> str:
    if row is None:
        return NONE
    normalized = "" if row["normalized"] is None else f" ({row['normalized']:,.0f} %)"
    seeds = len(row["means"])
    known = [x for x in row["per_second"] if x is not None]
    rate = f" at {statistics.mean(known) / 1e3:.1f}k/s" if known else ""
    return f"{_cell(row['mean'])}{normalized}, {seeds} seed{'s' if seeds > 1 else ''}; {_millions(row['frames'])} frames{rate}"


def five_games_table(rows: list[dict]) -> list[str]:
    """The paper's five games × its methods and SB3 A2C: each cell the evaluation's mean over seeds
    (human-normalised), the seeds, the frames and frames/s of the hour."""
    cells = []
    for game in FIVE_GAMES:
        reference = lookup(f"ALE/{game}-v5")
        found = [_find(rows, "asyncrl", m, game) for m in FIVE_GAMES_METHODS] + [_find(rows, "baseline", BASELINE, game)]
        paper = reference.paper.get("a3c_ff_1day") if reference else None
        cells.append(" | ".join([game, *map(_five_games_cell, found),
                                 f"{_cell(reference.random)} / {_cell(reference.human)}" if reference else NONE,
                                 _cell(paper)]))
    return _markdown("game | " + " | ".join((*FIVE_GAMES_METHODS, BASELINE)) + " | random / human | the paper's A3C FF, 1 day",
                     cells)


def _mujoco_table(rows: list[dict]) -> list[str]:
    return _markdown(
        "task | method | steps per run: mean (budget) | evaluation: mean ± std over runs | seeds | minutes | steps/s | "
        "command | machine | entered by hand | data",
        [f"{r['task']} | {r['method']}{' †' if r['same'] else ''} | {r['steps']:,.0f} ({_count(r['budget_steps'])}) | "
         f"{_score(r)} | {_seeds(r)} | {_listed(r['minutes'], 1)} | {_listed(r['per_second'])} | "
         f"{_code(r['commands'])} | {'<br>'.join(r['machines'])} | {_by_hand(r['files'])} | {_data(r['files'])}"
         for r in rows])


def _ratio(ratio: float | None) -> str:
    return NONE if ratio is None else f"{ratio:.2f}×"


def _speed_table(rows: list[dict]) -> list[str]:
    return _markdown(
        "game | asyncrl's command | asyncrl frames/s: median (runs) | SB3 A2C frames/s: median (runs) | ratio | "
        "seconds per run | command | machine | entered by hand | data",
        [f"{r['game']} | `{r['asyncrl_command']}` | {_cell(r['asyncrl_median'], 0)} ({_listed(r['asyncrl'])}) | "
         f"{_cell(r['sb3_median'], 0)} ({_listed(r['sb3_a2c'])}) | "
         f"{_ratio(r['ratio'])} | {_cell(r['seconds'], 0)} | "
         f"{_code([r['command']] if r['command'] else [])} | {r['machine']} | {'yes' if r['by_hand'] else 'no'} | "
         f"{_data([(r['file'], r['by_hand'] is not None)])}" for r in rows])


CAVEAT = (
    "**How to read these numbers.** Atari: the network at the end of the run, evaluated with the paper's protocol "
    "— 30 episodes, each after up to 30 no-op starts, at most 18,000 frames (5 minutes of play), raw whole-game "
    "scores; A3C samples its policy, the Q methods act ε-greedily with ε 0.05, and the SB3 baselines are evaluated "
    "the same way (A2C sampling its policy, DQN at ε 0.05). A row's score is the mean of its seeds' evaluations ± "
    "the standard deviation of those means; human-normalised is 100 × (score − random) / (human − random), with "
    "the no-op-start random and human scores of the paper's Table S3. Minutes shown as \"x of 60\" are runs that "
    "ended at their frames budget before the hour (the one-step methods anneal their lr to 0 over 11.5M frames). "
    "MuJoCo: the final network's mean action over 10 episodes, raw rewards; SB3 A2C (the RL Zoo's settings) "
    "trained right after asyncrl's run of the same seed for the same wall-clock and was evaluated alike. Speed: "
    "emulator frames per second of training once every learner has started, the median of alternating rounds. "
    "Everything ran on a 2-core CPU host whose speed varied up to 2× between days (the same n-step Q command made "
    "6,300 frames/s on one day and 11,600 on another), so every row gives the frames (or steps) and the minutes "
    "with the run's frames/s: compare at equal frames as well as at equal minutes. A seed fixes the starting "
    "network and the environments but not the course: the asynchronous learners interleave their updates "
    "differently on every run. \"Entered by hand\": the run's own JSON did not survive, and its numbers were "
    "copied from the prose of the section named in the file (listed below); a number the prose did not give is "
    f"shown as {NONE}. A rerun by the bench replaces such a file with its own.")


def results_page(root: Path) -> str:
    """The text of docs/results.md: the results in ``root`` (the results directory, or the repository
    holding it) under today's defaults."""
    results = results_dir(root)
    atari, atari_out = atari_rows(results)
    mujoco, mujoco_out = mujoco_rows(results)
    speed, speed_out = speed_rows(results)
    intro = ("What asyncrl learns and how fast, with each method's defaults as they are today (`asyncrl train "
             "--env ENV --print-config` shows them), on a 2-core CPU host, with Stable-Baselines3 beside it. "
             "Runs under older defaults, and how each default was chosen, are in "
             "[the experiments](experiments/README.md). This page is made from the JSON summaries in "
             "[`results/`](../results/README.md).")
    lines = [PAGE_HEADER, "", "# Results", "", intro, "", CAVEAT, ""]
    lines += ["## Atari: the paper's five games, 60 minutes", ""]
    lines += five_games_table(atari)
    lines += ["", (f"Published numbers to read them against: {ANCHORS}. Every cell's command, seeds and machine "
                   "are in the next table.")]
    if (results.parent / "docs" / FIGURE).is_file():
        lines += ["", f"![The five games: score against minutes and against frames]({FIGURE})", "",
                  (f"Drawn by `python bench/table.py --figure docs/{FIGURE}` from the runs' kept curves; a "
                   "run made before curves were kept shows as its final evaluation's dot alone.")]
    lines += ["", "## Atari: 60 minutes, method × game", ""]
    lines += _atari_table(atari) if atari else ["No results yet."]
    notes = sorted({key for row in atari + mujoco for key in row["same"]})
    lines += [""] + [f"† {EQUIVALENT[key]}." for key in notes if key in EQUIVALENT] + ([""] if notes else [])
    lines += ["## MuJoCo: the steps budget, with SB3 A2C beside", ""]
    lines += _mujoco_table(mujoco) if mujoco else ["No results yet."]
    lines += ["", "## Speed against SB3 A2C", ""]
    lines += _speed_table(speed) if speed else ["No results yet."]
    sources: dict[str, list[str]] = defaultdict(list)
    for path in (p for kind in RESULT_KINDS for p in _files(results, kind)):
        by_hand = json.loads(path.read_text()).get("entered_by_hand")
        if by_hand:
            sources[by_hand].append(path.relative_to(results).as_posix())
    if sources:
        lines += ["", "## Where the hand-entered numbers come from", ""]
        lines += [f"- {source}: " + ", ".join(f"`{name}`" for name in names) for source, names in sorted(sources.items())]
    left_out = atari_out + mujoco_out + speed_out
    if left_out:
        why = "Results in `results/` that are not of today's defaults or of the budgets above:"
        lines += ["", "## Not shown", "", why, ""] + [f"- {line}" for line in left_out]
    return "\n".join(lines) + "\n"


def _short(row: dict | None, unit: str = "seed") -> str:
    if row is None:
        return NONE
    n = len(row["means"])
    spread = "" if row["std"] is None else f" ± {_cell(row['std'])}"
    return f"{row['method']} {_cell(row['mean'])}{spread} ({n} {unit}{'' if n == 1 else 's'})"


def _count(n: int) -> str:
    """1000000 -> 1M, 300000 -> 300k."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n % size == 0:
            return f"{n // size:,}{suffix}"
    return f"{n:,}"


def _millions(x: float) -> str:
    return f"{x / 1e6:.1f}M"


def _find(rows: list[dict], kind: str, method: str | None, task: str) -> dict | None:
    return next((r for r in rows if r["kind"] == kind and r["task"] == task
                 and (method is None or r["method"] == method)), None)


def readme_results(root: Path) -> str:
    """The README's results table (a markdown table of at most 10 rows): A3C FF on the headline games
    with SB3 A2C beside, the best other method on each with its SB3 baseline, HalfCheetah and Hopper
    against SB3 A2C, and the speed against SB3 A2C."""
    results = results_dir(root)
    atari, _ = atari_rows(results)
    mujoco, _ = mujoco_rows(results)
    speed, _ = speed_rows(results)
    rows = []

    def made(row: dict | None, baseline: dict | None) -> str:
        if row is None:
            return NONE
        text = f"{_millions(row['frames'])} frames ({statistics.mean(row['per_second']):,.0f}/s)"
        if baseline is not None:
            text += f"; SB3 {_millions(baseline['frames'])} ({statistics.mean(baseline['per_second']):,.0f}/s)"
        return text

    for game in HEADLINE_GAMES:
        ff, a2c = _find(atari, "asyncrl", "A3C FF", game), _find(atari, "baseline", "SB3 A2C", game)
        if ff is not None:
            rows.append(f"| {game}, 60 minutes | {_short(ff)} | {_short(a2c)} | {made(ff, a2c)} |")
    for game in HEADLINE_GAMES:
        others = [r for r in atari if r["kind"] == "asyncrl" and r["task"] == game and r["method"] != "A3C FF"]
        if others:
            best = max(others, key=lambda r: r["mean"])
            baseline = _find(atari, "baseline", "SB3 DQN" if best["method"] in Q_METHODS else "SB3 A2C", game)
            rows.append(f"| {game}, 60 minutes | {_short(best)} | {_short(baseline)} | {made(best, baseline)} |")
    for task in HEADLINE_TASKS:
        budget = 1_000_000
        ours = next((r for r in mujoco if r["kind"] == "asyncrl" and r["method"] == "A3C" and r["task"] == task
                     and r["budget_steps"] == budget), None)
        if ours is None:
            continue
        beside = next((r for r in mujoco if r["method"] == "A3C, the runs beside SB3 A2C" and r["task"] == task
                       and r["budget_steps"] == budget), None)
        a2c = next((r for r in mujoco if r["kind"] == "baseline" and r["task"] == task
                    and r["budget_steps"] == budget), None)
        theirs = NONE if a2c is None else (
            f"{_short(a2c)}, the same {_listed(a2c['minutes'], 1)} minutes; "
            f"A3C's {'run' if len(beside['means']) == 1 else 'runs'} beside it: {_cell(beside['mean'])}")
        speeds = f"{_listed(ours['per_second'])} steps/s" + (
            "" if a2c is None else f"; SB3 {_listed(a2c['per_second'])}/s")
        rows.append(f"| {task}, {_count(budget)} steps | {_short(ours, 'run')} | {theirs} | {speeds} |")
    if speed:
        r = speed[-1]
        ratio = NONE if r["ratio"] is None else f"{r['ratio']:.2f}×"
        rows.append(f"| {r['game']}, training speed | {_cell(r['asyncrl_median'], 0)} frames/s, the default command "
                    f"(median of {len(r['asyncrl'])}) | SB3 A2C {_cell(r['sb3_median'], 0)} frames/s (median of "
                    f"{len(r['sb3_a2c'])}) | {ratio} SB3 A2C's frames/s |")
    head = ["| | asyncrl | Stable-Baselines3 beside it | frames or steps (per second) |", "|---|---|---|---|"]
    return "\n".join(head + rows[:10]) + "\n"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, nargs="*", help="atari.json files written by bench/atari.py")
    parser.add_argument("--page", action="store_true",
                        help="print docs/results.md: today's defaults, from the summaries in --results")
    parser.add_argument("--figure", type=Path, default=None, metavar="PNG",
                        help="draw the paper's five games from --results into PNG (the page links "
                             f"docs/{FIGURE})")
    parser.add_argument("--results", dest="results_dir", type=Path, default=REPO / "results", metavar="DIR",
                        help="the committed results (default: the repository's results/)")
    args = parser.parse_args()
    if args.figure is not None:
        if args.results or args.page:
            parser.exit(2, "table.py: --figure reads --results DIR, and is not --page\n")
        if not args.results_dir.is_dir():
            parser.exit(2, f"table.py: no such results directory: {args.results_dir}\n")
        if not args.figure.parent.is_dir():
            parser.exit(2, f"table.py: no such directory for the figure: {args.figure.parent}\n")
        out, without = five_games(atari_rows(args.results_dir)[0], args.figure)
        print(f"{out}" + (f"; no curve kept, a dot alone: {', '.join(without)}" if without else ""))
        return
    if args.page:
        if args.results:
            parser.exit(2, "table.py: --page reads --results DIR, not atari.json files\n")
        if not args.results_dir.is_dir():
            parser.exit(2, f"table.py: no such results directory: {args.results_dir}\n")
        sys.stdout.write(results_page(args.results_dir))
        return
    if not args.results:
        parser.exit(2, "table.py: give atari.json files, or --page\n")
    missing = [str(p) for p in args.results if not p.is_file()]
    if missing:
        parser.exit(2, f"table.py: no such results file: {', '.join(missing)}\n")
    print(markdown(rows_of(args.results)))


if __name__ == "__main__":
    main()
