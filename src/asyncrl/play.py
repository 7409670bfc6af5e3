"""Watch a trained agent: play episodes, print their scores, and record them as a video.

The video holds the environment's own rendering (Atari: the full-colour 210x160 screen, one frame
per agent step, so 15 frames per second is real time at action repeat 4), piped to the ffmpeg
binary that the imageio-ffmpeg wheel ships: H.264, or VP9 for .webm. Episodes are played as
evaluation plays them (``asyncrl.evaluate``): no-op starts and at most 5 minutes of play on Atari,
raw scores.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from asyncrl.config import ConfigError, frames_per_step, is_atari
from asyncrl.errors import RenderError

ATARI_FRAMES_PER_SECOND = 60  # the console's
MIN_VIDEO_SIDE = 320  # pixels; smaller renderings are enlarged by a whole factor
VIDEO_FORMATS = (".mp4", ".mkv", ".webm", ".avi", ".mov")
# The values of MUJOCO_GL that Gymnasium's MuJoCo renderer accepts (mujoco_rendering._ALL_RENDERERS).
MUJOCO_BACKENDS = ("egl", "osmesa", "glfw")


def _headless() -> None:
    # MuJoCo renders through OpenGL; without a display, EGL (Mesa's, or a GPU's) works offscreen.
    # It reads MUJOCO_GL when it is first imported, so this must come before the first environment.
    # pygame (classic control) draws into memory either way; its dummy driver needs no display.
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("MUJOCO_GL", "egl")
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def play(run_dir: str | os.PathLike, episodes: int = 1, *, video: str | os.PathLike | None = None,
         seed: int | None = None, deterministic: bool = False, epsilon: float | None = None,
         max_episode_frames: int | None = None, fps: float | None = None,
         on_episode: Callable[[int, float, int], None] | None = None) -> dict[str, Any]:
    """Play ``episodes`` episodes with the run's latest checkpoint; with ``video``, record them.

    Returns the scores (``returns``, ``lengths``) and, with a video, its ``video``, ``frames``,
    ``fps`` and ``size``. ``on_episode(index, return, length)`` is called as each episode ends.
    A video that cannot be written is refused before playing; one whose writing fails on the way
    is removed, and RenderError names the file and the cause.
    """
    from asyncrl.agent import load

    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if video is not None:
        video = Path(video)
        _check_video_target(video)
        _headless()
        _check_mujoco_backend(Path(run_dir))
    agent = load(run_dir, seed=seed, deterministic=deterministic, epsilon=epsilon)
    env = agent.make_env(render_mode="rgb_array" if video is not None else None,
                         max_episode_frames=max_episode_frames)
    if fps is None:
        fps = (ATARI_FRAMES_PER_SECOND / frames_per_step(agent.config.env) if is_atari(agent.config.env.env_id)
               else env.metadata.get("render_fps") or 30)
    writer = VideoWriter(video, fps) if video is not None else None
    returns: list[float] = []
    lengths: list[int] = []

    def record(env) -> None:
        writer.append(_render(env))

    try:
        for index, episode in enumerate(agent.episodes(env, episodes, record if writer is not None else None)):
            returns.append(episode.ret)
            lengths.append(episode.length)
            if on_episode is not None:
                on_episode(index, episode.ret, episode.length)
    except Exception:
        if writer is not None:
            writer.discard()  # half a video, without its index, would not play
        raise
    finally:
        env.close()
        if writer is not None:
            writer.close()  # also on Ctrl-C: the episodes so far make a whole video
    result: dict[str, Any] = {
        "env": agent.config.env.env_id,
        "algo": agent.config.algo.algo,
        "checkpoint_frames": agent.checkpoint_frames,
        "policy": agent.policy,
        "episodes": episodes,
        "returns": returns,
        "lengths": lengths,
    }
    if writer is not None:
        result.update(video=str(video), frames=writer.frames, fps=fps, size=writer.size)
    return result


def _check_video_target(video: Path) -> None:
    """Refuse a video that cannot be written before playing, not after minutes of play. Only
    opening the file tells: permissions do not stop root, a read-only file system or /sys does."""
    if video.suffix.lower() not in VIDEO_FORMATS:
        raise RenderError(f"cannot write a video to {video}: name it {', '.join(VIDEO_FORMATS)}")
    if not video.parent.is_dir():
        raise RenderError(f"cannot write {video}: {video.parent} is not a directory")
    existed = video.exists()
    try:
        with open(video, "ab"):  # appends nothing: an existing video stays as it is until replaced
            pass
    except OSError as exc:
        raise RenderError(f"cannot write {video}: {exc.strerror or exc}") from None
    if not existed:
        with contextlib.suppress(OSError):
            video.unlink()


def _check_mujoco_backend(run_dir: Path) -> None:
    """MuJoCo reads MUJOCO_GL once, as it is imported, and a value it cannot use fails there, deep
    inside gym.make, or at the first frame: say so before playing, with the values that work."""
    backend = os.environ.get("MUJOCO_GL")
    if backend is None or backend in MUJOCO_BACKENDS:
        return
    from asyncrl.run import read_config

    env_id = read_config(run_dir).env.env_id
    if _uses_mujoco(env_id):
        raise ConfigError(f"{env_id} cannot render with MUJOCO_GL={backend}, which names no MuJoCo rendering "
                          "backend Gymnasium can use: set MUJOCO_GL=egl (offscreen: a GPU or Mesa), "
                          "osmesa (offscreen, software) or glfw (a window on a display)")


def _uses_mujoco(env_id: str) -> bool:
    """Whether Gymnasium's registry builds ``env_id`` from its MuJoCo environments (MuJoCo not imported)."""
    import gymnasium as gym

    try:
        entry = gym.spec(env_id).entry_point
    except (gym.error.Error, ImportError):
        return False  # ALE ids are registered only once ale_py is imported: not MuJoCo either
    module = entry if isinstance(entry, str) else getattr(entry, "__module__", "")
    return module.startswith("gymnasium.envs.mujoco")


