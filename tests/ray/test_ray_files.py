"""Where downloads go: a folder, a filesystem URL, or a pyarrow/fsspec filesystem."""

from __future__ import annotations

from pathlib import Path

import pytest

fsspec = pytest.importorskip("fsspec")
pafs = pytest.importorskip("pyarrow.fs")

from floimg_async.ray._generate import _filesystem, _write_whole, idempotency_key  # noqa: E402


def test_ray_download_to_a_local_folder_or_file_url(tmp_path: Path) -> None:
    fs, root = _filesystem(str(tmp_path / "a"), None)
    fs.create_dir(root, recursive=True)
    _write_whole(fs, f"{root}/x.png", b"png bytes")
    assert (tmp_path / "a" / "x.png").read_bytes() == b"png bytes"
    fs, root = _filesystem((tmp_path / "b").as_uri(), None)
    fs.create_dir(root, recursive=True)
    _write_whole(fs, f"{root}/y.png", b"more")
    assert (tmp_path / "b" / "y.png").read_bytes() == b"more"
    assert sorted(p.name for p in tmp_path.rglob("*.part")) == []


def test_ray_download_to_an_fsspec_filesystem() -> None:
    memory = fsspec.filesystem("memory")
    fs, root = _filesystem("/floimg-test-out", memory)
    fs.create_dir(root, recursive=True)
    _write_whole(fs, f"{root}/z.png", b"in memory")
    assert memory.cat_file("/floimg-test-out/z.png") == b"in memory"
    assert [p for p in memory.find("/floimg-test-out") if p.endswith(".part")] == []
    memory.rm("/floimg-test-out", recursive=True)


def test_ray_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    fs, root = _filesystem(str(tmp_path), None)
    with pytest.raises(OSError):
        _write_whole(fs, f"{root}/missing-folder/x.png", b"bytes")
    assert list(tmp_path.rglob("*")) == []


def test_ray_keys_are_stable_and_distinct_per_run_and_row() -> None:
    assert idempotency_key("r1", 7) == idempotency_key("r1", 7)
    assert idempotency_key("r1", 7) != idempotency_key("r2", 7)
    assert idempotency_key("r1", 7) != idempotency_key("r1", "7")
    assert len(idempotency_key("r" * 64, "x" * 10_000)) <= 255
    assert idempotency_key("r1", {"b": 1, "a": 2}) == idempotency_key("r1", {"a": 2, "b": 1})


def test_ray_the_key_handed_to_actors_never_shows_in_a_repr() -> None:
    from floimg_async.ray._generate import _Secret

    secret = _Secret("fsk_test_s3cr3t_value")
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in str(secret)
    assert secret.value == "fsk_test_s3cr3t_value"
    assert repr(_Secret(None)) == "_Secret(None)"
