"""Generate images for every row of a Ray Dataset, exactly once, within one rate limit.

Needs the ``ray`` extra: ``pip install 'floimg-async[ray]'`` (Ray Data and pyarrow)::

    import ray
    from floimg_async.ray import generate

    ds = ray.data.read_parquet("s3://bucket/prompts/")      # columns: id, prompt, ...
    results = generate(ds, "wf_social_card", run_id="cards-2026-12", actors=8,
                       download_to="s3://bucket/cards/")
    results.write_parquet("s3://bucket/cards-results/")

Each row is one synchronous execute whose Idempotency-Key comes from the run
id and the row's id, so Ray's retries never run a row twice on a server that
honours keys; all actors draw from one shared rate budget (a GCRA pacer in its
own actor, refilled from the server's ``X-RateLimit-*`` headers and 429s); a
failure is an output row, never an exception. See ``docs/scaling.md``.
"""

try:
    from ._budget import BudgetActor, Pacer
    from ._generate import OUTPUT_SCHEMA, FloImgGenerator, generate, idempotency_key, make_budget
except ImportError as exc:
    if (exc.name or "").split(".")[0] not in ("ray", "pyarrow"):
        raise
    raise ImportError(
        f"floimg_async.ray needs the ray extra ({exc.name} is missing): "
        "pip install 'floimg-async[ray]'",
        name=exc.name,
    ) from exc

__all__ = [
    "OUTPUT_SCHEMA",
    "BudgetActor",
    "FloImgGenerator",
    "Pacer",
    "generate",
    "idempotency_key",
    "make_budget",
]
