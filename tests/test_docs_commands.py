"""Every ``asyncrl`` command that README.md and docs/**/*.md show in a code block still works
(issue 52, item 7): a flag renamed or dropped, a preset or method that no longer exists, a value a
setting no longer takes fails here, named by the file and line that show it.

How each command is checked, without training anything:

- ``asyncrl train ...`` runs as a user would (a subprocess, in a scratch directory) with
  ``--print-config`` added: the real parser, the preset and config-file layers, validation, and the
  environment built once to resolve the defaults; it must exit 0 and create nothing. A command that
  needs a run that exists (``--resume``, ``--config DIR/config.json``) gets the ``config.json`` that
  the command before it in the same file, training into that directory, would write (its own
  ``--print-config`` output); ``--config FILE.toml`` gets the ``toml`` block of the same file whose
  first line is ``# FILE.toml``.
- ``asyncrl sweep ...`` runs for real up to its first training run: every check the sweep makes
  (each grid combination's settings, the environment, ``--parallel``) and its directory; a
  ``--resume`` first plans the sweep of the same file that made its directory.
- ``asyncrl evaluate | play | plot ...`` need a trained run, so their arguments are only parsed, with
  the CLI's own parser (``asyncrl.cli.make_parser``) and ``evaluate``/``play``'s value checks.

Skipped, with the reason in the test's output: commands with a placeholder where a value goes
(``<RUN_DIR>``, ``$SEED``, an upper-case word such as ``--seed S``), and a ``--resume`` or
``--config`` whose run or file no earlier command of the same file provides (after their
arguments parsed). ``test_a_flag_that_does_not_exist_fails_the_check`` makes sure the checks can
fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from asyncrl import __version__
from asyncrl.cli import check_play_args, make_parser
from asyncrl.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_FENCES = {"", "bash", "sh", "shell", "console", "zsh"}
OPERATORS = {"&&", "||", ";", "|", "&"}
REDIRECTIONS = {">", ">>", "<", ">&", "&>", "2>", "2>&"}
WRAPPERS = {"time", "nohup", "exec"}
# Files that are not the command's doing: MuJoCo writes its deprecation warnings for some models
# (HalfCheetah's 'settotalmass') to MUJOCO_LOG.TXT in the working directory.
NOT_OURS = {"MUJOCO_LOG.TXT"}
# Runs the sweep as far as its first training run, then stops: every check, nothing trained.
PLAN_SWEEP = """
import importlib
import sys

class Planned(Exception):
    pass

def plan_only(state, todo, parallel, say):
    raise Planned

# The module itself: the package's attribute asyncrl.sweep is the function of that name.
importlib.import_module("asyncrl.sweep")._run_all = plan_only
from asyncrl.cli import main

try:
    code = main(sys.argv[1:])
except Planned:
    code = 0
