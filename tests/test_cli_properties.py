"""Property-based tests of the command line and of config parsing (issue 51, item 11).

Whatever a person types as flag values, whatever a TOML file or an edited ``config.json`` holds,
``asyncrl`` ends with exit code 0, or with exit code 2 and exactly one line on stderr: never a
traceback. The commands run in-process (``asyncrl.cli.main``) so that Hypothesis can try hundreds
of inputs; ``--print-config`` and one-episode evaluations keep each one short.
"""

import contextlib
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncrl.cli import main
from asyncrl.config import GROUPS, field_types, flag_for

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)  # the same examples in every run: a failure is reproducible

# Values as people type them: numbers in every notation, signs, words, empties, unicode, huge.
TYPED = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "-", "1e400", "-0", "80M", "5e5", "1_000", "1,000", "0x10", "nan", "inf",
                     "true", "none", "64,64", "64,", ",", "0,0", "3.5k", "1e-400", "99999999999999999999"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=":\x00"), max_size=12),
)
CHOICES = {"algo": ["a3c", "one-step-q", "one-step-sarsa", "n-step-q"], "core": ["ff", "lstm"],
           "activation": ["relu", "tanh"], "policy_std": ["softplus", "log-std"], "init": ["orthogonal", "uniform"],
           "backend": ["local"]}


def _flag_values(key, kind) -> st.SearchStrategy[list[str]]:
    """A flag with values of its own type, often at or past the edges, and now and then anything."""
    flag = flag_for(*key)
    if kind is bool:
        return st.sampled_from([[flag], ["--no-" + flag[2:]], [f"{flag}=1"]])
    if kind is int:
        own = st.integers(min_value=-(2**64), max_value=2**64).map(str)
    elif kind is float:
        own = st.floats(allow_nan=True, allow_infinity=True).map(repr)
    elif kind is str:
        own = st.sampled_from(CHOICES.get(key[1], ["x"]))
    else:  # widths
        own = st.lists(st.integers(min_value=-3, max_value=2**40), min_size=1, max_size=3).map(
            lambda ws: ",".join(map(str, ws)))
    return st.one_of(own, own, TYPED).map(lambda value: [f"{flag}={value}"])  # '=': a value may start with '-'


# Every flag of the train command but those that pick an environment or where the run goes.
FLAG_VALUES = st.one_of(*(_flag_values(key, kind) for key, kind in sorted(field_types().items(), key=str)
                          if key not in {("env", "env_id"), ("run", "run_dir"), ("run", "address")}))
# JSON and TOML values of every type, the wrong ones included.
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**65), max_value=2**65),
              st.floats(allow_nan=True, allow_infinity=True),
              st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=":\x00"),
                      max_size=10)),
    lambda children: st.lists(children, max_size=3),
    max_leaves=4,
)


def _run(*argv: str) -> tuple[int, str]:
    """``asyncrl *argv`` in this process: (exit code, stderr). Any exception fails the test."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
    return code, err.getvalue()


def _exit_0_or_one_line(code: int, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2), (code, stderr)
    if code == 2:
        assert len(stderr.strip().splitlines()) == 1, stderr


def _toml_value(value) -> str:
    """``value`` written as TOML (which has no null: a None becomes a string)."""
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


@settings(SETTINGS, max_examples=400)
@given(st.sampled_from(["CartPole-v1", "Pendulum-v1", "ALE/Pong-v5"]), st.lists(FLAG_VALUES, max_size=4))
def test_any_flag_values_end_in_exit_0_or_one_line(env_id, flags):
    argv = ["train", "--env", env_id, "--print-config", *(arg for flag in flags for arg in flag)]
    _exit_0_or_one_line(*_run(*argv))


@SETTINGS
@given(st.dictionaries(
    st.one_of(st.sampled_from(GROUPS), st.text(max_size=5)),
    st.dictionaries(st.one_of(st.sampled_from(sorted({n for _, n in field_types()})), st.text(max_size=6)),
                    VALUES, max_size=4),
    max_size=3))
def test_any_toml_contents_end_in_exit_0_or_one_line(tmp_path_factory, sections):
    path = tmp_path_factory.mktemp("toml") / "c.toml"
    lines = []
    for section, values in sections.items():
        lines.append(f"[{json.dumps(section)}]")
        lines += [f"{json.dumps(name)} = {_toml_value(value)}" for name, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    _exit_0_or_one_line(*_run("train", "--config", str(path), "--env", "CartPole-v1", "--print-config"))


@SETTINGS
@given(st.binary(max_size=64))
def test_any_bytes_as_a_config_file_end_in_exit_0_or_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "c.toml"
    path.write_bytes(data)
    _exit_0_or_one_line(*_run("train", "--config", str(path), "--env", "CartPole-v1", "--print-config"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    result = subprocess.run([sys.executable, "-m", "asyncrl", "train", "--env", "CartPole-v1", "--workers", "1",
                             "--frames", "2000", "--quiet", "--run-dir", str(run)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return run


KEYS = sorted(field_types()) + [("net", "unknown"), ("nowhere", "x")]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(edits=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3))
def test_any_edit_of_config_json_ends_in_exit_0_or_one_line(trained, tmp_path_factory, edits):
    run = tmp_path_factory.mktemp("edited") / "run"
    shutil.copytree(trained, run)
    config = json.loads((run / "config.json").read_text())
    for (group, name), value in edits:
        if isinstance(config.get(group), dict):
            config[group][name] = value
        else:
            config[group] = {name: value}
    (run / "config.json").write_text(json.dumps(config))
    _exit_0_or_one_line(*_run("train", "--run-dir", str(run), "--resume", "--print-config"))
    _exit_0_or_one_line(*_run("evaluate", str(run), "--episodes", "1"))


def test_the_properties_see_the_refusals_they_are_about():
    # The helpers above would pass on a CLI that accepted everything: show that they do see a refusal.
    code, stderr = _run("train", "--env", "CartPole-v1", "--seed=-1", "--print-config")
    assert code == 2 and "--seed" in stderr
