"""upload: ``await client.images.upload(path)`` of a 200 MB file vs aiohttp FormData streaming.

Each measurement runs in a fresh process so its peak RSS means something; the
server reads the multipart body in chunks and discards them, counting bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._harness import Context, bearer, raw_session, sdk_client
from benchmarks._proc import emit, run_worker
from benchmarks._rss import PeakSampler, mb
from benchmarks._stats import Row, Summary, Target

_BLOCK = 1 << 20


def make_file(directory: Path, size_mb: int) -> Path:
    """Write a ``size_mb`` MiB file of incompressible bytes (one random MiB repeated)."""
    path = directory / "bench-upload.png"
    block = os.urandom(_BLOCK)
    with path.open("wb") as out:
        for _ in range(size_mb):
            out.write(block)
    return path


async def _sdk_upload(path: Path, base_url: str, api_key: str) -> tuple[int, float, float, int]:
    async with sdk_client(base_url, api_key) as client:
        with PeakSampler() as peak:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            image = await client.images.upload(path)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return int(image.size), cpu, wall, peak.growth


async def _raw_upload(path: Path, base_url: str, api_key: str) -> tuple[int, float, float, int]:
    async with raw_session() as session:
        with PeakSampler() as peak:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            with path.open("rb") as file:
                form = aiohttp.FormData()
                form.add_field(
                    "file", file, filename=path.name, content_type="application/octet-stream"
                )
                async with session.post(
                    f"{base_url}/storage/upload", data=form, headers=bearer(api_key)
                ) as resp:
                    resp.raise_for_status()
                    image = json.loads(await resp.read())
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return int(image["size"]), cpu, wall, peak.growth


def _measure(side: str, path: Path, ctx: Context) -> dict[str, Any]:
    server = ctx.server
    result = run_worker(
        "benchmarks.scenarios.upload",
        ["--worker", side, str(path), server.base_url, server.api_key],
        timeout=300,
    )
    expected = path.stat().st_size
    if result["size"] != expected:
        raise RuntimeError(f"{side}: server counted {result['size']} bytes, sent {expected}")
    return result


def run(ctx: Context) -> list[Row]:
    """Throughput and peak RSS growth of one upload, SDK and raw, interleaved."""
    size_mb, rounds = ctx.pick((200, 3), (50, 2))
    results: dict[str, list[dict[str, Any]]] = {"sdk": [], "raw": []}
    with tempfile.TemporaryDirectory(prefix="floimg-bench-") as tmp:
        path = make_file(Path(tmp), size_mb)
        for _ in range(rounds):
            for side in ("sdk", "raw"):
                results[side].append(_measure(side, path, ctx))

    def summary(side: str, key: str, scale: float = 1.0) -> Summary:
        return Summary.of([r[key] * scale for r in results[side]])

    def per_mb(side: str, key: str) -> Summary:
        return Summary.of([size_mb / r[key] for r in results[side]])

    return [
        Row(
            "upload",
            "throughput",
            per_mb("sdk", "wall"),
            per_mb("raw", "wall"),
            unit="MB/s",
            target=Target(">=", 0.8),
            note=f"{size_mb} MB file from a path, {rounds} rounds, fresh process each",
        ),
        Row(
            "upload",
            "peak RSS growth during upload",
            summary("sdk", "growth", mb(1)),
            summary("raw", "growth", mb(1)),
            unit="MB",
            target=Target("<", 32, on="max", unit="MB"),
            show_ratio=False,
        ),
        Row(
            "upload",
            "client CPU per MB",
            Summary.of([r["cpu"] / size_mb * 1e3 for r in results["sdk"]]),
            Summary.of([r["cpu"] / size_mb * 1e3 for r in results["raw"]]),
            unit="ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="one upload measurement in a fresh process")
    parser.add_argument("--worker", choices=("sdk", "raw"), required=True)
    parser.add_argument("path", type=Path)
    parser.add_argument("base_url")
    parser.add_argument("api_key")
    args = parser.parse_args()
    upload = _sdk_upload if args.worker == "sdk" else _raw_upload
    size, cpu, wall, growth = asyncio.run(upload(args.path, args.base_url, args.api_key))
    emit({"size": size, "cpu": cpu, "wall": wall, "growth": growth})


if __name__ == "__main__":
    main()
