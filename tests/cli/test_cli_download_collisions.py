"""Several images into one folder never share a file (one silently replacing another).

``floimg images download img_1 img_2 -o out/`` names each file after its URL; when
two different URLs end in the same name (``/a/card.png``, ``/b/card.png``) the second
replaced the first and both were reported as saved to ``out/card.png``. For any mix
of ids whose URLs collide, no two reported files may be the same unless their URLs
are the same (the same image asked for twice), and every colliding image must fail
on its own (exit 2) while the others are still saved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli_support import Floimg, ScriptedServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

folders = st.sampled_from(["a", "b", "c"])
names = st.sampled_from(["card.png", "x.png"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(urls=st.lists(st.tuples(folders, names), min_size=2, max_size=5))
def test_cli_colliding_file_names_never_replace_each_other(
    scripted: ScriptedServer,
    tmp_path_factory: pytest.TempPathFactory,
    urls: list[tuple[str, str]],
) -> None:
    out = tmp_path_factory.mktemp("out")
    routes = {}
    for position, (folder, name) in enumerate(urls):
        routes[("GET", f"/v1/storage/images/img_{position}")] = (
            200,
            {"id": f"img_{position}", "url": f"{scripted.origin}/files/{folder}/{name}"},
        )
    scripted.routes = routes
    ids = [f"img_{position}" for position in range(len(urls))]
    result = Floimg(dict(scripted.env))("--json", "images", "download", *ids, "-o", f"{out}/")
    saved = [line for line in map(json.loads, result.stdout.splitlines()) if "file" in line]
    failed = [line for line in map(json.loads, result.stdout.splitlines()) if "error" in line]
    by_file: dict[str, set[str]] = {}
    for record in saved:
        position = int(record["image"].split("_")[1])
        by_file.setdefault(record["file"], set()).add("/".join(urls[position]))
    assert all(len(sources) == 1 for sources in by_file.values()), by_file
    first_url_of_name: dict[str, str] = {}
    expected_failures = 0
    for folder, name in urls:
        url = f"{folder}/{name}"
        if first_url_of_name.setdefault(name, url) != url:
            expected_failures += 1
    assert len(failed) == expected_failures, result.stdout
    assert result.code == (2 if expected_failures else 0), result.stderr
    assert sorted(p.name for p in Path(out).iterdir()) == sorted(first_url_of_name)
