"""``asyncrl train | evaluate | play | plot | sweep``: a thin layer over the Python API.

Every config field is a flag, generated from the dataclasses in ``asyncrl.config`` with its help
text and default. Flags left out keep the preset's or config file's value, else the config's
default, or with ``--resume`` the saved run's value, so ``asyncrl train --run-dir DIR --resume``
needs nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import sys
import typing
import warnings
from pathlib import Path

from asyncrl.config import (
    GROUPS,
    MAX_SEED,
    ConfigError,
    TrainConfig,
    check_path_name,
    flag_of,
    is_atari,
    parse_count,
    parse_widths,
    resolve,
    sourced,
)
from asyncrl.defaults import flag_default

EXIT_USAGE = 2
_METAVARS = {int: "N", float: "X", str: "TEXT"}
_SECTIONS = {"env": "env settings (all but --env: Atari's pipeline)"}


class _HelpFormatter(argparse.HelpFormatter):
    """``--[no-]flag`` for an on/off flag, so that it fits beside its help; a description or epilog
    written in lines (the examples) keeps them, one written as a paragraph is wrapped."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if isinstance(action, argparse.BooleanOptionalAction):
            return "--[no-]" + action.option_strings[0].removeprefix("--")
        return super()._format_action_invocation(action)


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr and exit code 2, never a usage dump or a traceback."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]):
        # Python 3.11's argparse drops a '--' given as an option's value (--lr=--) and hands the
        # option an empty list, past its type check.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            raise argparse.ArgumentError(action, "expected one argument, got '--'")
        return super()._get_values(action, arg_strings)


def _group_classes() -> dict[str, type]:
    hints = typing.get_type_hints(TrainConfig)
    return {g: hints[g] for g in GROUPS}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    for group, cls in _group_classes().items():
        section = parser.add_argument_group(_SECTIONS.get(group, f"{group} settings"))
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            args = typing.get_args(kind)
            if type(None) in args:  # Optional[X]
                kind = next(a for a in args if a is not type(None))
            help_text = f.metadata["help"]
            default = flag_default((group, f.name), f.default)
            if default is not None and "default" not in help_text:
                help_text += f" ({default})"
            kwargs: dict = {"dest": f"{group}.{f.name}", "default": None, "help": help_text}
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
            elif kind is not bool:
                kwargs["metavar"] = _METAVARS.get(kind, "N")
            if kind is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            elif kind is int:
                kwargs["type"] = parse_count
            elif typing.get_origin(kind) is tuple:
                kwargs["type"] = parse_widths
                kwargs["metavar"] = "W[,W...]"
            else:
                kwargs["type"] = kind
            section.add_argument(flag_of(f), **kwargs)


def explicit_settings(args: argparse.Namespace) -> dict[tuple[str, str], object]:
    """The config fields the user set on the command line."""
    out = {}
    for key, value in vars(args).items():
        if "." in key and value is not None:
            group, name = key.split(".", 1)
            out[(group, name)] = value
    return out


def add_layer_flags(parser: argparse.ArgumentParser) -> None:
    from asyncrl.presets import PRESETS

    parser.add_argument("--preset", choices=list(PRESETS), metavar="NAME",
                        help="start from the paper's settings for one method: " + ", ".join(PRESETS))
    parser.add_argument("--config", metavar="FILE", help="settings from a TOML file (as config.json) or a "
                        "run's config.json; flags override it, it overrides --preset")


def config_from_args(args: argparse.Namespace, base: TrainConfig, base_source: str | None = None) -> TrainConfig:
    """``base``, then the preset, then the config file, then the flags on the command line.

    Records in ``args.sources`` which file each setting came from (``base_source`` for those of
    ``base``), so that a bad value is reported with the file and setting to fix.
    """
    from asyncrl.presets import check_preset_env, layered_config, preset_settings, read_config_file

    explicit = explicit_settings(args)
    file_preset, file_settings = read_config_file(args.config) if args.config else (None, {})
    preset = args.preset or file_preset
    args.preset_used = preset
    sources: dict[tuple[str, str], str] = {}
    if base_source is not None:
        sources.update({(g, n): base_source for g in GROUPS for n in dataclasses.asdict(getattr(base, g))})
    if preset:
        for key in preset_settings(preset):
            sources.pop(key, None)
    sources.update(dict.fromkeys(file_settings, str(args.config)))
    for key in explicit:
        sources.pop(key, None)
    args.sources = sources
    layers = [preset_settings(preset)] if preset else []
    config = layered_config(base, *layers, file_settings, explicit)
    if preset:
        check_preset_env(preset, config.env.env_id)
    return config


