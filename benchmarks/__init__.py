"""Benchmarks for floimg_async: the SDK against hand-written aiohttp doing the same work.

Run everything with ``make bench`` (or ``python -m benchmarks.run``); see
``benchmarks/README.md`` for the scenarios, their targets and the flags.
"""
