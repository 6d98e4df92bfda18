"""Writing rendered frames as a replay video: a GIF (Pillow) or an MP4 (H.264 through the
ffmpeg that the ``imageio-ffmpeg`` package ships; no system ffmpeg needed).

Both come with the ``video`` extra (``pip install "rlmodules[video]"``); Pillow also comes
with ``rlmodules[train]``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rlmodules.errors import ConfigError

__all__ = ["VIDEO_FORMATS", "write_video"]

#: File formats :func:`write_video` writes, by extension.
VIDEO_FORMATS = ("gif", "mp4")
_INSTALL = 'pip install "rlmodules[video]"'


def write_video(frames: Sequence[np.ndarray], path: str | os.PathLike[str], *, fps: float
                ) -> Path:
    """Write RGB ``frames`` (``[H, W, 3]`` uint8, all one size) to ``path``, a ``.gif`` or
    ``.mp4`` file, played at ``fps`` frames per second; returns the path.

    Example::

        write_video(record_episode_frames(algo), "replay.mp4", fps=50)
    """
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in VIDEO_FORMATS:
        raise ConfigError(f"cannot write {path}: replay videos are {', '.join(VIDEO_FORMATS)} "
                          f"files; use one of those extensions")
    if not frames:
        raise ConfigError(f"cannot write {path}: no frames were rendered")
    if not fps > 0:
        raise ConfigError(f"cannot write {path}: fps must be positive, got {fps}")
    images = [_rgb(frame, path) for frame in frames]
    # Written beside the target and moved in: a failure never leaves half a video behind.
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        (_write_gif if kind == "gif" else _write_mp4)(images, partial, fps)
        os.replace(partial, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return path


def _rgb(frame: Any, path: Path) -> np.ndarray:
    array = np.asarray(frame)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ConfigError(
            f"cannot write {path}: frames must be RGB uint8 arrays [H, W, 3], got "
            f"{array.dtype} {list(array.shape)}"
        )
    return array


def _write_gif(images: list[np.ndarray], path: Path, fps: float) -> None:
    try:
        from PIL import Image
    except ImportError:
        raise ConfigError(f"writing {path.name} needs Pillow; install it with `{_INSTALL}`"
                          ) from None
    pictures = [Image.fromarray(image) for image in images]
    # GIF frame times are whole hundredths of a second.
    duration = max(10, int(round(100 / fps)) * 10)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=duration,
                     loop=0)


def _write_mp4(images: list[np.ndarray], path: Path, fps: float) -> None:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ConfigError(
            f"writing {path.name} needs imageio-ffmpeg (it ships an ffmpeg binary); install "
            f"it with `{_INSTALL}`, or write a .gif"
        ) from None
    height, width = images[0].shape[:2]
    even = (height + height % 2, width + width % 2)  # H.264 in yuv420p needs even sizes
    writer = imageio_ffmpeg.write_frames(
        str(path), (even[1], even[0]), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
        macro_block_size=1, ffmpeg_log_level="error", quality=7)
    writer.send(None)  # start ffmpeg
    try:
        for image in images:
            if image.shape[:2] != (height, width):
                raise ConfigError(f"cannot write {path}: frames differ in size "
                                  f"({list(image.shape[:2])} after {[height, width]})")
            padded = np.zeros((*even, 3), np.uint8)
            padded[:height, :width] = image
            writer.send(np.ascontiguousarray(padded))
    finally:
        writer.close()
