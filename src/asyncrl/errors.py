"""Errors a command reports as one line (exit code 1), defined apart from the heavy modules that
raise them so that the CLI can catch them without loading PyTorch."""


class TrainingError(RuntimeError):
    """Training stopped because a learner failed; the run directory holds a final checkpoint."""


class RenderError(RuntimeError):
    """The environment cannot draw its frames here (e.g. MuJoCo without an OpenGL backend)."""


class WriteError(RuntimeError):
    """A file of the run could not be written (a full disk, a read-only file system, a quota): the
    message names the file and the cause; the previous checkpoint is kept."""


class StoppedBeforeStart(RuntimeError):
    """A stop signal (Ctrl-C) came before the run directory was made: nothing was written."""


class SettingWarning(UserWarning):
    """A setting that has no effect on the task it was given for (``--frameskip`` on CartPole)."""
