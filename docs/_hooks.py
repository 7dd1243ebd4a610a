"""mkdocs hook: pages pull their guides out of README.md, so the two never drift apart.

A line ``<!-- readme: Section title -->`` in a page is replaced by that section of
the README (its heading and everything up to the next heading of the same or a
higher level, ignoring ``#`` lines inside code fences). Links from those sections
to files of the repository (``examples/…``, ``SECURITY.md``) become plain code
spans, since the site holds only the docs. A title the README does not have fails
the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
INCLUDE = re.compile(r"^<!-- readme: (.+?) -->$", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
REPO_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|#|mailto:)([^)\s]+)\)")


def readme_section(title: str) -> str:
    """The README's section called ``title``, heading included."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = level = None
    in_fence = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        match = None if in_fence else HEADING.match(line)
        if match is None:
            continue
        if start is None:
            if match.group(2) == title:
                start, level = index, len(match.group(1))
        elif len(match.group(1)) <= level:  # type: ignore[operator]
            return _unlink("\n".join(lines[start:index]))
    if start is None:
        raise ValueError(f"README.md has no section titled {title!r} (docs include it)")
    return _unlink("\n".join(lines[start:]))


def _unlink(text: str) -> str:
    def plain(match: re.Match[str]) -> str:
        label, target = match.group(1), match.group(2)
        return label if target in label else f"{label} (`{target}` in the repository)"

    return REPO_LINK.sub(plain, text)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each ``<!-- readme: … -->`` line with that README section."""
    return INCLUDE.sub(lambda match: readme_section(match.group(1)), markdown)