def warn_continuous_preset(preset: str | None, config: TrainConfig) -> None:
    """The continuous-action preset on a task with discrete actions: say that its Gaussian has no effect."""
    from asyncrl.presets import PRESETS

    if preset is None or PRESETS[preset].atari or is_atari(config.env.env_id):
        return
    from asyncrl.envs import check_environment

    _, actions = check_environment(resolve(config))
    if not actions.continuous:
        print(f"asyncrl train: warning: --preset {preset} is the paper's setting for continuous actions; "
              f"{config.env.env_id} has discrete ones, so its Gaussian policy settings have no effect (the "
              "others apply)", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    from asyncrl.run import read_config

    base, base_source = TrainConfig(), None
    if args.resume:
        run_dir = explicit_settings(args).get(("run", "run_dir"))
        if run_dir is None:
            raise ConfigError("--resume needs --run-dir DIR, the run to continue")
        check_path_name(run_dir, ("run", "run_dir"))
        # Start from the saved config; train() refuses flags that would change the experiment.
        base, base_source = read_config(Path(run_dir)), str(Path(run_dir) / "config.json")
    config = config_from_args(args, base, base_source)
    warn_continuous_preset(args.preset_used, config)
    if args.print_config:
        from asyncrl.config import ineffective_settings
        from asyncrl.envs import check_environment
        from asyncrl.errors import SettingWarning
        from asyncrl.presets import paper_differences, paper_preset_for

        _, actions = check_environment(resolve(config))
        resolved = resolve(config, actions)
        for line in ineffective_settings(config, actions):
            warnings.warn(line, SettingWarning, stacklevel=1)
        print(json.dumps(resolved.to_dict(), indent=2))
        differences = paper_differences(resolved, actions)
        if differences:  # on stderr: stdout stays the JSON that --config reads back
            name = paper_preset_for(resolved, actions is not None and actions.continuous)
            print(f"differs from the paper's settings (--preset {name}):", file=sys.stderr)
            for line in differences:
                print(f"  {line}", file=sys.stderr)
        return 0
    from asyncrl.envs import check_env_id

    # A bad value or environment id answers in a fraction of a second, without importing PyTorch
    # first; train() checks the same again, and builds the environment, for callers of the API.
    check_env_id(resolve(config).env.env_id)
    from asyncrl.trainer import train  # PyTorch: only once the command line is known to be sound

    train(config, resume=args.resume, progress=not args.quiet)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    check_play_args(args)
    check_run_dir(args)
    from asyncrl.evaluate import evaluate  # PyTorch: after the arguments are known to be sound

    result = evaluate(args.run_dir, episodes=args.episodes, seed=args.seed, deterministic=args.deterministic,
                      epsilon=args.epsilon, max_episode_frames=args.max_episode_frames)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['env']}  {result['algo']}  {result['checkpoint']} at {result['checkpoint_frames']:,} frames")
    print(f"policy: {_policy_text(result['policy'])}{_protocol_text(result)}")
    print("returns: " + " ".join(f"{r:g}" for r in result["returns"]))
    print(f"mean return {result['mean_return']:.2f} ± {result['std_return']:.2f} "
          f"over {result['episodes']} episodes")
    ref = result.get("reference")
    if ref is not None:
        from asyncrl.scores import PAPER_COLUMNS

        print(f"human-normalised score {result['human_normalized']:.1f} %  "
              f"(100 × (score − random) / (human − random); {ref['game']}: random {ref['random']:g}, "
              f"human {ref['human']:g}, no-op starts, Nature DQN)")
        paper = ", ".join(f"{PAPER_COLUMNS[k]} {v:g}" for k, v in ref["paper"].items())
        print(f"the A3C paper on {ref['game']} (Table S3, human starts): {paper}")
    return 0


