"""Bulk never loses or corrupts the user's data (issue 10, item 5).

Each class is attacked from several sides: every spelling of "the output is the
input", download folders shared between runs, hostile input lines (hypothesis),
hostile execution outputs from a real local server, leftover ``.part`` files,
and journals that are damaged or not journals at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _support import API_KEY, MakeServer
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floimg_async import FloImg
from floimg_async.bulk import (
    BulkJob,
    ItemState,
    Journal,
    JournalCorruptError,
    UnsafePathError,
    download_name,
    fingerprint,
    read_items,
)
from floimg_async.bulk._input import parse_line
from floimg_async.bulk._paths import MARKER_NAME, claim_download_dir, output_problem
from floimg_async.emulator import Emulator

GOOD = b'{"prompt": "fine", "width": 40, "height": 20}\n'


def _source(tmp_path: Path, body: bytes = GOOD * 2) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(body)
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- the output (or the journal) is the input ----------------------------------------------

Spelling = Callable[[Path], tuple[Path, Path, Path | None]]


def _same(source: Path) -> tuple[Path, Path, Path | None]:
    return source, source.with_name("j"), source


def _relative(source: Path) -> tuple[Path, Path, Path | None]:
    os.chdir(source.parent)
    return source, source.with_name("j"), Path("sub/../in.jsonl")


def _symlink(source: Path) -> tuple[Path, Path, Path | None]:
    link = source.with_name("link.jsonl")
    link.symlink_to(source)
    return source, source.with_name("j"), link


def _hardlink(source: Path) -> tuple[Path, Path, Path | None]:
    link = source.with_name("hard.jsonl")
    os.link(source, link)
    return source, source.with_name("j"), link


def _journal_is_input(source: Path) -> tuple[Path, Path, Path | None]:
    return source, source, None


def _journal_symlink(source: Path) -> tuple[Path, Path, Path | None]:
    link = source.with_name("j")
    link.symlink_to(source)
    return source, link, None


def _lock_is_input(source: Path) -> tuple[Path, Path, Path | None]:
    # The journal's lock file is <journal>.lock: a journal named after the input minus
    # ".lock" would take the lock on the input itself.
    renamed = source.with_name("in.jsonl.journal.lock")
    source.rename(renamed)
    return renamed, source.with_name("in.jsonl.journal"), None


def _wal_is_input(source: Path) -> tuple[Path, Path, Path | None]:
    renamed = source.with_name("x-wal")
    source.rename(renamed)
    return renamed, source.with_name("x"), None


@pytest.mark.parametrize(
    "spelling",
    [
        _same,
        _relative,
        _symlink,
        _hardlink,
        _journal_is_input,
        _journal_symlink,
        _lock_is_input,
        _wal_is_input,
    ],
)
async def test_bulk_refuses_outputs_that_are_the_input_before_writing_anything(
    client: FloImg,
    emulator: Emulator,
    tmp_path: Path,
    spelling: Spelling,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    source, journal, out = spelling(_source(tmp_path))
    before = sorted(p.name for p in tmp_path.iterdir())
    content = source.read_bytes()
    job = BulkJob(client, "wf_social_card", source, journal, out_path=out, poll_interval=0.02)
    with pytest.raises(UnsafePathError, match="input"):
        await job.run()
    assert source.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no journal, no lock
    assert await emulator.executions() == []


async def test_bulk_refuses_out_that_is_the_journal_and_download_that_is_a_file(
    client: FloImg, tmp_path: Path
) -> None:
    source = _source(tmp_path)
    journal = tmp_path / "j"
    with pytest.raises(UnsafePathError, match="journal"):
        await BulkJob(client, "wf_social_card", source, journal, out_path=journal).run()
    with pytest.raises(UnsafePathError, match="download"):
        await BulkJob(client, "wf_social_card", source, journal, download_dir=source).run()
    assert not journal.exists()


async def test_bulk_never_overwrites_a_results_file_it_did_not_write(
    client: FloImg, tmp_path: Path
) -> None:
    source = _source(tmp_path)
    precious = tmp_path / "report.jsonl"
    precious.write_text('{"mine": true}\n')
    job = BulkJob(client, "wf_social_card", source, tmp_path / "j", out_path=precious)
    with pytest.raises(UnsafePathError, match="did not write"):
        await job.run()
    assert precious.read_text() == '{"mine": true}\n'
    # The same journal with a fresh --out, then pointed back at the precious file.
    done = await BulkJob(
        client, "wf_social_card", source, tmp_path / "j", out_path=tmp_path / "r.jsonl",
        poll_interval=0.02,
    ).run()  # fmt: skip
    assert done.ok
    with pytest.raises(UnsafePathError):
        await BulkJob(client, "wf_social_card", source, tmp_path / "j", out_path=precious).run()
    assert precious.read_text() == '{"mine": true}\n'


# -- download folders shared between runs -------------------------------------------------


async def test_bulk_refuses_a_download_folder_of_another_run(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    images = tmp_path / "img"
    first = _source(tmp_path, b'{"prompt": "a"}\n{"prompt": "b"}\n')
    other = tmp_path / "other.jsonl"
    other.write_bytes(b'{"prompt": "c"}\n{"prompt": "d"}\n{"prompt": "e"}\n')
    a = await BulkJob(
        client, "wf_social_card", first, tmp_path / "a.journal", download_dir=images,
        poll_interval=0.02,
    ).run()  # fmt: skip
    assert a.ok
    owned = {p.name: p.read_bytes() for p in images.iterdir()}
    job_b = BulkJob(
        client, "wf_social_card", other, tmp_path / "b.journal", download_dir=images,
        out_path=tmp_path / "b.jsonl",
    )  # fmt: skip
    with pytest.raises(UnsafePathError, match="belongs to another bulk run"):
        await job_b.run()
    assert {p.name: p.read_bytes() for p in images.iterdir()} == owned
    assert not (tmp_path / "b.jsonl").exists() or _lines(tmp_path / "b.jsonl") == []
    assert len(await emulator.executions()) == 2  # job B sent nothing


async def test_bulk_refuses_an_unmarked_folder_holding_output_like_files(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    images = tmp_path / "img"
    images.mkdir()
    (images / "000000.png").write_bytes(b"someone else's image")
    (images / "notes.txt").write_text("unrelated files are fine")
    job = BulkJob(client, "wf_social_card", _source(tmp_path), download_dir=images)
    with pytest.raises(UnsafePathError, match="did not write"):
        await job.run()
    assert (images / "000000.png").read_bytes() == b"someone else's image"
    (images / "000000.png").unlink()
    summary = await BulkJob(
        client, "wf_social_card", _source(tmp_path), download_dir=images, poll_interval=0.02
    ).run()
    assert summary.ok and (images / "notes.txt").exists()
    assert (images / "000000.png").read_bytes().startswith(b"\x89PNG")


def test_bulk_two_runs_claiming_one_folder_at_once_only_one_wins(tmp_path: Path) -> None:
    folder = tmp_path / "img"
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        try:
            claim_download_dir(folder, f"run{n}", tmp_path / f"j{n}")
        except UnsafePathError:
            outcomes.append("refused")
        else:
            outcomes.append(f"run{n}")

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1 and outcomes.count("refused") == 7
    assert json.loads((folder / MARKER_NAME).read_text())["runId"] == winners[0]
    assert [p.name for p in folder.iterdir()] == [MARKER_NAME]  # no temporary left


async def test_bulk_resume_removes_part_files_of_interrupted_downloads(
    client: FloImg, tmp_path: Path
) -> None:
    images = tmp_path / "img"
    source = _source(tmp_path, b'{"prompt": "a"}\n{"prompt": "b"}\n{"prompt": "c"}\n')
    job = BulkJob(
        client, "wf_social_card", source, tmp_path / "j", download_dir=images, poll_interval=0.02
    )
    assert (await job.run()).ok
    # What a kill -9 mid-download leaves: the SDK's temporary file, and no image.
    (images / "000001.png").unlink()
    (images / ".000001.png.0123abcd.part").write_bytes(b"half an image")
    (images / ".000002.png.89abcdef.part").write_bytes(b"")
    (images / ".keep.part").write_text("not ours: left alone")
    again = await job.run()
    assert again.ok and again.skipped == 3
    assert sorted(p.name for p in images.iterdir() if p.name.endswith(".part")) == [".keep.part"]
    assert (images / "000001.png").read_bytes().startswith(b"\x89PNG")


# -- bad input lines -----------------------------------------------------------------------

HOSTILE_LINES = [
    b"[" * 100_000,  # deep nesting: RecursionError inside json
    b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}",  # parses, but deeper than allowed
    b'{"prompt": "\\ud800"}',  # a lone surrogate
    b'{"prompt": "\xff\xfe"}',  # invalid UTF-8
    b"\xef\xbb\xbf\xef\xbb\xbf{}",  # two byte-order marks
    b'"a string"',
    b"42",
    b"null",
    b'{"x": NaN}',
    b'{"x": 1e400}',
    b'{"x": ' + b"9" * 5000 + b"}",  # an int over Python's digit limit
    b"{\x00}",
    b'{"a": 1}{"b": 2}',
]


async def test_bulk_hostile_lines_fail_alone_and_the_run_goes_on(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    body = GOOD + b"\n".join(HOSTILE_LINES) + b"\n" + GOOD
    source = _source(tmp_path, body)
    out = tmp_path / "out.jsonl"
    summary = await BulkJob(
        client, "wf_social_card", source, tmp_path / "j", out_path=out, poll_interval=0.02
    ).run()
    assert summary.total == len(HOSTILE_LINES) + 2
    assert (summary.completed, summary.failed) == (2, len(HOSTILE_LINES))
    lines = {line["index"]: line for line in _lines(out)}
    assert len(lines) == summary.total
    for index in range(1, len(HOSTILE_LINES) + 1):
        assert lines[index]["status"] == "failed"
        assert lines[index]["errorCode"] == "invalid_input"
        assert f"line {index + 1}" in lines[index]["error"]
    assert len(await emulator.executions()) == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_bulk_any_line_is_parameters_or_a_reason_never_an_exception(raw: bytes) -> None:
    parameters, error = parse_line(raw, 7)
    assert (parameters is None) != (error is None)
    if parameters is not None:
        # What is accepted can be journaled, written and sent exactly as read.
        encoded = json.dumps(parameters, ensure_ascii=False, allow_nan=False).encode("utf-8")
        assert json.loads(encoded) == parameters
    else:
        assert str(error).startswith("line 7: ")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=8))
def test_bulk_any_file_journals_every_line(tmp_path_factory: Any, lines: list[bytes]) -> None:
    folder = tmp_path_factory.mktemp("any")
    source = folder / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_items(source))
    assert len(items) == fingerprint(source).items
    with Journal(folder / "j") as journal:
        journal.bind("wf", str(source), fingerprint(source))
        for item in items:
            journal.add(item.index, item.line, item.parameters, item.error)
        stored = list(journal.items())
    assert [(s.parameters, s.state is ItemState.FAILED) for s in stored] == [
        (i.parameters, i.error is not None) for i in items
    ]


# -- hostile execution outputs --------------------------------------------------------------

HOSTILE_OUTPUTS: dict[str, dict[str, Any]] = {
    "userinfo": {"url": "http://user:s3cret@127.0.0.1:1/x.png", "format": "png"},
    "dotdot-format": {"url": "/files/noext", "format": "../x"},
    "slash-format": {"url": "/files/noext", "format": "png/../../"},
    "file-scheme": {"url": "file:///etc/passwd", "format": "png"},
    "js-scheme": {"url": "javascript:alert(1)", "format": "png"},
    "control": {"url": "/files/a\r\nb.png", "format": "png"},
    "not-a-string": {"url": 17, "format": "png"},
    "bad-port": {"url": "http://127.0.0.1:99999/x.png"},
    "relative-word": {"url": "x.png"},
}


async def _hostile_api(make_server: MakeServer) -> tuple[str, list[str]]:
    server = await make_server()
    downloads: list[str] = []
    by_id: dict[str, str] = {}

    async def workflow(request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "forbidden", "message": "no"}}, status=403)

    async def execute(request: web.Request) -> web.Response:
        body = await request.json()
        kind = body["parameters"]["kind"]
        by_id[f"exec_{len(by_id)}"] = kind
        return web.json_response({"executionId": f"exec_{len(by_id) - 1}", "status": "pending"})

    async def status(request: web.Request) -> web.Response:
        kind = by_id[request.match_info["id"]]
        good = {"url": f"{server.origin}/files/{kind}.png", "format": "png"}
        output = good if kind.startswith("good") else HOSTILE_OUTPUTS[kind]
        return web.json_response(
            {"executionId": request.match_info["id"], "status": "completed", "output": output}
        )

    async def files(request: web.Request) -> web.Response:
        downloads.append(request.path)
        return web.Response(body=b"\x89PNG fake", content_type="image/png")

    server.route("GET", "/v1/workflows/{wf}", workflow)
    server.route("POST", "/v1/workflows/execute", execute)
    server.route("GET", "/v1/workflows/executions/{id}", status)
    server.route("GET", "/files/{name}", files)
    await server.start()
    return server.base_url, downloads


async def test_bulk_hostile_execution_outputs_fail_their_item_only(
    make_server: MakeServer, tmp_path: Path
) -> None:
    base_url, downloads = await _hostile_api(make_server)
    kinds = ["good-a", *HOSTILE_OUTPUTS, "good-b"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"kind": k}) + "\n" for k in kinds))
    images = tmp_path / "deep" / "img"
    out = tmp_path / "out.jsonl"
    async with FloImg(API_KEY, base_url=base_url, max_retries=0) as client:
        summary = await BulkJob(
            client, "wf_x", source, tmp_path / "j", out_path=out, download_dir=images,
            poll_interval=0.01, concurrency=3,
        ).run()  # fmt: skip
    assert (summary.completed, summary.failed, summary.unfinished) == (2, len(HOSTILE_OUTPUTS), 0)
    lines = {line["index"]: line for line in _lines(out)}
    for index, kind in enumerate(kinds):
        line = lines[index]
        if kind.startswith("good"):
            assert line["status"] == "completed" and Path(line["file"]).parent == images
        else:
            assert line["status"] == "failed", kind
            assert line["errorCode"] in {"invalid_output", "unexpected_error", "bad_response"}
            assert line["executionId"] == f"exec_{index}" or line["errorCode"] != "invalid_output"
            assert "s3cret" not in json.dumps(line)
    assert sorted(downloads) == ["/files/good-a.png", "/files/good-b.png"]
    # Nothing was written anywhere but the download folder.
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert {w for w in written if not w.startswith(("j", "in.jsonl", "out.jsonl"))} == {
        "deep/img/000000.png",
        f"deep/img/{len(kinds) - 1:06d}.png",
        f"deep/img/{MARKER_NAME}",
    }


@pytest.mark.parametrize("output", list(HOSTILE_OUTPUTS.values()))
def test_bulk_hostile_outputs_are_named_and_never_escape_the_folder(
    output: dict[str, Any],
) -> None:
    assert output_problem(output) is not None
    name = download_name(3, output)
    assert "/" not in name and "\\" not in name and ".." not in name and name.startswith("000003.")


@settings(max_examples=200, deadline=None)
@given(url=st.text(max_size=30) | st.integers(), fmt=st.none() | st.text(max_size=12))
def test_bulk_any_output_gets_a_plain_file_name(url: object, fmt: str | None) -> None:
    name = download_name(12, {"url": url, "format": fmt})
    assert name.startswith("000012.") and os.sep not in name and ".." not in name
    assert name.isprintable() and len(name) <= 20


# -- a corrupt journal ---------------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_text("this is my shopping list, not a journal\n")


def _other_program(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    db.commit()
    db.close()


def _bad_state(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE items SET state = 'exploded' WHERE idx = 0")
    db.commit()
    db.close()


def _missing_column(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE items DROP COLUMN error_code")
    db.commit()
    db.close()


def _smashed_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page + 64, len(data), 97):  # every page but the header page
        data[offset] = 0xA5
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3 or 50])


@pytest.mark.parametrize(
    "damage", [_garbage, _other_program, _bad_state, _missing_column, _smashed_pages, _truncated]
)
async def test_bulk_a_corrupt_journal_is_its_own_error_and_left_as_it_is(
    client: FloImg, emulator: Emulator, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    source = _source(tmp_path, b"".join(b'{"prompt": "p%d"}\n' % n for n in range(30)))
    journal = tmp_path / "j"
    if damage not in (_garbage, _other_program):
        assert (await BulkJob(client, "wf_social_card", source, journal,
                              poll_interval=0.02).run()).ok  # fmt: skip
        for side in ("-wal", "-shm"):
            Path(f"{journal}{side}").unlink(missing_ok=True)
    damage(journal)
    damaged = journal.read_bytes()
    ran = len(await emulator.executions())
    with pytest.raises(JournalCorruptError, match=str(journal)):
        await BulkJob(client, "wf_social_card", source, journal, poll_interval=0.02).run()
    assert journal.read_bytes() == damaged
    assert len(await emulator.executions()) == ran
