"""Every command that writes an image treats a destination ending in / as a folder
(issue 10 item 6): created if missing, the image saved inside under its own name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _cli_support import Floimg, ScriptedServer
from PIL import Image


def _upload(floimg: Floimg, tmp_path: Path) -> tuple[str, bytes, str]:
    source = tmp_path / "photo.png"
    Image.new("RGB", (12, 8), (1, 2, 3)).save(source, "PNG")
    image = floimg("--json", "images", "upload", str(source)).json_lines()[0]
    url_name = image["url"].rsplit("/", 1)[1]
    return image["id"], source.read_bytes(), url_name


@pytest.mark.parametrize(
    "spelling", ["images/", "images//", "a/b/c/", "images" + os.sep, "./images/"]
)
def test_cli_images_download_into_a_missing_folder(
    floimg: Floimg, tmp_path: Path, spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    image_id, data, url_name = _upload(floimg, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = floimg("--json", "images", "download", image_id, "-o", spelling)
    assert result.code == 0, result.stderr
    saved = Path(result.json_lines()[0]["file"])
    assert saved.parent.resolve() == (work / spelling).resolve()
    assert saved.name == url_name
    assert saved.read_bytes() == data
    assert not (work / spelling.rstrip("/" + os.sep)).is_file()  # never a file named images


def test_cli_images_download_file_and_existing_folder(floimg: Floimg, tmp_path: Path) -> None:
    image_id, data, url_name = _upload(floimg, tmp_path)
    as_file = floimg("--json", "images", "download", image_id, "-o", str(tmp_path / "x.png"))
    assert Path(as_file.json_lines()[0]["file"]) == tmp_path / "x.png"
    folder = tmp_path / "existing"
    folder.mkdir()
    into = floimg("--json", "images", "download", image_id, "-o", str(folder))
    assert Path(into.json_lines()[0]["file"]) == folder / url_name
    assert (folder / url_name).read_bytes() == data


def test_cli_images_download_several_into_a_missing_folder_without_slash(
    floimg: Floimg, tmp_path: Path
) -> None:
    first, _, name1 = _upload(floimg, tmp_path)
    second, _, name2 = _upload(floimg, tmp_path)
    dest = tmp_path / "many"
    result = floimg("--json", "images", "download", first, second, "-o", str(dest))
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == sorted([name1, name2])


def test_cli_folder_destination_that_is_a_file_fails_naming_it(
    floimg: Floimg, tmp_path: Path
) -> None:
    image_id, _, _ = _upload(floimg, tmp_path)
    blocker = tmp_path / "taken"
    blocker.write_text("keep me")
    result = floimg("images", "download", image_id, "-o", f"{blocker}/")
    assert result.code == 2
    assert result.stderr.startswith("error: file_error: ")
    assert str(blocker) in result.stderr
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize(
    "command",
    [
        ["workflows", "run", "wf_social_card", "-p", "prompt=dl", "--poll-interval", "0.02"],
        ["workflows", "execute", "wf_social_card", "-p", "prompt=dl"],
        ["executions", "wait"],
    ],
    ids=["run", "execute", "wait"],
)
def test_cli_execution_download_into_a_missing_folder(
    floimg: Floimg, tmp_path: Path, command: list[str]
) -> None:
    if command[:2] == ["executions", "wait"]:
        pending = floimg(
            "--json", "workflows", "run", "wf_social_card", "-p", "prompt=w", "--no-wait"
        ).json_lines()[0]
        command = [*command, pending["executionId"], "--poll-interval", "0.02"]
    dest = tmp_path / "out" / "cards"
    result = floimg("--json", *command, "--download", f"{dest}/")
    assert result.code == 0, result.stderr
    execution = result.json_lines()[0]
    saved = Path(execution["file"])
    assert saved.parent == dest
    assert saved.name == execution["output"]["url"].rsplit("/", 1)[1]
    with Image.open(saved) as image:
        assert image.size == (execution["output"]["width"], execution["output"]["height"])


@pytest.mark.parametrize(
    "url_path",
    ["/files/..", "/files/%2e%2e", "/files/", "/files/a%00b.png", "/files/.hidden", "/files/a%0a"],
)
def test_cli_hostile_url_names_never_escape_the_folder(
    scripted: ScriptedServer, tmp_path: Path, url_path: str
) -> None:
    scripted.routes = {
        ("GET", "/v1/storage/images/img_1"): (
            200,
            {"id": "img_1", "url": scripted.origin + url_path},
        )
    }
    dest = tmp_path / "in"
    result = Floimg(dict(scripted.env))("images", "download", "img_1", "-o", f"{dest}/")
    assert result.code == 2, result.stdout + result.stderr
    assert "give a file path" in result.stderr
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_cli_url_name_with_an_encoded_slash_stays_inside(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.routes = {
        ("GET", "/v1/storage/images/img_1"): (
            200,
            {"id": "img_1", "url": scripted.origin + "/files/..%2F..%2Fescape.png"},
        )
    }
    dest = tmp_path / "in"
    result = Floimg(dict(scripted.env))("images", "download", "img_1", "-o", f"{dest}/")
    assert result.code == 0, result.stderr
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()] == [
        Path("in/escape.png")
    ]
