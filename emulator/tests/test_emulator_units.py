"""The pure parts without a server: pipeline steps, parameters, rate limiter, fault draws."""

from __future__ import annotations

from pathlib import Path

import pytest
from floimg_emulator._faults import FaultInjector
from floimg_emulator._params import parse_paging, resolve_steps, validate_parameters
from floimg_emulator._pipeline import PipelineError, render
from floimg_emulator._ratelimit import RateLimiter
from floimg_emulator._seed import WORKFLOWS
from floimg_emulator._util import ApiError
from PIL import Image


def run(tmp_path: Path, steps: list[dict], images: dict[str, Path] | None = None) -> Image.Image:
    result = render(steps, images or {}, tmp_path)
    with Image.open(result.path) as opened:
        opened.load()
        image = opened.copy()
        image.format = opened.format
    assert (result.width, result.height) == image.size
    assert result.size == result.path.stat().st_size
    return image


def test_shapes_gradient_and_circle(tmp_path) -> None:
    steps = [{"op": "shapes", "width": 100, "height": 50, "fill": "gradient",
              "from": "#000000", "to": "#ffffff", "direction": "horizontal"}]  # fmt: skip
    image = run(tmp_path, steps).convert("RGB")
    assert image.size == (100, 50)
    assert image.getpixel((0, 25))[0] < 10 and image.getpixel((99, 25))[0] > 245
    circle = run(tmp_path, [{"op": "shapes", "shape": "circle", "width": 40, "height": 40,
                             "color": "red"}]).convert("RGBA")  # fmt: skip
    assert circle.getpixel((0, 0))[3] == 0 and circle.getpixel((20, 20)) == (255, 0, 0, 255)


@pytest.mark.parametrize(
    ("fit", "size"), [("cover", (50, 50)), ("contain", (50, 50)), ("fill", (30, 70))]
)
def test_resize_fits(tmp_path, fit, size) -> None:
    steps = [
        {"op": "shapes", "width": 200, "height": 100, "color": "blue"},
        {"op": "resize", "width": size[0], "height": size[1], "fit": fit},
    ]
    image = run(tmp_path, steps)
    assert image.size == size
    if fit == "contain":  # letterboxed: transparent bands above and below
        assert image.getpixel((25, 0))[3] == 0 and image.getpixel((25, 25))[3] == 255


def test_transforms_chain(tmp_path) -> None:
    steps = [
        {"op": "shapes", "width": 120, "height": 80, "fill": "gradient", "theme": "forest"},
        {"op": "blur", "radius": 3},
        {"op": "extract", "left": 10, "top": 10, "width": 100, "height": 60},
        {"op": "grayscale"},
        {"op": "roundCorners", "radius": 20},
        {"op": "addText", "text": "Hello", "size": 20, "position": "bottom"},
        {"op": "addCaption", "text": "Cap", "position": "top"},
        {"op": "convert", "format": "webp"},
        {"op": "save", "format": "png"},  # save's format wins over convert's
        {"op": "blur", "radius": 50},  # after save: never runs
    ]
    result = render(steps, {}, tmp_path)
    assert (result.format, result.width, result.height) == ("png", 100, 60)
    with Image.open(result.path) as opened:
        image = opened.convert("RGBA")
    assert image.getpixel((0, 0))[3] == 0  # rounded corner
    r, g, b, _ = image.getpixel((50, 30))
    assert abs(r - g) <= 3 and abs(g - b) <= 3  # grayscale