sys.exit(code)
"""


@dataclass(frozen=True)
class DocCommand:
    path: Path  # the markdown file
    line: int  # the line the command starts on
    text: str  # as written, continuations joined
    argv: tuple[str, ...]  # after "asyncrl"
    env: tuple[tuple[str, str], ...] = ()  # VAR=value given before it

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def command(self) -> str | None:
        return self.argv[0] if self.argv and not self.argv[0].startswith("-") else None

    def option(self, name: str) -> str | None:
        """The value of ``--name VALUE`` or ``--name=VALUE``, the last one given."""
        value = None
        for i, token in enumerate(self.argv):
            if token == name and i + 1 < len(self.argv):
                value = self.argv[i + 1]
            elif token.startswith(name + "="):
                value = token.split("=", 1)[1]
        return value


def fenced_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, line with its ``\\`` continuations joined, fence language) of every line in a
    fenced code block."""
    out: list[tuple[int, str, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: tuple[str, str] | None = None
    i = 0
    while i < len(lines):
        match = re.match(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if match and (fence is None or lines[i].strip().startswith(fence[0])):
            fence = (match.group(1), match.group(2).lower()) if fence is None else None
            i += 1
            continue
        if fence is not None:
            start, text = i, lines[i]
            while text.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text.rstrip()[:-1] + " " + lines[i].strip()
            out.append((start + 1, text, fence[1]))
        i += 1
    return out


def toml_blocks(path: Path) -> dict[str, str]:
    """The ``toml`` blocks of a file that name themselves on their first line (``# FILE.toml``)."""
    blocks, lines = {}, path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*```\s*toml\s*$", line) and i + 1 < len(lines):
            name = re.match(r"^\s*#\s*(\S+\.toml)\s*$", lines[i + 1])
            if name:
                end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
                blocks[name.group(1)] = "\n".join(lines[i + 1:end]) + "\n"
    return blocks


def shell_commands(text: str) -> list[list[str]]:
    """The simple commands of one shell line: split at ``&&``, ``;``, ``|``, without redirections
    and the trailing ``# comment``."""
    lexer = shlex.shlex(text.lstrip().removeprefix("$ "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: not a command line
        return []
    commands, current, skip_next = [], [], False
    for token in tokens:
        if skip_next:
            skip_next = False
        elif token in OPERATORS:
            commands.append(current)
            current = []
        elif token in REDIRECTIONS:
            skip_next = True
        else:
            current.append(token)
    commands.append(current)
    return [c for c in commands if c]


def as_asyncrl(words: list[str]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None:
    """(argv after ``asyncrl``, environment assignments) if ``words`` runs asyncrl: ``asyncrl``,
    ``.venv/bin/asyncrl``, ``python -m asyncrl``; else None."""
    env = []
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        name, value = words[0].split("=", 1)
        env.append((name, value))
        words = words[1:]
    while words and (words[0] in WRAPPERS or words[0] == "timeout"):
        words = words[2:] if words[0] == "timeout" else words[1:]
    if not words:
        return None
    program = Path(words[0]).name
    if program == "asyncrl":
        return tuple(words[1:]), tuple(env)
    if re.fullmatch(r"python[\d.]*", program) and words[1:3] == ["-m", "asyncrl"]:
        return tuple(words[3:]), tuple(env)
    return None


def doc_commands() -> list[DocCommand]:
    found = []
    for path in DOCS:
        for line, text, language in fenced_lines(path):
            if language not in SHELL_FENCES:
                continue
            for words in shell_commands(text):
                parsed = as_asyncrl(words)
                if parsed is not None:
                    found.append(DocCommand(path, line, text.strip(), *parsed))
    return found


COMMANDS = doc_commands()


def placeholder(command: DocCommand) -> str | None:
    """A placeholder where a value goes, which no parser could take: ``<RUN_DIR>``, ``$SEED``,
    ``...``, or an upper-case word such as the ``S`` of ``--seed S``."""
    for token in command.argv[1:]:
        if re.search(r"<[^<>]+>|\$|\.\.\.", token) or re.fullmatch(r"[A-Z][A-Z0-9_]*", token):
            return token
    return None


def run_asyncrl(argv: list[str], cwd: Path, env: tuple[tuple[str, str], ...] = (),
                script: str | None = None) -> subprocess.CompletedProcess:
    prefix = ["-c", script] if script is not None else ["-m", "asyncrl"]
    return subprocess.run([sys.executable, *prefix, *argv], cwd=cwd, env={**os.environ, **dict(env)},
                          capture_output=True, text=True, timeout=180, check=False)


def parse_only(command: DocCommand) -> None:
    """The arguments as the CLI's own parser reads them; evaluate's and play's value checks."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = make_parser().parse_args(list(command.argv))
        except SystemExit as exc:
            assert exc.code in (0, None), f"{command.where}: `{command.text}`: {err.getvalue().strip()}"
            return  # --help, --version
    if args.command in ("evaluate", "play"):
        try:
            check_play_args(args)
        except ConfigError as exc:
            raise AssertionError(f"{command.where}: `{command.text}`: {exc}") from None


class Unprepared(Exception):
    """What a command needs that no earlier command of its file provides."""


def earlier(command: DocCommand, subcommand: str, option: str, value: str) -> DocCommand | None:
    """The last command before ``command`` in its file that is ``asyncrl SUBCOMMAND`` with
    ``--option value`` and no ``--resume``: the one that made the directory it continues."""
    candidates = [c for c in COMMANDS if c.path == command.path and c.line < command.line
                  and c.command == subcommand and c.option(option) == value and "--resume" not in c.argv]
    return candidates[-1] if candidates else None


def inside(cwd: Path, name: str) -> Path:
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise Unprepared(f"{name} is outside the scratch directory")
    return cwd / name


def prepare_run_dir(command: DocCommand, run_dir: str, cwd: Path) -> None:
    """``run_dir/config.json`` as the file's earlier command training into it would write it."""
    target = inside(cwd, run_dir)
    if (target / "config.json").exists():
        return
    maker = earlier(command, "train", "--run-dir", run_dir)
    if maker is None:
        raise Unprepared(f"no earlier command in {command.path.name} trains into {run_dir}")
    prepare(maker, cwd)
    result = run_asyncrl([*maker.argv, "--print-config"], cwd, maker.env)
    assert result.returncode == 0, f"{maker.where} (which makes {run_dir}): {result.stderr.strip()}"
    target.mkdir(parents=True, exist_ok=True)
    config = json.loads(result.stdout)
    (target / "config.json").write_text(json.dumps({"tool": "asyncrl", "version": __version__, **config}))


def prepare(command: DocCommand, cwd: Path) -> None:
    """The files ``command`` reads, in ``cwd``: its config file, the run or sweep it continues."""
    config = command.option("--config")
    if config is not None and not inside(cwd, config).exists():
        blocks = toml_blocks(command.path)
        if Path(config).name in blocks:
            inside(cwd, config).parent.mkdir(parents=True, exist_ok=True)
            inside(cwd, config).write_text(blocks[Path(config).name])
        elif (ROOT / config).is_file():
            inside(cwd, config).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / config, inside(cwd, config))
        elif Path(config).name == "config.json":
            prepare_run_dir(command, str(Path(config).parent), cwd)
        else:
            raise Unprepared(f"{config}: no `# {Path(config).name}` toml block in {command.path.name}")
    if "--resume" in command.argv and command.command == "train":
        run_dir = command.option("--run-dir")
        if run_dir is not None:  # without one the CLI refuses, as it should: checked below
            prepare_run_dir(command, run_dir, cwd)
    if "--resume" in command.argv and command.command == "sweep":
        sweep_dir = command.option("--sweep-dir")
        maker = earlier(command, "sweep", "--sweep-dir", sweep_dir) if sweep_dir else None
        if maker is None:
            raise Unprepared(f"no earlier command in {command.path.name} starts the sweep in {sweep_dir}")
        if not inside(cwd, sweep_dir).exists():
            prepare(maker, cwd)
            result = run_asyncrl(list(maker.argv), cwd, maker.env, script=PLAN_SWEEP)
            assert result.returncode == 0, f"{maker.where} (which starts {sweep_dir}): {result.stderr.strip()}"


def files_in(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*") if p.name not in NOT_OURS}


def check(command: DocCommand, cwd: Path) -> None:
    """AssertionError, naming the file and line, unless ``command`` works as the docs show it."""
    if command.command not in ("train", "sweep"):
        parse_only(command)
        return
    try:
        prepare(command, cwd)
    except Unprepared as exc:
        parse_only(command)
        pytest.skip(f"arguments parsed; not run: {exc}")
    before = files_in(cwd)
    if command.command == "train":
        result = run_asyncrl([*command.argv, "--print-config"], cwd, command.env)
        assert result.returncode == 0, f"{command.where}: `{command.text}`: {result.stderr.strip()}"
        made = sorted(str(p.relative_to(cwd)) for p in files_in(cwd) - before)
        assert not made, f"{command.where}: --print-config created {made}"
    else:
        result = run_asyncrl(list(command.argv), cwd, command.env, script=PLAN_SWEEP)
        assert result.returncode == 0, f"{command.where}: `{command.text}`: {result.stderr.strip()}"
        assert not list(cwd.rglob("checkpoint.pt")), "the sweep trained: PLAN_SWEEP no longer stops it"


def test_the_docs_show_commands_to_check():
    readme = [c for c in COMMANDS if c.path.name == "README.md" and c.path.parent == ROOT]
    assert {"train", "evaluate", "play", "plot", "sweep"} <= {c.command for c in readme}


@pytest.mark.parametrize("command", [pytest.param(c, id=c.where) for c in COMMANDS])
def test_the_command_works_as_the_docs_show_it(command, tmp_path):
    token = placeholder(command)
    if token is not None:
        pytest.skip(f"placeholder {token!r} where a value goes: `{command.text}`")
    check(command, tmp_path)


def _plain(kind: str) -> DocCommand | None:
    """A command of this kind that needs nothing prepared and has no placeholder."""
    return next((c for c in COMMANDS if c.command == kind and placeholder(c) is None and "--resume" not in c.argv
                 and c.option("--config") is None and not {"-h", "--help"} & set(c.argv)), None)


@pytest.mark.parametrize("kind", ["train", "evaluate", "play", "plot", "sweep"])
def test_a_flag_that_does_not_exist_fails_the_check(kind, tmp_path):
    command = _plain(kind)
    if command is None:
        pytest.skip(f"the docs show no plain `asyncrl {kind}` command")
    bogus = DocCommand(command.path, command.line, command.text + " --no-such-flag",
                       (*command.argv, "--no-such-flag"), command.env)
    with pytest.raises(AssertionError, match="unrecognized arguments: --no-such-flag"):
        check(bogus, tmp_path)
