"""Every subcommand against the emulator: JSON output parsed, human output checked."""

from __future__ import annotations

import json
from pathlib import Path

from _cli_support import EmulatorThread, Floimg
from PIL import Image


def _png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("RGB", size, (200, 30, 90)).save(path, "PNG")
    return path


def test_cli_workflows_list_json_streams_one_object_per_line(floimg: Floimg) -> None:
    result = floimg("--json", "workflows", "list", "--page-size", "2")
    assert result.code == 0, result.stderr
    items = result.json_lines()
    ids = [item["id"] for item in items]
    assert "wf_social_card" in ids and "wf_flaky" in ids
    assert set(items[0]) >= {"id", "name", "projectId", "createdAt", "updatedAt"}
    assert items[0]["createdAt"].endswith("Z")


def test_cli_json_flag_also_works_after_the_subcommand(floimg: Floimg) -> None:
    result = floimg("workflows", "list", "--max-items", "1", "--json")
    assert result.code == 0
    assert len(result.json_lines()) == 1


def test_cli_workflows_list_human_is_an_aligned_table(floimg: Floimg) -> None:
    result = floimg("workflows", "list")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PROJECT", "UPDATED"]
    name_column = lines[0].index("NAME")
    row = next(line for line in lines if line.startswith("wf_social_card"))
    assert row[name_column:].startswith("Social card")


def test_cli_workflows_get(floimg: Floimg) -> None:
    data = floimg("--json", "workflows", "get", "wf_social_card").json_lines()[0]
    assert data["id"] == "wf_social_card"
    assert {p["name"] for p in data["parameters"]} >= {"prompt", "width", "height"}
    human = floimg("workflows", "get", "wf_social_card")
    assert "PARAMETER" in human.stdout and "prompt" in human.stdout


def test_cli_workflows_execute_with_params(floimg: Floimg, emulator: EmulatorThread) -> None:
    result = floimg(
        "--json",
        "workflows",
        "execute",
        "wf_social_card",
        "--param",
        "prompt=cli execute",
        "-p",
        "width=120",
        "-p",
        "height:=60",
    )
    assert result.code == 0, result.stderr
    execution = result.json_lines()[0]
    assert execution["status"] == "completed"
    assert execution["executionId"].startswith("exec_")
    assert execution["output"]["width"] == 120 and execution["output"]["height"] == 60
    ran = [
        e for e in emulator.admin("executions")["executions"] if e["id"] == execution["executionId"]
    ]
    assert ran[0]["parameters"]["width"] == 120  # an int, not the string "120"


def test_cli_workflows_run_with_params_file_and_download(floimg: Floimg, tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"prompt": "from a file", "width": 64, "height": 64}))
    dest = tmp_path / "card.png"
    result = floimg(
        "--json",
        "workflows",
        "run",
        "wf_social_card",
        "--params-file",
        str(params),
        "-p",
        "height=32",
        "--poll-interval",
        "0.05",
        "--download",
        str(dest),
    )
    assert result.code == 0, result.stderr
    execution = result.json_lines()[0]
    assert execution["status"] == "completed"
    assert execution["output"]["height"] == 32  # --param overrides the file
    assert execution["file"] == str(dest)
    with Image.open(dest) as image:
        assert image.size == (64, 32)


def test_cli_executions_get_and_wait(floimg: Floimg) -> None:
    pending = floimg(
        "--json", "workflows", "run", "wf_social_card", "-p", "prompt=later", "--no-wait"
    ).json_lines()[0]
    execution_id = pending["executionId"]
    waited = floimg(
        "--json", "executions", "wait", execution_id, "--poll-interval", "0.05"
    ).json_lines()[0]
    assert waited["status"] == "completed"
    got = floimg("executions", "get", execution_id)
    assert got.code == 0
    assert "completed" in got.stdout and execution_id in got.stdout


def test_cli_images_upload_list_get_download_delete(floimg: Floimg, tmp_path: Path) -> None:
    source = _png(tmp_path / "photo.png")
    uploaded = floimg("--json", "images", "upload", str(source)).json_lines()[0]
    image_id = uploaded["id"]
    assert uploaded["name"] == "photo.png" and uploaded["width"] == 40

    listed = [i["id"] for i in floimg("--json", "images", "list").json_lines()]
    assert image_id in listed
    assert floimg("--json", "images", "get", image_id).json_lines()[0]["id"] == image_id

    out_dir = tmp_path / "downloads"
    out_dir.mkdir()
    saved = floimg("--json", "images", "download", image_id, "-o", str(out_dir)).json_lines()[0]
    assert Path(saved["file"]).read_bytes() == source.read_bytes()

    deleted = floimg("--json", "images", "delete", image_id).json_lines()[0]
    assert deleted == {"id": image_id, "deleted": True}
    assert floimg("images", "get", image_id).code == 3


def test_cli_projects_create_and_list(floimg: Floimg) -> None:
    created = floimg(
        "--json", "projects", "create", "Marketing", "--description", "campaign art"
    ).json_lines()[0]
    assert created["name"] == "Marketing" and created["id"]
    listed = floimg("--json", "projects", "list").json_lines()
    assert created["id"] in {p["id"] for p in listed}
    human = floimg("projects", "list")
    assert human.stdout.splitlines()[0].split() == ["ID", "NAME", "DESCRIPTION", "CREATED"]


def test_cli_long_listing_streams_json_lines_and_aligned_batches() -> None:
    from _cli_support import EmulatorThread
    from _cli_support import Floimg as Runner

    server = EmulatorThread(execution_time=0.02, extra_workflows=450).start()
    try:
        floimg = Runner(dict(server.env))
        as_json = floimg("--json", "workflows", "list")
        assert as_json.code == 0
        ids = [item["id"] for item in as_json.json_lines()]
        assert len(ids) == len(set(ids)) == 455  # five pages of 100, nothing dropped
        table = floimg("workflows", "list", "--page-size", "50")
        lines = table.stdout.splitlines()
        assert len(lines) == 456  # one header, then a row per workflow across 3 batches
        name_at = lines[0].index("NAME")
        assert all(line[name_at - 2 : name_at] == "  " for line in lines[1:])
    finally:
        server.stop()
