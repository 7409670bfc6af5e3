"""Watch a trained agent: play episodes, print their scores, and record them as a video.

The video holds the environment's own rendering (Atari: the full-colour 210x160 screen, one frame
per agent step, so 15 frames per second is real time at action repeat 4), written with imageio and
the ffmpeg binary that the imageio-ffmpeg wheel ships. Episodes are played as evaluation plays
them (``asyncrl.evaluate``): no-op starts and at most 5 minutes of play on Atari, raw scores.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asyncrl.config import frames_per_step, is_atari
from asyncrl.errors import RenderError

ATARI_FRAMES_PER_SECOND = 60  # the console's
MIN_VIDEO_SIDE = 320  # pixels; smaller renderings are enlarged by a whole factor
VIDEO_FORMATS = (".mp4", ".mkv", ".webm", ".avi", ".mov")


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
    """
    from asyncrl.agent import load

    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if video is not None:
        video = Path(video)
        if video.suffix.lower() not in VIDEO_FORMATS:
            raise RenderError(f"cannot write a video to {video}: name it {', '.join(VIDEO_FORMATS)}")
        if not video.parent.is_dir():
            raise RenderError(f"cannot write {video}: {video.parent} is not a directory")
        _headless()
    agent = load(run_dir, seed=seed, deterministic=deterministic, epsilon=epsilon)
    env = agent.make_env(render_mode="rgb_array" if video is not None else None,
                         max_episode_frames=max_episode_frames)
    if fps is None:
        fps = (ATARI_FRAMES_PER_SECOND / frames_per_step(agent.config.env) if is_atari(agent.config.env.env_id)
               else env.metadata.get("render_fps") or 30)
    writer = None
    returns: list[float] = []
    lengths: list[int] = []
    written, size = 0, None

    def record(env) -> None:
        nonlocal written, size
        frame = _render(env)
        writer.append_data(frame)
        written, size = written + 1, (frame.shape[1], frame.shape[0])

    try:
        if video is not None:
            writer = _open_writer(video, fps)
        for index, episode in enumerate(agent.episodes(env, episodes, record if writer is not None else None)):
            returns.append(episode.ret)
            lengths.append(episode.length)
            if on_episode is not None:
                on_episode(index, episode.ret, episode.length)
    finally:
        env.close()
        if writer is not None:
            writer.close()
    result: dict[str, Any] = {
        "env": agent.config.env.env_id,
        "algo": agent.config.algo.algo,
        "checkpoint_frames": agent.checkpoint_frames,
        "policy": agent.policy,
        "episodes": episodes,
        "returns": returns,
        "lengths": lengths,
    }
    if video is not None:
        result.update(video=str(video), frames=written, fps=fps, size=size)
    return result


def _open_writer(path: Path, fps: float):
    import imageio.v2 as imageio

    try:
        # macro_block_size=2: keep the frame's own size (even sides are all H.264 needs).
        return imageio.get_writer(path, fps=fps, macro_block_size=2, ffmpeg_log_level="error")
    except (ValueError, OSError, RuntimeError) as exc:
        raise RenderError(f"cannot write a video to {path}: {exc}") from None


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
