"""asyncrl's task-dependent defaults, as one table.

A setting whose good value depends on the task is ``None`` in the config dataclasses and filled by
:func:`asyncrl.config.resolve` from :data:`TABLE`: one row per value, for the task families and
methods it holds for, with the one-clause reason it differs from the paper and the experiment whose
runs chose it. The paper's values are the presets' (:mod:`asyncrl.presets`), so they are written
once too. The help texts, ``--print-config``, ``docs/defaults.md`` and the README's table of
differences are generated from this module; nothing else states a default.

Task families: ``atari`` (ALE ids, pixels, the paper's Atari pipeline), ``vector`` (vector
observations, discrete actions) and ``continuous`` (a ``Box`` action space). Methods: ``a3c-ff``,
``a3c-lstm``, ``one-step-q``, ``one-step-sarsa``, ``n-step-q``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]  # (config group, field)

FAMILIES = ("atari", "vector", "continuous")
FAMILY_NAMES = {"atari": "Atari", "vector": "vector observations", "continuous": "continuous actions"}
SHORT_NAMES = {"atari": "Atari", "vector": "vector", "continuous": "continuous"}  # in the flags' help
METHODS = ("a3c-ff", "a3c-lstm", "one-step-q", "one-step-sarsa", "n-step-q")
METHOD_NAMES = {"a3c-ff": "A3C FF", "a3c-lstm": "A3C LSTM", "one-step-q": "one-step Q",
                "one-step-sarsa": "one-step Sarsa", "n-step-q": "n-step Q"}
A3C = ("a3c-ff", "a3c-lstm")
Q = ("one-step-q", "one-step-sarsa", "n-step-q")
ONE_STEP = ("one-step-q", "one-step-sarsa")
ALL = METHODS
ANY_TASK = FAMILIES
NOT_CONTINUOUS = ("atari", "vector")
VECTOR_OBS = ("vector", "continuous")

EXPERIMENTS = "docs/experiments"
A3C_FF_ATARI = f"{EXPERIMENTS}/atari-a3c-ff.md"
LSTM_ATARI = f"{EXPERIMENTS}/atari-a3c-lstm.md"
N_STEP_Q_ATARI = f"{EXPERIMENTS}/atari-n-step-q.md"
ONE_STEP_ATARI = f"{EXPERIMENTS}/atari-one-step-q-sarsa.md"
SPEED = f"{EXPERIMENTS}/speed-on-2-cores.md"
SPEED_2 = f"{EXPERIMENTS}/speed-second-round.md"
CONTINUOUS = f"{EXPERIMENTS}/continuous-a3c.md"
SMALL_TASKS = f"{EXPERIMENTS}/small-tasks.md"

ATARI_ACTORS = 16  # environments acting in all with the default Atari layout: the paper's 16 actors
ATARI_MAX_LEARNERS = 16  # the paper's 16 actor-learner threads, as a ceiling


@dataclass(frozen=True)
class PerCore:
    """A learner per CPU, at most ``limit`` (the value of ``--workers``)."""

    limit: int | None = None

    def __call__(self, cpus: int, workers: int) -> int:
        return cpus if self.limit is None else min(cpus, self.limit)

    def __str__(self) -> str:
        return "one per core" + (f", at most {self.limit}" if self.limit else "")


@dataclass(frozen=True)
class ActorsInAll:
    """Enough environments per learner that at least ``actors`` act in all (``--envs-per-worker``)."""

    actors: int

    def __call__(self, cpus: int, workers: int) -> int:
        return -(-self.actors // workers)  # ceil

    def __str__(self) -> str:
        return f"{self.actors} / workers, rounded up"


@dataclass(frozen=True)
class Row:
    """One default: ``key`` is ``value`` for these task families and methods. ``why`` says in one
    clause why it differs from the paper (empty where it is the paper's) and ``doc`` is the
    experiment whose runs chose it. ``only_if`` (a key and a value) limits the row to configs that
    have that value; the next matching row applies otherwise."""

    key: Key
    value: Any
    families: tuple[str, ...] = ANY_TASK
    methods: tuple[str, ...] = ALL
    why: str = ""
    doc: str = ""
    only_if: tuple[Key, Any] | None = None

    def matches(self, family: str, method: str, config: Any = None) -> bool:
        if family not in self.families or method not in self.methods:
            return False
        if self.only_if is None or config is None:
            return True
        (group, name), wanted = self.only_if
        return getattr(getattr(config, group), name) == wanted


# Where a setting has an effect at all: the rest of the table still fills it (config.json records a
# value for every field), but the help and the docs only speak of where it matters.
APPLIES: dict[Key, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("net", "hidden"): (VECTOR_OBS, ALL),
    ("net", "activation"): (VECTOR_OBS, ALL),
    ("net", "policy_std"): (("continuous",), A3C),
    ("net", "log_std_init"): (("continuous",), A3C),
    ("net", "obs_norm"): (VECTOR_OBS, ALL),
    ("net", "reward_norm"): (VECTOR_OBS, ALL),
    ("net", "shared_torso"): (ANY_TASK, A3C),
    ("net", "lstm_cells"): (ANY_TASK, ("a3c-lstm",)),
    ("net", "q_init_gain"): (NOT_CONTINUOUS, Q),
    ("algo", "t_max"): (ANY_TASK, (*A3C, "n-step-q")),
    ("algo", "target_update"): (NOT_CONTINUOUS, Q),
    ("algo", "epsilon_frames"): (NOT_CONTINUOUS, Q),
    ("algo", "entropy_beta"): (ANY_TASK, A3C),
    ("env", "vector_env"): (("atari",), ALL),
}

# The rows, grouped by setting; within a setting the first matching row wins, so a method's own
# row comes before its family's.
TABLE: tuple[Row, ...] = (
    # Where learners run: on Atari a learner per core stepping several environments, not the paper's
    # 16 single-environment threads (which on 2 cores only contend).
    Row(("run", "workers"), PerCore(ATARI_MAX_LEARNERS), ("atari",),
        why="more learners than cores only contend; a learner per core is fastest", doc=SPEED),
    Row(("run", "workers"), PerCore(), VECTOR_OBS, why="a learner per core", doc=SPEED),
    Row(("run", "envs_per_worker"), ActorsInAll(ATARI_ACTORS), ("atari",),
        why="the paper's 16 actors, as environments batched within each learner", doc=SPEED),
    Row(("run", "envs_per_worker"), 1, VECTOR_OBS),
    Row(("env", "vector_env"), True, ("atari",),
        why="ALE's C++ vector environment: about 10 % more frames/s, Breakout learnt no less per frame",
        doc=SPEED_2),
    # The training budget; an annealed lr reaches 0 at its end.
    Row(("run", "frames"), 40_000_000, ("atari",), ("a3c-ff",),
        why="lr anneals over A2C's 40M frames: an hour holds 14-28M, over 80M the rate barely falls in it",
        doc=A3C_FF_ATARI),
    Row(("run", "frames"), 11_500_000, ("atari",), ONE_STEP,
        why="the lr falls to 0 within the hour; over 80M SpaceInvaders' games fell back late in it",
        doc=ONE_STEP_ATARI),
    Row(("run", "frames"), 80_000_000, ("atari",)),
    Row(("run", "frames"), 1_000_000, ("vector",), why="CartPole-v1 is learnt well within it", doc=SMALL_TASKS),
    Row(("run", "frames"), 1_000_000, ("continuous",), why="the MuJoCo benchmarks' budget, 1M steps",
        doc=CONTINUOUS),
    # Shared RMSProp: normalised steps that start small (A2C's), not the paper's epsilon 0.1.
    Row(("optim", "rms_eps"), 1e-5, ("atari",), ("n-step-q",),
        why="A3C FF's; with them and its layout n-step Q learnt Breakout to 47.8 in 15 minutes", doc=N_STEP_Q_ATARI),
    Row(("optim", "rms_eps"), 1e-5, ("atari",),
        why="with 0.1 every update is plain SGD and Pong's policy did not move in 15 minutes", doc=A3C_FF_ATARI),
    Row(("optim", "rms_eps"), 1e-5, ("continuous",), why="SB3 A2C's MuJoCo setting, normalised steps",
        doc=CONTINUOUS),
    Row(("optim", "rms_eps"), 0.1, ("vector",)),
    Row(("optim", "rms_init"), 1.0, ("atari",),
        why="g starts at 1 (TensorFlow's RMSProp): with a small epsilon, g = 0 makes the first steps 10x the "
            "lr, which can kill the torso", doc=A3C_FF_ATARI),
    Row(("optim", "rms_init"), 1.0, ("continuous",), why="A3C FF's on Atari; SB3 A2C's own start measured no "
        "better", doc=CONTINUOUS),
    Row(("optim", "rms_init"), 0.0, ("vector",)),
    # The learning rate and its schedule.
    Row(("optim", "lr"), 1e-4, ("atari",), ("a3c-lstm",),
        why="at 7e-4 the torso's units die in Pong's first minute and the LSTM sees one constant",
        doc=LSTM_ATARI),
    Row(("optim", "lr"), 2e-3, ("atari",), ("one-step-sarsa",),
        why="one-step Q's (Sarsa differs only in its target); at it SpaceInvaders' hours evaluated at 290 and 402",
        doc=ONE_STEP_ATARI),
    Row(("optim", "lr"), 2e-3, ("atari",), ("one-step-q",),
        why="at 7e-4 one-step Q played SpaceInvaders no better than random after 15 minutes",
        doc=ONE_STEP_ATARI),
    Row(("optim", "lr"), 7e-4, ("atari",)),
    Row(("optim", "lr"), 3.5e-4, ("continuous",),
        why="at SB3 A2C's 7e-4 two HalfCheetah seeds of five lost the gait they had found", doc=CONTINUOUS),
    Row(("optim", "lr"), 1e-3, ("vector",), ("a3c-lstm",),
        why="at 3e-3, 21 of 53 CartPole runs lost a while to a policy of one action, and one in CI never left it",
        doc=SMALL_TASKS),
    Row(("optim", "lr"), 3e-3, ("vector",), A3C, why="tuned on CartPole-v1", doc=SMALL_TASKS),
    Row(("optim", "lr"), 1e-3, ("vector",), Q, why="tuned on CartPole-v1", doc=SMALL_TASKS),
    Row(("optim", "lr_anneal"), False, ("atari",), ("a3c-lstm",),
        why="annealed, Breakout was still doubling when the rate had fallen to a third (74 against 153)",
        doc=LSTM_ATARI),
    Row(("optim", "lr_anneal"), True),
    Row(("optim", "max_grad_norm"), 40.0, ("atari",)),
    Row(("optim", "max_grad_norm"), 0.0, VECTOR_OBS,
        why="with returns in the hundreds a clipped value function diverges; SB3 A2C's 0.5 learnt MuJoCo less",
        doc=CONTINUOUS),
    # The network.
    Row(("net", "init"), "orthogonal", ("atari",),
        why="with the uniform init the features barely see Pong's ball and paddles", doc=A3C_FF_ATARI),
    Row(("net", "init"), "orthogonal", ("continuous",), why="SB3 A2C's MuJoCo setting", doc=CONTINUOUS),
    Row(("net", "init"), "uniform", ("vector",)),
    Row(("net", "q_init_gain"), 0.01, ("atari",), ("n-step-q",),
        why="at gain 1, 5 of 16 starting networks lost their torso on Pong; at 0.01, 1 of the same 16",
        doc=N_STEP_Q_ATARI, only_if=(("net", "init"), "orthogonal")),
    Row(("net", "q_init_gain"), 1.0),
    Row(("net", "shared_torso"), True, ("atari",)),
    Row(("net", "shared_torso"), False, VECTOR_OBS),
    Row(("net", "lstm_cells"), 256, ("atari",)),
    Row(("net", "lstm_cells"), 128, VECTOR_OBS),
    Row(("net", "hidden"), (64, 64), ("continuous",), why="SB3 A2C's MuJoCo network", doc=CONTINUOUS),
    Row(("net", "hidden"), (200,), NOT_CONTINUOUS),
    Row(("net", "activation"), "tanh", ("continuous",), why="SB3 A2C's MuJoCo network", doc=CONTINUOUS),
    Row(("net", "activation"), "relu", NOT_CONTINUOUS),
    Row(("net", "policy_std"), "log-std", ("continuous",),
        why="the paper's variance per state learnt no locomotion in 1M steps (HalfCheetah -80 to -430)",
        doc=CONTINUOUS),
    Row(("net", "policy_std"), "softplus", NOT_CONTINUOUS),
    Row(("net", "log_std_init"), -1.0, ("continuous",),
        why="at sigma 1 the untrained policy flips HalfCheetah onto its back in 9 of 10 episodes", doc=CONTINUOUS),
    Row(("net", "obs_norm"), True, ("continuous",)),
    Row(("net", "obs_norm"), False, NOT_CONTINUOUS),
    Row(("net", "reward_norm"), True, ("continuous",),
        why="the value's targets stay near 1 whatever the reward scale (SB3 A2C's VecNormalize)", doc=CONTINUOUS),
    Row(("net", "reward_norm"), False, NOT_CONTINUOUS),
    # The algorithms.
    Row(("algo", "t_max"), 20, ("continuous",), A3C,
        why="at 5 three Hopper seeds of five stood still; Pendulum needs --lr 1.4e-3 with it", doc=CONTINUOUS),
    Row(("algo", "t_max"), 5),
    Row(("algo", "target_update"), 40_000, ("atari",)),
    Row(("algo", "target_update"), 2_000, VECTOR_OBS,
        why="40,000 frames is far too slow for a budget of a few hundred thousand", doc=SMALL_TASKS),
    Row(("algo", "epsilon_frames"), 4_000_000, ("atari",)),
    Row(("algo", "epsilon_frames"), 200_000, VECTOR_OBS,
        why="annealed over the first 200,000 frames the Q methods stop collapsing", doc=SMALL_TASKS),
    Row(("algo", "entropy_beta"), 0.0, ("continuous",),
        why="SB3 A2C's: the log-std is learnt without a bonus", doc=CONTINUOUS),
    Row(("algo", "entropy_beta"), 0.01, NOT_CONTINUOUS),
)

# Filled in this order, so that a row's ``only_if`` sees its condition filled (init before q_init_gain)
# and --envs-per-worker sees --workers.
KEYS: tuple[Key, ...] = tuple(dict.fromkeys(row.key for row in TABLE))


def task_family(atari: bool, continuous: bool) -> str:
    return "atari" if atari else "continuous" if continuous else "vector"


def method_of(algo: str, core: str) -> str:
    return f"a3c-{core}" if algo == "a3c" else algo


def row_for(key: Key, family: str, method: str, config: Any = None) -> Row:
    """The row that sets ``key`` for this family and method (and ``config``'s ``only_if`` values)."""
    for row in TABLE:
        if row.key == key and row.matches(family, method, config):
            return row
    raise LookupError(f"no default for {key} on {family} with {method}")


def value_of(row: Row, cpus: int = 1, workers: int = 1) -> Any:
    return row.value(cpus, workers) if callable(row.value) else row.value


def applies(key: Key, family: str, method: str) -> bool:
    families, methods = APPLIES.get(key, (ANY_TASK, ALL))
    return family in families and method in methods


def methods_in(family: str) -> tuple[str, ...]:
    return A3C if family == "continuous" else METHODS


# The paper's preset for each family and method; the vector family has none (the paper has no
# discrete task with vector observations).
def paper_preset(family: str, method: str) -> str | None:
    if family == "atari":
        return f"atari-{method}"
    if family == "continuous" and method in A3C:
        return "mujoco-a3c"
    return None


def paper_value(key: Key, family: str, method: str) -> Any:
    """The paper's value (its preset's), or None where the paper states none."""
    from asyncrl.presets import PRESETS  # presets import the config, which imports this module

    name = paper_preset(family, method)
    return None if name is None else PRESETS[name].settings.get(key)


def shown(value: Any) -> str:
    """A value as the docs and help print it: 40M, 3.5e-4, 2,000, 64,64, on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, int) and value >= 1_000_000 and value % 100_000 == 0:
        return f"{value / 1e6:g}M"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value != 0 and abs(value) < 1e-2:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _grouped(key: Key, family: str) -> list[tuple[str, list[str]]]:
    """(shown value, the methods it holds for) for ``key`` in ``family``, where it applies."""
    out: dict[str, list[str]] = {}
    for method in methods_in(family):
        if applies(key, family, method):
            out.setdefault(row_text(row_for(key, family, method)), []).append(method)
    return list(out.items())


def row_text(row: Row) -> str:
    return shown(row.value) if not callable(row.value) else str(row.value)


def _methods_text(methods: list[str]) -> str:
    for group, name in ((Q, "the Q methods"), (ONE_STEP, "one-step Q and Sarsa"), (A3C, "A3C")):
        if set(methods) == set(group):
            return name
    return ", ".join(METHOD_NAMES[m] for m in methods)


def _by_family(texts: dict[str, str], names: dict[str, str] = FAMILY_NAMES) -> str:
    """``{family: text}`` as one phrase, families with the same text named together."""
    together: dict[str, list[str]] = {}
    for family, text in texts.items():
        together.setdefault(text, []).append(family)
    if len(together) == 1:
        return next(iter(together))
    return ", ".join(f"{text} for " + " and ".join(names[f] for f in families)
                     for text, families in together.items())


def summary(key: Key, names: dict[str, str] = FAMILY_NAMES) -> str:
    """The default of ``key`` in a few words, by family where it differs: ``7e-4 (A3C LSTM 1e-4;
    one-step Q and Sarsa 2e-3) for Atari, ...``."""
    texts = {}
    for family in FAMILIES:
        groups = sorted(_grouped(key, family), key=lambda g: -len(g[1]))
        if groups:
            (main, _), rest = groups[0], groups[1:]
            exceptions = "; ".join(f"{_methods_text(m)} {v}" for v, m in rest)
            texts[family] = main + (f" ({exceptions})" if exceptions else "")
    return _by_family(texts, names)


def paper_summary(key: Key, names: dict[str, str] = FAMILY_NAMES) -> str | None:
    """The paper's value of ``key`` (its presets'): for Atari and continuous actions, where it states one."""
    texts = {}
    for family in ("atari", "continuous"):
        values = {shown(paper_value(key, family, m)) for m in methods_in(family)
                  if applies(key, family, m) and paper_value(key, family, m) is not None}
        if values:
            texts[family] = "/".join(sorted(values))
    return _by_family(texts, names) if texts else None


def flag_default(key: Key, field_default: Any) -> str | None:
    """``default X; paper Y`` for a flag's help: the table's values, or the field's own default with
    the presets' value where they differ from it."""
    if key in KEYS:
        text, paper = summary(key, SHORT_NAMES), paper_summary(key, SHORT_NAMES)
    elif field_default is None or field_default == "":
        return None
    else:
        from asyncrl.presets import PRESETS

        text = shown(field_default)
        papers = {shown(p.settings[key]) for p in PRESETS.values() if key in p.settings}
        paper = papers.pop() if len(papers) == 1 else None
    return f"default {text}" + (f"; paper {paper}" if paper is not None and paper != text else "")


@dataclass(frozen=True)
class Difference:
    """A default that differs from the paper's value for a family and methods."""

    key: Key
    family: str
    methods: tuple[str, ...]
    value: str
    paper: str
    why: str
    doc: str


def differences() -> list[Difference]:
    """Every (family, methods) where asyncrl's default differs from the paper's preset, merged over
    the methods that share value, paper value and reason."""
    merged: dict[tuple, list[str]] = {}
    for key in KEYS:
        for family in ("atari", "continuous"):
            for method in methods_in(family):
                if not applies(key, family, method) or paper_preset(family, method) is None:
                    continue
                row = row_for(key, family, method)
                paper = paper_value(key, family, method)
                if paper is None or (not callable(row.value) and row.value == paper):
                    continue
                merged.setdefault((key, family, row_text(row), shown(paper), row.why, row.doc), []).append(method)
    return [Difference(key, family, tuple(methods), value, paper, why, doc)
            for (key, family, value, paper, why, doc), methods in merged.items()]


def fill(config: Any, family: str, method: str, cpus: int, skip: frozenset[Key] = frozenset()) -> None:
    """Set every unset (None) task-dependent field of ``config`` in place from the table."""
    for key in KEYS:
        if key in skip:
            continue
        group = getattr(config, key[0])
        if getattr(group, key[1]) is not None:
            continue
        row = row_for(key, family, method, config)
        setattr(group, key[1], value_of(row, cpus, config.run.workers or 1))