def test_load_and_jpeg_output(tmp_path) -> None:
    source = tmp_path / "in.png"
    Image.new("RGBA", (64, 32), (0, 255, 0, 128)).save(source)
    steps = [{"op": "load", "image": "img_x"}, {"op": "save", "format": "jpeg"}]
    image = run(tmp_path, steps, {"img_x": source})
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (64, 32)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "no image"),
        ([{"op": "grayscale"}], "no image yet"),
        ([{"op": "explode"}], "unknown op"),
        ([{"op": "shapes", "width": 0, "height": 10}], "width"),
        ([{"op": "shapes", "width": 10, "height": 10, "color": "notacolour"}], "colour"),
        ([{"op": "shapes", "width": 10, "height": 10},
          {"op": "extract", "left": 5, "top": 0, "width": 10, "height": 5}], "outside"),
        ([{"op": "load", "image": "img_gone"}], "doesn't exist"),
        ([{"op": "shapes", "width": 8, "height": 8}, {"op": "convert", "format": "bmp"}], "format"),
        ([{"op": "fail", "when": True, "message": "boom"}], "boom"),
    ],
)  # fmt: skip
def test_pipeline_errors(tmp_path, steps, message) -> None:
    with pytest.raises(PipelineError, match=message):
        render(steps, {}, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_seeded_workflows_render(tmp_path) -> None:
    source = tmp_path / "src.png"
    Image.new("RGB", (300, 200), "orange").save(source)
    for wf in WORKFLOWS:
        params = validate_parameters(
            wf["parameters"], {"prompt": "Hi", "imageId": "img_src", "caption": "Cap"}
        )
        result = render(resolve_steps(wf["steps"], params), {"img_src": source}, tmp_path)
        assert result.width > 0, wf["id"]


def test_parameters_defaults_and_references() -> None:
    schema = [
        {"name": "prompt", "type": "string", "required": True},
        {"name": "width", "type": "number", "default": 1200},
        {"name": "big", "type": "boolean", "default": False},
    ]
    values = validate_parameters(schema, {"prompt": "Hi {name}", "extra": 1})
    assert values == {"prompt": "Hi {name}", "width": 1200, "big": False, "extra": 1}
    steps = [
        {"op": "a", "text": "<{prompt}> {unknown}", "w": {"param": "width"}},
        {"op": "b", "if": {"param": "big"}},
        {"op": "c", "w": {"sub": [{"param": "width"}, 200]}},
    ]
    assert resolve_steps(steps, values) == [
        {"op": "a", "text": "<Hi {name}> {unknown}", "w": 1200},
        {"op": "c", "w": 1000},
    ]
    with pytest.raises(ApiError) as info:
        validate_parameters(schema, {"prompt": "x", "width": "wide", "big": 1})
    assert info.value.details["field"] == "width"
    assert [e["field"] for e in info.value.details["errors"]] == ["width", "big"]


def test_paging_parse() -> None:
    assert parse_paging({}) == (20, 0)
    assert parse_paging({"limit": "100", "offset": "7"}) == (100, 7)
    for bad in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"offset": "1.5"}):
        with pytest.raises(ApiError):
            parse_paging(bad)


def test_token_bucket_with_a_fake_clock() -> None:
    clock = [100.0]
    limiter = RateLimiter(60, 2, clock=lambda: clock[0], wall=lambda: 1_000.0)
    first, second, third = (limiter.take("k") for _ in range(3))
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert (second.remaining, third.retry_after) == (0, 1)
    assert third.headers()["Retry-After"] == "1" and second.reset == 1_002
    clock[0] += 1.0
    assert limiter.take("k").allowed
    assert limiter.take("other").remaining == 1
    off = RateLimiter(None, None)
    assert off.take("k").allowed and "Retry-After" not in off.take("k").headers()


def test_fault_draws_depend_only_on_seed_and_order() -> None:
    def draws(seed: int) -> list[str | None]:
        faults = FaultInjector(0.3, ("500", "reset"), seed)
        return [faults.pick("GET", "/v1/x") for _ in range(200)]

    assert draws(3) == draws(3) != draws(4)
    assert 30 < sum(d is not None for d in draws(3)) < 90
    queued = FaultInjector(0.0, (), None)
    queued.inject("reset_after", path="/v1/workflows/*", method="POST", count=2)
    assert queued.pick("GET", "/v1/workflows/execute") is None
    assert [queued.pick("POST", "/v1/workflows/execute") for _ in range(3)] == [
        "reset_after",
        "reset_after",
        None,
    ]
    with pytest.raises(ValueError):
        queued.inject("teapot")


async def test_from_config_and_create_app() -> None:
    from floimg_emulator import Emulator, EmulatorConfig, create_app

    config = EmulatorConfig(latency=0.5, seed=3, extra_workflows=2)
    emu = Emulator.from_config(config)
    assert repr(emu) == "<Emulator stopped>"
    app = create_app(config)
    assert any(r.resource.canonical == "/v1/workflows/execute" for r in app.router.routes())
    with pytest.raises(TypeError):
        create_app(config, latency=1)