def check_play_args(args: argparse.Namespace) -> None:
    if args.episodes is not None and args.episodes < 1:
        raise ConfigError(f"--episodes must be a positive integer, got {args.episodes}")
    if args.epsilon is not None and not 0.0 <= args.epsilon <= 1.0:
        raise ConfigError(f"--epsilon must be in [0, 1], got {args.epsilon}")
    if args.max_episode_frames is not None and args.max_episode_frames < 1:
        raise ConfigError(f"--max-episode-frames must be a positive integer, got {args.max_episode_frames}")
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise ConfigError(f"--seed must be an integer from 0 to {MAX_SEED} (2**32 - 1), got {args.seed}")
    check_path_name(args.run_dir, what="RUN_DIR")


def check_run_dir(args: argparse.Namespace) -> None:
    """Not a run directory: say so before PyTorch is imported (the command then reads it again)."""
    from asyncrl.run import read_config

    read_config(Path(args.run_dir))


def _policy_text(policy: str) -> str:
    names = {"sampled": "sampled from pi", "greedy": "greedy (argmax)",
             "gaussian mean": "the Gaussian policy's mean (no exploration noise)"}
    return names.get(policy, policy)


def _protocol_text(result: dict) -> str:
    if result.get("noop_max") is None:
        return ""
    cap = result.get("max_episode_frames")
    capped = f", at most {cap:,} emulator frames per episode" if cap else ""
    cut = result.get("truncated_episodes") or 0
    return f", no-op starts (up to {result['noop_max']}){capped}" + (f" ({cut} reached it)" if cut else "")


