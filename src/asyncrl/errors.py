"""Errors a command reports as one line (exit code 1), defined apart from the heavy modules that
raise them so that the CLI can catch them without loading PyTorch."""


class TrainingError(RuntimeError):
    """Training stopped because a learner failed; the run directory holds a final checkpoint."""


class RenderError(RuntimeError):
    """The environment cannot draw its frames here (e.g. MuJoCo without an OpenGL backend)."""
