"""Where a downloaded image goes: a file, or a folder that receives it under its own name.

Every command that writes images (``images download -o``, ``workflows
run|execute --download``, ``executions wait --download``) resolves its
destination here, before the SDK is called with a full file path:

- a destination that ends in a path separator (``images/``), or is an existing
  folder, or receives several images, is a folder: created if missing (with its
  parents), and each image is saved inside under the file name in its URL
  (``img_ab12.png``);
- anything else is the file to write (its folder must exist).

:func:`check_destination` runs before the command sends anything, so a
destination that can never be written fails before paid work starts; a
destination that exists but is not a regular file (``/dev/null``, a pipe, a
socket) is refused rather than replaced by the downloaded file.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["DestinationError", "check_destination", "download_target", "file_name_of", "is_folder"]

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


class DestinationError(FileExistsError):
    """A download destination that must not be written (exit status 2, a local file problem)."""


def _special(path: Path) -> bool:
    """Whether ``path`` exists as something a download must not replace (not a file,
    a folder or a symlink: a device such as ``/dev/null``, a pipe, a socket)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))


def _writable_folder(folder: Path) -> str | None:
    """Why a file cannot be created in ``folder`` (created if missing), or None if it can."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{str(existing)!r} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"the folder {str(existing)!r} is not writable"
    return None


def check_destination(dest: str, *, folder: bool = False) -> None:
    """Fail now, before any request, if images can never be saved to ``dest``.

    ``folder`` as for :func:`download_target`. Raises :class:`DestinationError`
    naming the path and what is wrong: a folder path that is a file, a folder that
    cannot be created or written, a file whose folder does not exist or cannot be
    written, or an existing device, pipe or socket (never replaced by a download).
    """
    path = Path(dest)
    if folder or is_folder(dest):
        if path.exists() and not path.is_dir():
            raise DestinationError(f"{dest!r} is a file, not a folder to save images into")
        problem = _writable_folder(path)
    elif _special(path):
        problem = f"{dest!r} is not a regular file (a device, pipe or socket)"
    else:
        parent = path.parent
        if not parent.is_dir():
            raise DestinationError(f"cannot save to {dest!r}: its folder does not exist")
        problem = _writable_folder(parent)
    if problem is not None:
        raise DestinationError(f"cannot save images to {dest!r}: {problem}")


def download_target(dest: str, url: str, *, folder: bool = False) -> Path:
    """The file to write the image at ``url`` to, for the destination ``dest``.

    ``folder=True`` treats ``dest`` as a folder whatever its spelling (several
    images go to one destination). A folder is created if missing. Raises
    ``NotADirectoryError`` when the folder's path is an existing file, and
    ``ValueError`` when the URL gives no file name.
    """
    if not (folder or is_folder(dest)):
        target = Path(dest)
    else:
        directory = Path(dest)
        name = file_name_of(url)
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"{dest!r} is a file, not a folder to save images into")
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
    if _special(target):
        raise DestinationError(
            f"{str(target)!r} is not a regular file (a device, pipe or socket); "
            "refusing to replace it with the image"
        )
    return target