def cmd_play(args: argparse.Namespace) -> int:
    check_play_args(args)
    if args.fps is not None and not args.fps > 0:
        raise ConfigError(f"--fps must be positive, got {args.fps}")
    check_run_dir(args)
    from asyncrl.play import play

    def show(index: int, ret: float, length: int) -> None:
        print(f"episode {index + 1}: return {ret:g}, {length:,} steps", flush=True)

    result = play(args.run_dir, args.episodes or 1, video=args.video, seed=args.seed,
                  deterministic=args.deterministic, epsilon=args.epsilon,
                  max_episode_frames=args.max_episode_frames, fps=args.fps, on_episode=show)
    print(f"{result['env']}  {result['algo']}  checkpoint at {result['checkpoint_frames']:,} frames; "
          f"policy: {_policy_text(result['policy'])}")
    if args.video:
        width, height = result["size"]
        print(f"video: {result['video']} ({result['frames']:,} frames, {width}x{height}, {result['fps']:g} fps)")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    if args.smooth is not None and args.smooth < 1:
        raise ConfigError(f"--smooth must be a positive integer, got {args.smooth}")
    from asyncrl.plot import plot_runs

    out = plot_runs(args.run_dirs, args.output, labels=args.label, window=args.smooth, title=args.title)
    print(f"wrote {out}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from asyncrl.sweep import LR_RANGE, format_table, parse_grid, sweep

    settings = explicit_settings(args)
    grid = parse_grid(args.grid) if args.grid else None
    if grid is None and ("optim", "lr") in settings:
        raise ConfigError("asyncrl sweep draws the learning rates itself: leave out --lr "
                          "(use --lr-min and --lr-max for the range, or --grid lr=V1,V2)")
    if grid is not None and "lr" in grid and ("optim", "lr") in settings:
        raise ConfigError("--grid varies lr: leave out --lr")
    if grid is not None and (args.lr_min is not None or args.lr_max is not None):
        raise ConfigError("--lr-min and --lr-max are for the learning-rate draws: with --grid give lr=V1,V2")
    if grid is None and args.seeds is not None:
        raise ConfigError("--seeds is the seeds of each --grid combination; without a grid use --runs")
    if grid is not None and args.runs is not None:
        raise ConfigError("--runs draws learning rates; with --grid give the seeds per combination (--seeds)")
    if ("run", "run_dir") in settings:
        raise ConfigError("asyncrl sweep puts each run in its --sweep-dir: leave out --run-dir")
    if args.resume:
        given = [k for k in settings] + (["preset"] if args.preset else []) + (["config"] if args.config else [])
        if given or args.runs is not None or grid is not None or args.seeds is not None:
            raise ConfigError("--resume continues the sweep as it was planned: give only --sweep-dir "
                              "and --parallel")
        config = None
    else:
        config = config_from_args(args, TrainConfig())
    if grid is not None:
        runs = args.seeds if args.seeds is not None else 1
    else:
        runs = args.runs if args.runs is not None else 50
    lr_range = (LR_RANGE[0] if args.lr_min is None else args.lr_min, LR_RANGE[1] if args.lr_max is None else args.lr_max)
    summary = sweep(config, runs, sweep_dir=args.sweep_dir, lr_range=lr_range, parallel=args.parallel,
                    top=args.top, resume=args.resume, grid=grid)
    print(format_table(summary))
    where = Path(summary["sweep_dir"])
    print(f"written: {where / 'sweep.csv'}, {where / 'sweep.png'}, {where / 'sweep.json'}")
    return 0


TRAIN_EPILOG = """\
Defaults depend on the task: Atari, vector (observations, discrete actions) or
continuous (actions); --print-config shows a command's values. The presets keep
the paper's; why asyncrl's differ: docs/defaults.md (every flag: docs/cli.md).

examples:
  asyncrl train --env CartPole-v1 --frames 300k --run-dir runs/cartpole
  asyncrl train --env ALE/Pong-v5 --stop-at-return 18 --run-dir runs/pong
  asyncrl train --preset atari-a3c-ff --env ALE/Breakout-v5 --print-config
"""


def make_parser() -> argparse.ArgumentParser:
    from asyncrl import __version__

    parser = _Parser(prog="asyncrl", description="Asynchronous deep RL (Mnih et al. 2016) on CPU.")
    parser.add_argument("--version", action="version", version=f"asyncrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train an agent", usage="asyncrl train --env ID [options]",
                           description="Train an agent with many asynchronous actor-learners.",
                           epilog=TRAIN_EPILOG, formatter_class=_HelpFormatter)
    train.add_argument("--resume", action="store_true",
                       help="continue --run-dir from its latest checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.add_argument("--print-config", action="store_true",
                       help="print the resolved config (config.json) and exit")
    add_layer_flags(train)
    add_config_flags(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate a run's latest checkpoint",
                        description="Play whole episodes with a run's latest checkpoint and report "
                        "raw scores. Atari: the no-op-starts protocol (up to 30 no-ops, at most 5 "
                        "minutes of play, unclipped scores, 30 episodes), the human-normalised score "
                        "and the A3C paper's scores for the game.")
    add_play_flags(ev, episodes_help="episodes to play (default: 30 on Atari, 10 otherwise)")
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ev.set_defaults(func=cmd_evaluate)

    pl = sub.add_parser("play", help="watch a trained agent: print its scores, record a video",
                        description="Play episodes with a run's latest checkpoint, as evaluate plays "
                        "them, print each score and, with --video, record them.")
    add_play_flags(pl, episodes_help="episodes to play (default: 1)")
    pl.add_argument("--video", metavar="FILE", help="record the episodes to this video (.mp4, .mkv, "
                    ".webm, .avi, .mov); an existing file is replaced")
    pl.add_argument("--fps", type=float, default=None,
                    help="frames per second of the video (default: real time; Atari 15)")
    pl.set_defaults(func=cmd_play)

    plot = sub.add_parser("plot", help="draw learning curves of one or more runs",
                          description="Draw return against frames and against wall-clock time, "
                          "smoothed, one line per run; runs that share a label (by default the same "
                          "algorithm and environment, e.g. several seeds) become one line, their mean, "
                          "with the spread between them shaded.")
    plot.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories written by asyncrl train")
    plot.add_argument("-o", "--output", default="curves.png", metavar="FILE",
                      help="image to write, .png (1200x450), .pdf or .svg (default: curves.png); replaced "
                      "if it exists")
    plot.add_argument("--label", action="append", metavar="TEXT",
                      help="a label per run, in order (repeat it); runs with the same label are averaged")
    plot.add_argument("--smooth", type=parse_count, default=None, metavar="EPISODES",
                      help="trailing mean over this many episodes (default: a tenth of the shortest run's "
                      "episodes, at most 100)")
    plot.add_argument("--title", default=None, help="figure title (default: the environments)")
    plot.set_defaults(func=cmd_plot)

    sw = sub.add_parser("sweep", help="the paper's learning-rate search, or a grid of any settings",
                        usage="asyncrl sweep --env ID [options]", formatter_class=_HelpFormatter,
                        description="Train --runs runs with learning rates drawn from LogUniform(1e-4, "
                        "1e-2), as the paper did, and report every run's score (mean return of its "
                        "last 100 episodes) and the mean of the best 5 in a table and a plot. Every "
                        "train flag except --lr and --run-dir applies to all runs; run i uses seed "
                        "--seed + i. With --grid, train every combination of the given values instead "
                        "(e.g. --grid rms-eps=0.1,1e-5 --grid t-max=5,20), --seeds seeds each, and "
                        "report each combination's mean: short proxy runs (--max-seconds) to narrow a "
                        "search.")
    sw.add_argument("--runs", type=parse_count, default=None, help="number of runs (default: 50, the paper's)")
    sw.add_argument("--grid", action="append", metavar="FLAG=V1,V2", default=None,
                    help="vary a train setting over these values (repeat for more settings: every "
                    "combination is trained)")
    sw.add_argument("--seeds", type=parse_count, default=None,
                    help="with --grid: seeds per combination, --seed, --seed + 1, ... (default: 1)")
    sw.add_argument("--sweep-dir", default=None, metavar="DIR",
                    help="where the runs go (default: runs/sweep-<algo>-<env>-<timestamp>)")
    sw.add_argument("--parallel", type=parse_count, default=None, metavar="N",
                    help="runs trained at once (default: CPU count // --workers, at least 1)")
    sw.add_argument("--lr-min", type=float, default=None, help="low end of the learning rates (default: 1e-4)")
    sw.add_argument("--lr-max", type=float, default=None, help="high end of the learning rates (default: 1e-2)")
    sw.add_argument("--top", type=parse_count, default=5, help="the best this many are averaged (default: 5)")
    sw.add_argument("--resume", action="store_true",
                    help="continue the sweep in --sweep-dir: finished runs are kept, the others resumed")
    add_layer_flags(sw)
    add_config_flags(sw)
    sw.set_defaults(func=cmd_sweep)
    return parser


def add_play_flags(parser: argparse.ArgumentParser, episodes_help: str) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by asyncrl train")
    parser.add_argument("--episodes", type=parse_count, default=None, help=episodes_help)
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the episodes (default: the run's seed + 10000)")
    parser.add_argument("--deterministic", action="store_true",
                        help="A3C: take the most probable action instead of sampling from the policy")
    parser.add_argument("--epsilon", type=float, default=None,
                        help="Q methods: probability of a random action (default: 0.05 on Atari, 0 otherwise)")
    parser.add_argument("--max-episode-frames", type=parse_count, default=None, metavar="FRAMES",
                        help="Atari: end an episode after this many emulator frames (default: 18000, "
                        "5 minutes of play)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; whatever happens to stdout and stderr (a closed pipe, a full disk), the
    command does its work, and what it cannot do is one line on stderr, never a traceback."""
    from asyncrl.signals import StopSignals
    from asyncrl.streams import lossy_std_streams, lost_output_note

    argv = sys.argv[1:] if argv is None else argv
    # train: a Ctrl-C from here on is a clean stop, even while PyTorch is still being imported.
    stop = StopSignals() if argv[:1] == ["train"] else contextlib.nullcontext()
    with stop, lossy_std_streams() as (out, _), warnings.catch_warnings():
        parser = make_parser()
        args = parser.parse_args(argv)
        warnings.showwarning = functools.partial(_one_line_warning, f"asyncrl {args.command}")
        code = _run(args)
        note = out is not None and lost_output_note(out, "stdout")
        if note:
            print(f"asyncrl {args.command}: {note}", file=sys.stderr)
        return code


def _run(args: argparse.Namespace) -> int:
    from asyncrl.errors import RenderError, StoppedBeforeStart, TrainingError, WriteError

    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"asyncrl {args.command}: error: {sourced(exc, getattr(args, 'sources', {}))}", file=sys.stderr)
        return EXIT_USAGE
    except (TrainingError, RenderError, WriteError) as exc:
        print(f"asyncrl {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except StoppedBeforeStart as exc:
        print(f"asyncrl {args.command}: {exc}", file=sys.stderr)
        return 0
    except KeyboardInterrupt:
        print(f"asyncrl {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line_warning(prog: str, message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, ``asyncrl train: warning: ...``, instead of Python's two with the source."""
    text = str(message).strip().splitlines()
    print(f"{prog}: warning: {text[0] if text else category.__name__}", file=file or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
