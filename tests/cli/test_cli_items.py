"""Multi-item commands try every item and report each by name (issue 13 finding 1)."""

from __future__ import annotations

from pathlib import Path

from _cli_support import Floimg, ScriptedServer
from PIL import Image


def _files(tmp_path: Path) -> list[Path]:
    good_a, bad, good_c = tmp_path / "a.png", tmp_path / "bad.png", tmp_path / "c.png"
    Image.new("RGB", (6, 4), (9, 9, 9)).save(good_a, "PNG")
    bad.write_bytes(b"this is not an image")
    Image.new("RGB", (3, 5), (7, 7, 7)).save(good_c, "PNG")
    return [good_a, bad, good_c]


def test_cli_upload_goes_on_after_a_failure_and_names_it(floimg: Floimg, tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = floimg("images", "upload", *map(str, files), "--project-id", "proj_default")
    assert result.code == 3  # the first failure's status: the API refused bad.png
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"error: invalid_request: {files[1]}: ")
    assert errors[-1].startswith("error: items_failed: 1 of 3 uploads failed: ")
    assert str(files[1]) in errors[-1]
    blocks = result.stdout.split("\n\n")  # one block per uploaded image, blank line between
    assert [b.splitlines()[2].split()[1] for b in blocks] == ["a.png", "c.png"]
    listed = floimg("--json", "images", "list", "--project-id", "proj_default").json_lines()
    assert {"a.png", "c.png"} <= {i["name"] for i in listed}


def test_cli_upload_json_reports_every_item_in_order(floimg: Floimg, tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = floimg("--json", "images", "upload", *map(str, files))
    assert result.code == 3
    lines = result.json_lines()
    assert [line.get("name") for line in lines] == ["a.png", None, "c.png"]
    assert lines[1]["file"] == str(files[1])
    assert lines[1]["error"]["code"] == "invalid_request"


def test_cli_delete_goes_on_after_a_missing_id(floimg: Floimg, tmp_path: Path) -> None:
    source = _files(tmp_path)[0]
    real = floimg("--json", "images", "upload", str(source)).json_lines()[0]["id"]
    result = floimg("--json", "images", "delete", "img_nope", real)
    assert result.code == 3
    first, second = result.json_lines()
    assert first["id"] == "img_nope" and first["deleted"] is False
    assert first["error"]["code"] == "not_found"
    assert second == {"id": real, "deleted": True}
    assert "error: not_found: img_nope: " in result.stderr
    assert floimg("images", "get", real).code == 3  # the real one is gone


def test_cli_download_goes_on_after_a_failure(floimg: Floimg, tmp_path: Path) -> None:
    source = _files(tmp_path)[0]
    real = floimg("--json", "images", "upload", str(source)).json_lines()[0]["id"]
    dest = tmp_path / "got"
    result = floimg("images", "download", "img_nope", real, "-o", str(dest))
    assert result.code == 3
    assert "error: not_found: img_nope: " in result.stderr
    assert "1 of 2 downloads failed: img_nope" in result.stderr
    saved = list(dest.iterdir())
    assert len(saved) == 1 and saved[0].read_bytes() == source.read_bytes()


def test_cli_all_items_failing_to_connect_each_report_and_exit_4(
    floimg: Floimg, tmp_path: Path
) -> None:
    result = floimg(
        "images", "delete", "img_a", "img_b", "--base-url", "http://127.0.0.1:9/v1",
        "--max-retries", "0",
    )  # fmt: skip
    assert result.code == 4
    assert "error: connection_error: img_a: " in result.stderr
    assert "error: connection_error: img_b: " in result.stderr
    assert "2 of 2 deletions failed" in result.stderr


def test_cli_delete_not_confirmed_is_a_failure(scripted: ScriptedServer) -> None:
    scripted.routes = {
        ("DELETE", "/v1/storage/images/img_1"): (200, {"deleted": False}),
        ("DELETE", "/v1/storage/images/img_2"): (200, {"deleted": True}),
    }
    result = Floimg(dict(scripted.env))("--json", "images", "delete", "img_1", "img_2")
    assert result.code == 3
    first, second = result.json_lines()
    assert first["deleted"] is False and first["error"]["code"] == "not_deleted"
    assert second == {"id": "img_2", "deleted": True}
    assert "error: not_deleted: img_1: " in result.stderr
