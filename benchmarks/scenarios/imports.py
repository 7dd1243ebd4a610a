"""import_footprint: time and RSS of ``import floimg_async`` vs ``import aiohttp`` alone.

Each import runs in a fresh interpreter; the probe reads /proc itself so it
imports nothing else. Bytecode goes to a temporary PYTHONPYCACHEPREFIX, warmed
by one unmeasured run per side, so both sides load .pyc files even where
PYTHONDONTWRITEBYTECODE is set (else a source tree never compiled to .pyc would
pay for compiling on every import, and site-packages would not).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from benchmarks._harness import Context
from benchmarks._proc import ROOT
from benchmarks._stats import Row, Summary

PROBE = """
import sys, time
def rss():
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
modules, before = len(sys.modules), rss()
start = time.perf_counter()
{statement}
seconds = time.perf_counter() - start
print(seconds, rss() - before, len(sys.modules) - modules)
"""

STATEMENTS = {
    "sdk": "import floimg_async; floimg_async.FloImg",
    "raw": "import aiohttp; aiohttp.ClientSession",
}


def probe(side: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Import one side in a fresh interpreter; return (ms, MB, modules loaded)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=STATEMENTS[side])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"`{STATEMENTS[side]}` failed: {last}")
    seconds, rss, modules = done.stdout.split()
    return float(seconds) * 1e3, int(rss) / 2**20, float(modules)


def run(ctx: Context) -> list[Row]:
    """Median import time, RSS and module count over fresh interpreters, interleaved."""
    runs = ctx.pick(9, 3)
    samples: dict[str, list[tuple[float, float, float]]] = {"sdk": [], "raw": []}
    with tempfile.TemporaryDirectory(prefix="floimg-bench-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for side in STATEMENTS:
            probe(side, env)  # unmeasured: writes the bytecode caches
        for _ in range(runs):
            for side in ("sdk", "raw"):
                samples[side].append(probe(side, env))

    def column(side: str, index: int) -> Summary:
        return Summary.of([s[index] for s in samples[side]])

    note = f"{runs} fresh interpreters each; raw column is `import aiohttp` alone"
    return [
        Row(
            "import_footprint",
            "import time",
            column("sdk", 0),
            column("raw", 0),
            unit="ms",
            note=note,
        ),
        Row(
            "import_footprint", "RSS added by import", column("sdk", 1), column("raw", 1), unit="MB"
        ),
        Row("import_footprint", "modules loaded", column("sdk", 2), column("raw", 2)),
    ]