def _render(env):
    try:
        frame = env.render()
    except Exception as exc:  # noqa: BLE001 (each renderer fails its own way)
        hint = " (MuJoCo without a display: set MUJOCO_GL=egl or MUJOCO_GL=osmesa)" if "GL" in str(exc) else ""
        raise RenderError(f"{env.spec.id if env.spec else 'the environment'} cannot render: {exc}{hint}") from None
    if frame is None:
        raise RenderError("the environment rendered no frame")
    # Atari's 210x160 screen is small on today's displays: enlarge by whole pixels (no blur).
    scale = -(-MIN_VIDEO_SIDE // min(frame.shape[:2]))
    if scale > 1:
        frame = frame.repeat(scale, axis=0).repeat(scale, axis=1)
    return frame


class VideoWriter:
    """RGB frames piped to an ffmpeg process that encodes them into ``path``.

    ffmpeg is started with the first frame (its size is the video's). What it says goes to a
    temporary file, not the terminal, so that a failure is one line with ffmpeg's own reason; and
    its exit status is checked, since a file cut short (a full disk, a file size limit) is only
    found out as ffmpeg writes the index at the end. A video that fails is removed: it would not play.
    """

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.frames, self.size = 0, None
        self._ffmpeg: subprocess.Popen | None = None
        self._log = None

    def append(self, frame: np.ndarray) -> None:
        if self._ffmpeg is None:
            self._start(frame.shape[1], frame.shape[0])
        try:
            self._ffmpeg.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).data)
        except OSError:  # ffmpeg has stopped: its log says why
            self._fail()
        self.frames += 1

    def close(self) -> None:
        """Finish the video; RenderError (and no file) if ffmpeg could not."""
        if self._ffmpeg is None:
            return
        try:
            self._ffmpeg.stdin.close()
        except OSError:
            pass  # ffmpeg has stopped: its exit status says so
        if self._ffmpeg.wait() != 0:
            self._fail()
        self._end()

    def discard(self) -> None:
        """Stop ffmpeg and remove what it wrote (nothing was written before the first frame)."""
        if self._ffmpeg is None:
            return
        self._ffmpeg.kill()
        self._ffmpeg.wait()
        self._remove()

    def _start(self, width: int, height: int) -> None:
        from imageio_ffmpeg import get_ffmpeg_exe

        self.size = (width, height)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (ffmpeg writes it for the whole video)
        webm = self.path.suffix.lower() == ".webm"  # WebM holds VP8, VP9 or AV1 only
        codec = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"] if webm else ["-c:v", "libx264"]
        command = [get_ffmpeg_exe(), "-y", "-v", "error",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{self.fps:g}", "-i", "-",
                   "-an", *codec, "-pix_fmt", "yuv420p",
                   "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",  # 4:2:0 needs even sides
                   str(self.path)]
        try:
            # A session of its own: Ctrl-C stops the playing, and ffmpeg still finishes the video.
            self._ffmpeg = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=self._log, start_new_session=True)
        except OSError as exc:
            self._end()
            raise RenderError(f"cannot write {self.path}: ffmpeg cannot start: {exc.strerror or exc}") from None

    def _fail(self) -> None:
        try:
            status = self._ffmpeg.wait(timeout=10)  # its input closed: it is on its way out
        except subprocess.TimeoutExpired:
            self._ffmpeg.kill()
            status = self._ffmpeg.wait()
        cause = self._cause(status)
        self._remove()
        raise RenderError(f"cannot write {self.path}: {cause}; the partial video was removed")

    def _cause(self, status: int) -> str:
        self._log.seek(0)
        said = self._log.read().decode(errors="replace").splitlines()
        # ffmpeg's first complaint names the cause; what follows are its consequences.
        first = next((re.sub(r"^\[[^]]*\] *", "", line).strip() for line in said if line.strip()), "")
        if first:
            return f"ffmpeg: {first}"
        if status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = f"signal {-status}"
            limit = " (the file size limit, ulimit -f)" if name == "SIGXFSZ" else ""
            return f"ffmpeg was stopped by {name}{limit}"
        return f"ffmpeg stopped with exit status {status}"

    def _remove(self) -> None:
        self._end()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _end(self) -> None:
        if self._log is not None:
            self._log.close()
        self._ffmpeg, self._log = None, None
