"""A workflow per row of a Ray Dataset on a local Ray cluster, against the emulator.

500 rows, 4 async actors, one shared rate budget, one actor killed mid-run (its rows in
flight re-sent under their keys):
exactly 500 executions, no duplicates, under 1% of requests refused with 429,
and the aggregate request rate at least 90% of the limit.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from _bulk_support import EmulatorProcess

pytest.importorskip("ray", reason="the ray extra is not installed")
pytest.importorskip("pyarrow", reason="the ray extra is not installed")

from floimg_async.ray import generate, idempotency_key, make_budget

# Ray warns about its own deprecated settings from inside Ray; not ours to fix.
pytestmark = [pytest.mark.ray, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")]

ROWS = 500
RATE_LIMIT = 1800  # the emulator fixture's limit, requests per minute


def _executions(emulator: EmulatorProcess, tag: str) -> list[dict[str, Any]]:
    return [
        e
        for e in emulator.executions("wf_social_card")
        if str(e["parameters"].get("prompt", "")).startswith(f"{tag}-")
    ]


def test_ray_500_rows_4_actors_one_killed_run_exactly_once_within_the_limit(
    ray_cluster: Any, limited_emulator: EmulatorProcess
) -> None:
    ray = ray_cluster
    tag = "ray500"
    run_id = "t500"
    ds = ray.data.from_items(
        [{"id": n, "prompt": f"{tag}-{n}", "width": 24, "height": 24} for n in range(ROWS)],
        override_num_blocks=25,
    )
    budget = make_budget(RATE_LIMIT)
    results = generate(
        ds,
        "wf_social_card",
        run_id=run_id,
        api_key=limited_emulator.api_key,
        base_url=limited_emulator.base_url,
        actors=4,
        batch_size=10,
        budget=budget,
    )
    before = limited_emulator.admin("stats")
    rows: list[dict[str, Any]] = []
    killed = None
    started = time.monotonic()
    for batch in results.iter_rows():
        rows.append(batch)
        if killed is None and len(rows) >= 200:
            workers = ray.get(budget.workers.remote())
            assert len(workers) == 4
            killed = workers[0]
            ray.kill(killed, no_restart=False)  # SIGKILL the process; Ray restarts the actor
    elapsed = time.monotonic() - started
    after = limited_emulator.admin("stats")
    assert killed is not None

    # Every row once in the output, each a completed execution.
    assert sorted(row["id"] for row in rows) == list(range(ROWS))
    statuses = Counter(row["status"] for row in rows)
    assert statuses == {"completed": ROWS}, [r for r in rows if r["status"] != "completed"][:3]
    assert all(row["execution_id"] and row["output_url"] for row in rows)

    # Exactly one execution per row on the server, under the row's own key.
    ran = _executions(limited_emulator, tag)
    per_prompt = Counter(e["parameters"]["prompt"] for e in ran)
    assert len(ran) == ROWS and max(per_prompt.values()) == 1
    assert {e["idempotency_key"] for e in ran} == {idempotency_key(run_id, n) for n in range(ROWS)}
    assert {row["execution_id"] for row in rows} == {e["id"] for e in ran}

    requests = after["requests"] - before["requests"]
    refused = after["rateLimited"] - before["rateLimited"]
    created = sorted(datetime.fromisoformat(e["created_at"]).timestamp() for e in ran)
    span = created[-1] - created[0]
    rate = requests / span * 60
    replays = after["idempotentReplays"] - before["idempotentReplays"]
    restarted = len(ray.get(budget.workers.remote())) - 4
    print(
        f"\nray: {ROWS} rows, 4 actors ({restarted} restarted), {requests} requests "
        f"({refused} 429s, {replays} idempotent replays) over {span:.2f} s: "
        f"{rate:.0f}/min = {rate / RATE_LIMIT:.1%} of the {RATE_LIMIT}/min limit; "
        f"whole run {elapsed:.1f} s"
    )
    assert replays >= 1  # rows the killed actor had sent were re-sent, answered from records
    assert refused < 0.01 * requests
    assert rate >= 0.9 * RATE_LIMIT
    assert restarted >= 1


def test_ray_failures_are_rows_and_downloads_land_whole(
    ray_cluster: Any, limited_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    ray = ray_cluster
    items = [{"id": f"row-{n}", "parameters": {"prompt": f"dl-{n}"}} for n in range(6)]
    items.append({"id": "bad", "parameters": {"prompt": "x", "width": "huge"}})
    items.append({"id": "../evil", "parameters": {"prompt": "dl-evil"}})
    ds = ray.data.from_items(items)
    rows = generate(
        ds,
        "wf_social_card",
        run_id="tdl",
        parameters_column="parameters",
        api_key=limited_emulator.api_key,
        base_url=limited_emulator.base_url,
        actors=2,
        batch_size=4,
        rate_limit=RATE_LIMIT,
        download_to=str(tmp_path / "images"),
    ).take_all()
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == 8
    bad = by_id["bad"]
    assert bad["status"] == "failed" and bad["error_code"] == "invalid_request" and bad["error"]
    for name in [f"row-{n}" for n in range(6)] + ["../evil"]:
        row = by_id[name]
        assert row["status"] == "completed", row
        saved = Path(row["file"])
        assert saved.parent == tmp_path / "images"  # "../evil" is named by its digest
        assert saved.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in (tmp_path / "images").iterdir() if p.name.endswith(".part")) == []
    assert (tmp_path / "images" / "row-0.png").exists()
