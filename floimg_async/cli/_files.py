"""Where a downloaded image goes: a file, or a folder that receives it under its own name.

Every command that writes images (``images download -o``, ``workflows
run|execute --download``, ``executions wait --download``) resolves its
destination here, before the SDK is called with a full file path:

- a destination that ends in a path separator (``images/``), or is an existing
  folder, or receives several images, is a folder: created if missing (with its
  parents), and each image is saved inside under the file name in its URL
  (``img_ab12.png``);
- anything else is the file to write (its folder must exist).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["download_target", "file_name_of", "is_folder"]

# A name the server chose must be a plain file name: no controls (NUL included),
# no separators of any platform, not "." or "..", and not hidden (a leading dot).
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:]")


def is_folder(dest: str) -> bool:
    """Whether ``dest`` names a folder: it ends in a path separator or is an existing folder."""
    separators = tuple(sep for sep in (os.sep, os.altsep, "/") if sep)
    return dest.endswith(separators) or Path(dest).is_dir()


def file_name_of(url: str) -> str:
    """The file name an image at ``url`` is saved under inside a folder.

    Raises ``ValueError`` (naming the URL) when the URL has no usable file name.
    """
    # The text after the last "/" (an encoded %2F counts as one, so it can never
    # climb out of the folder); a path ending in "/" names no file.
    name = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    if not name or name.startswith(".") or _BAD_NAME.search(name) or len(name.encode()) > 255:
        raise ValueError(
            f"cannot name a file after the URL {url!r}; give a file path instead of a folder"
        )
    return name


def download_target(dest: str, url: str, *, folder: bool = False) -> Path:
    """The file to write the image at ``url`` to, for the destination ``dest``.

    ``folder=True`` treats ``dest`` as a folder whatever its spelling (several
    images go to one destination). A folder is created if missing. Raises
    ``NotADirectoryError`` when the folder's path is an existing file, and
    ``ValueError`` when the URL gives no file name.
    """
    if not (folder or is_folder(dest)):
        return Path(dest)
    directory = Path(dest)
    name = file_name_of(url)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{dest!r} is a file, not a folder to save images into")
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name
