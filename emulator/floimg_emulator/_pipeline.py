"""Run a workflow's steps with Pillow. Called from a worker thread, never the event loop.

Steps (``op``): generator ``shapes``; source ``load``; transforms ``resize``,
``convert``, ``blur``, ``grayscale``, ``extract``, ``roundCorners``, ``addText``,
``addCaption``; ``fail`` (for failure tests) and ``save``, which ends the pipeline.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFilter, ImageFont, ImageOps

from ._records import EXTENSIONS

MAX_SIDE = 4096
_LANCZOS = Image.Resampling.LANCZOS
_OUTPUT_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
#: Gradient colour pairs a ``theme`` argument may name.
THEMES: dict[str, tuple[str, str]] = {
    "ocean": ("#0ea5e9", "#1e3a8a"),
    "sunset": ("#f97316", "#db2777"),
    "forest": ("#22c55e", "#14532d"),
    "mono": ("#6b7280", "#111827"),
    "candy": ("#f472b6", "#8b5cf6"),
}
Step = Mapping[str, Any]
RGBA = tuple[int, int, int, int]


class PipelineError(Exception):
    """A step could not run; the execution fails with this message."""


@dataclass(frozen=True)
class RenderResult:
    """The encoded output of a pipeline, written to a temporary file."""

    path: Path
    format: str
    width: int
    height: int
    size: int


def render(steps: Sequence[Step], images: Mapping[str, Path], out_dir: Path) -> RenderResult:
    """Run ``steps`` (already filled with parameters) and write the image into ``out_dir``.

    ``images`` maps the image ids ``load`` may name to their files. Raises
    :class:`PipelineError` with a readable message when a step fails.
    """
    image: Image.Image | None = None
    fmt = "png"
    for number, step in enumerate(steps, start=1):
        op = str(step.get("op"))
        try:
            if op == "save":
                fmt = _format(step.get("format") or fmt)
                break
            if op == "convert":
                fmt = _format(step.get("format"))
            elif op == "shapes":
                image = _shapes(step)
            elif op == "load":
                image = _load(step, images)
            elif op == "fail":
                _fail(step)
            elif op in _TRANSFORMS:
                if image is None:
                    raise PipelineError("there is no image yet (start with shapes or load)")
                image = _TRANSFORMS[op](image, step)
            else:
                raise PipelineError(f"unknown op {op!r}")
        except PipelineError as exc:
            raise PipelineError(f"step {number} ({op}): {exc}") from None
        except (ValueError, TypeError, KeyError, OSError, Image.DecompressionBombError) as exc:
            raise PipelineError(f"step {number} ({op}) failed: {exc}") from exc
    if image is None:
        raise PipelineError("the workflow produced no image")
    return _encode(image, fmt, out_dir)


# -- argument helpers ------------------------------------------------------------------


def _num(step: Step, name: str, default: float | None, low: float, high: float) -> float:
    value = step.get(name, default)
    if value is None:
        raise PipelineError(f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PipelineError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise PipelineError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def _side(step: Step, name: str, default: float | None = None) -> int:
    return round(_num(step, name, default, 1, MAX_SIDE))


def _color(value: Any) -> RGBA:
    try:
        r, g, b, *a = ImageColor.getrgb(str(value))
    except ValueError:
        raise PipelineError(f"not a colour: {value!r}") from None
    return (r, g, b, a[0] if a else 255)


def _format(value: Any) -> str:
    name = str(value).lower()
    if name not in _OUTPUT_FORMATS:
        raise PipelineError(f"format must be png, jpeg or webp, got {value!r}")
    return "jpeg" if name == "jpg" else name


# -- generators and sources ------------------------------------------------------------


def _gradient(size: tuple[int, int], start: RGBA, end: RGBA, direction: str) -> Image.Image:
    vertical = Image.linear_gradient("L")
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90)
    ramp = {"vertical": vertical, "horizontal": horizontal}.get(direction)
    if ramp is None:
        ramp = ImageChops.add(vertical, horizontal, scale=2.0)
    mask = ramp.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGBA", size, end), Image.new("RGBA", size, start), mask)


def _shapes(step: Step) -> Image.Image:
    size = (_side(step, "width", 512), _side(step, "height", 512))
    theme = THEMES.get(str(step.get("theme") or "ocean"), THEMES["ocean"])
    fill = step.get("fill", "solid")
    if fill == "gradient":
        start, end = _color(step.get("from") or theme[0]), _color(step.get("to") or theme[1])
        layer = _gradient(size, start, end, str(step.get("direction", "diagonal")))
    elif fill == "solid":
        layer = Image.new("RGBA", size, _color(step.get("color") or theme[0]))
    else:
        raise PipelineError(f"fill must be solid or gradient, got {fill!r}")
    shape = step.get("shape", "rectangle")
    if shape == "rectangle":
        return layer
    if shape != "circle":
        raise PipelineError(f"shape must be rectangle or circle, got {shape!r}")
    background = step.get("background")
    canvas = Image.new("RGBA", size, _color(background) if background else (0, 0, 0, 0))
    mask = Image.new("L", size, 0)
    radius = min(size) * 0.45
    cx, cy = size[0] / 2, size[1] / 2
    ImageDraw.Draw(mask).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    canvas.paste(layer, (0, 0), mask)
    return canvas


def _load(step: Step, images: Mapping[str, Path]) -> Image.Image:
    image_id = str(step.get("image"))
    path = images.get(image_id)
    if path is None:
        raise PipelineError(f"image {image_id} doesn't exist")
    with Image.open(path) as source:
        source.seek(0)
        oriented = ImageOps.exif_transpose(source)
        return (oriented or source).convert("RGBA")


def _fail(step: Step) -> None:
    probe = step.get("ifContains") or {}
    word = str(probe.get("word", "fail")).lower()
    if step.get("when") or (word and word in str(probe.get("text", "")).lower()):
        raise PipelineError(str(step.get("message") or "the workflow failed on purpose"))


# -- transforms ------------------------------------------------------------------------


def _resize(image: Image.Image, step: Step) -> Image.Image:
    if step.get("size") is not None:
        width = height = _side(step, "size")
    else:
        w, h = step.get("width"), step.get("height")
        if w is None and h is None:
            raise PipelineError("resize needs width, height or size")
        width = _side(step, "width") if w is not None else 0
        height = _side(step, "height") if h is not None else 0
        width = width or max(1, round(image.width * height / image.height))
        height = height or max(1, round(image.height * width / image.width))
    fit = step.get("fit", "cover")
    if fit == "cover":
        return ImageOps.fit(image, (width, height), _LANCZOS)
    if fit == "contain":
        background = step.get("background")
        color = _color(background) if background else (0, 0, 0, 0)
        return ImageOps.pad(image, (width, height), _LANCZOS, color=color)
    if fit == "fill":
        return image.resize((width, height), _LANCZOS)
    raise PipelineError(f"fit must be cover, contain or fill, got {fit!r}")


def _blur(image: Image.Image, step: Step) -> Image.Image:
    radius = _num(step, "radius", 2, 0, 100)
    return image.filter(ImageFilter.GaussianBlur(radius)) if radius else image


def _grayscale(image: Image.Image, step: Step) -> Image.Image:
    gray = ImageOps.grayscale(image)
    return Image.merge("RGBA", (gray, gray, gray, image.getchannel("A")))


def _extract(image: Image.Image, step: Step) -> Image.Image:
    left = round(_num(step, "left", 0, 0, MAX_SIDE))
    top = round(_num(step, "top", 0, 0, MAX_SIDE))
    width, height = _side(step, "width"), _side(step, "height")
    if left + width > image.width or top + height > image.height:
        raise PipelineError(
            f"the area {width}x{height}+{left}+{top} is outside the "
            f"{image.width}x{image.height} image"
        )
    return image.crop((left, top, left + width, top + height))


def _round_corners(image: Image.Image, step: Step) -> Image.Image:
    radius = round(_num(step, "radius", 16, 0, MAX_SIDE))
    mask = Image.new("L", image.size, 0)
    box = (0, 0, image.width - 1, image.height - 1)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius=radius, fill=255)
    out = image.copy()
    out.putalpha(ImageChops.multiply(image.getchannel("A"), mask))
    return out


# -- text ------------------------------------------------------------------------------

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if not line or draw.textlength(candidate, font=font) <= max_width:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines[:20]


def _layout(
    image: Image.Image, text: str, size: int, max_height: float
) -> tuple[Font, list[str], int]:
    """Shrink the font from ``size`` until the text fits; return font, lines, line height."""
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        font = ImageFont.load_default(size=size)
        lines = _wrap(draw, text, font, image.width * 0.9)
        top, bottom = draw.textbbox((0, 0), "Ag", font=font)[1::2]
        line_height = round((bottom - top) * 1.3)
        if line_height * len(lines) <= max_height or size <= 10:
            return font, lines, line_height
        size = max(10, int(size * 0.8))
    return font, lines, line_height


def _draw_lines(
    image: Image.Image, lines: list[str], font: Font, line_height: int, top: float, color: RGBA
) -> None:
    draw = ImageDraw.Draw(image)
    stroke = max(1, round(getattr(font, "size", 12) / 18))
    for i, line in enumerate(lines):
        x = (image.width - draw.textlength(line, font=font)) / 2
        y = top + i * line_height
        draw.text((x, y), line, font=font, fill=color, stroke_width=stroke, stroke_fill="#0f172a")


def _add_text(image: Image.Image, step: Step) -> Image.Image:
    text = str(step.get("text", ""))[:500]
    size_arg = step.get("size", "auto")
    size = (
        max(12, min(image.height // 6, image.width // 12))
        if size_arg == "auto"
        else round(_num(step, "size", None, 6, 512))
    )
    out = image.copy()
    font, lines, line_height = _layout(out, text, size, image.height * 0.9)
    block = line_height * len(lines)
    position = step.get("position", "center")
    top = {"top": image.height * 0.05, "bottom": image.height * 0.95 - block}.get(
        str(position), (image.height - block) / 2
    )
    _draw_lines(out, lines, font, line_height, top, _color(step.get("color") or "#ffffff"))
    return out


def _add_caption(image: Image.Image, step: Step) -> Image.Image:
    text = str(step.get("text", ""))[:500]
    position = step.get("position", "bottom")
    if position not in ("top", "bottom"):
        raise PipelineError(f"position must be top or bottom, got {position!r}")
    size = round(_num(step, "size", max(14, min(96, image.height // 12)), 6, 512))
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    font, lines, line_height = _layout(layer, text, size, image.height * 0.5)
    pad = line_height // 3
    band = line_height * len(lines) + 2 * pad
    band_top = 0 if position == "top" else image.height - band
    band_color = _color(step.get("background") or "#000000b0")
    ImageDraw.Draw(layer).rectangle((0, band_top, image.width, band_top + band), fill=band_color)
    _draw_lines(
        layer, lines, font, line_height, band_top + pad, _color(step.get("color") or "#fff")
    )
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), image.getchannel("A")))
    return Image.alpha_composite(image, layer)  # the band stays inside the image's shape


_TRANSFORMS: dict[str, Callable[[Image.Image, Step], Image.Image]] = {
    "resize": _resize,
    "blur": _blur,
    "grayscale": _grayscale,
    "extract": _extract,
    "roundCorners": _round_corners,
    "addText": _add_text,
    "addCaption": _add_caption,
}


def _encode(image: Image.Image, fmt: str, out_dir: Path) -> RenderResult:
    path = out_dir / f"render-{secrets.token_hex(8)}.{EXTENSIONS[fmt]}"
    options: dict[str, Any] = {}
    if fmt == "jpeg":
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image, options = flat, {"quality": 90}
    elif fmt == "webp":
        options = {"quality": 85}
    try:
        image.save(path, format=_OUTPUT_FORMATS[fmt], **options)
        size = path.stat().st_size
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return RenderResult(path=path, format=fmt, width=image.width, height=image.height, size=size)
