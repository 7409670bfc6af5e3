"""``asyncrl train | evaluate``: a thin layer over the Python API.

Every config field is a flag, generated from the dataclasses in ``asyncrl.config`` with its help
text and default. Flags left out keep the config's default, or with ``--resume`` the saved run's
value, so ``asyncrl train --run-dir DIR --resume`` needs nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import typing
from pathlib import Path

from asyncrl.config import ALGORITHMS, GROUPS, ConfigError, TrainConfig

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr and exit code 2, never a usage dump or a traceback."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}


def parse_count(text: str) -> int:
    """Integers as people write them: 80000000, 80_000_000, 8e7, 80M, 500k."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    match = re.fullmatch(r"([0-9.e+-]+)([kmgb]?)", t)
    try:
        if not match:
            raise ValueError
        value = float(match.group(1)) * _SUFFIXES.get(match.group(2), 1)
        if value != int(value):
            raise ValueError
        return int(value)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"invalid count {text!r} (examples: 80000000, 80M, 5e5)") from None


def parse_widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid widths {text!r} (examples: 200, 64,64)") from None


def _flag(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _group_classes() -> dict[str, type]:
    hints = typing.get_type_hints(TrainConfig)
    return {g: hints[g] for g in GROUPS}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    for group, cls in _group_classes().items():
        section = parser.add_argument_group(f"{group} settings")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            args = typing.get_args(kind)
            if type(None) in args:  # Optional[X]
                kind = next(a for a in args if a is not type(None))
            help_text = f.metadata["help"]
            if f.default not in (None, "") and "default:" not in help_text:
                shown = ",".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
                help_text += f" (default: {shown})"
            kwargs: dict = {"dest": f"{group}.{f.name}", "default": None, "help": help_text}
            if kind is not bool:
                kwargs["metavar"] = f.name.upper()
            if kind is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            elif kind is int:
                kwargs["type"] = parse_count
            elif typing.get_origin(kind) is tuple:
                kwargs["type"] = parse_widths
            else:
                kwargs["type"] = kind
            if f.name == "algo":
                kwargs["choices"] = ALGORITHMS
            section.add_argument(_flag(f), **kwargs)


def explicit_settings(args: argparse.Namespace) -> dict[tuple[str, str], object]:
    """The config fields the user set on the command line."""
    out = {}
    for key, value in vars(args).items():
        if "." in key and value is not None:
            group, name = key.split(".", 1)
            out[(group, name)] = value
    return out


def build_config(base: TrainConfig, settings: dict[tuple[str, str], object]) -> TrainConfig:
    parts = {g: dataclasses.replace(getattr(base, g)) for g in GROUPS}
    for (group, name), value in settings.items():
        setattr(parts[group], name, value)
    return TrainConfig(**parts)


def cmd_train(args: argparse.Namespace) -> int:
    from asyncrl.run import read_config
    from asyncrl.trainer import train

    settings = explicit_settings(args)
    if args.resume:
        run_dir = settings.get(("run", "run_dir"))
        if run_dir is None:
            raise ConfigError("--resume needs --run-dir DIR, the run to continue")
        # Start from the saved config; train() refuses flags that would change the experiment.
        base = read_config(Path(run_dir))
    else:
        base = TrainConfig()
    train(build_config(base, settings), resume=args.resume, progress=not args.quiet)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from asyncrl.evaluate import evaluate

    if args.episodes < 1:
        raise ConfigError(f"--episodes must be a positive integer, got {args.episodes}")
    if args.epsilon is not None and not 0.0 <= args.epsilon <= 1.0:
        raise ConfigError(f"--epsilon must be in [0, 1], got {args.epsilon}")
    result = evaluate(args.run_dir, episodes=args.episodes, seed=args.seed, deterministic=args.deterministic,
                      epsilon=args.epsilon)
    if args.json:
        print(json.dumps(result))
    else:
        names = {"sampled": "sampled from pi", "greedy": "greedy (argmax)",
                 "gaussian mean": "the Gaussian policy's mean (no exploration noise)"}
        policy = names.get(result["policy"], result["policy"])
        starts = f", no-op starts (up to {result['noop_max']})" if result["noop_max"] is not None else ""
        print(f"{result['env']}  {result['algo']}  checkpoint at {result['checkpoint_frames']:,} frames")
        print(f"policy: {policy}{starts}")
        print("returns: " + " ".join(f"{r:g}" for r in result["returns"]))
        print(f"mean return {result['mean_return']:.2f} ± {result['std_return']:.2f} "
              f"over {result['episodes']} episodes")
    return 0


def make_parser() -> argparse.ArgumentParser:
    from asyncrl import __version__

    parser = _Parser(prog="asyncrl", description="Asynchronous deep RL (Mnih et al. 2016) on CPU.")
    parser.add_argument("--version", action="version", version=f"asyncrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train an agent", description="Train an agent with many "
                           "asynchronous actor-learners. Defaults follow the paper.")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir from its latest checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    add_config_flags(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate a run's latest checkpoint",
                        description="Play whole episodes with a run's latest checkpoint and report "
                        "raw scores (Atari: no-op starts, unclipped).")
    ev.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by asyncrl train")
    ev.add_argument("--episodes", type=parse_count, default=10, help="episodes to play (default: 10)")
    ev.add_argument("--seed", type=int, default=None,
                    help="seed of the evaluation episodes (default: the run's seed + 10000)")
    ev.add_argument("--deterministic", action="store_true",
                    help="A3C: take the most probable action instead of sampling from the policy")
    ev.add_argument("--epsilon", type=float, default=None,
                    help="Q methods: probability of a random action (default: 0.05 on Atari, 0 otherwise)")
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    from asyncrl.trainer import TrainingError

    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"asyncrl {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TrainingError as exc:
        print(f"asyncrl {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"asyncrl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
