"""Owner-only files and folders for everything that holds worker-level personal data.

Returns as sent (SWE numbers, full birth dates), the working warehouse, staged rows and the
reports and logs written about them are readable by the account that runs the pipeline and by no
one else: folders 0700, files 0600. The modes are set explicitly with chmod rather than left to
the process umask, which the person or service starting a run chooses, not this project.
Which folders these are is said once, in `paths.personal_data_dirs()`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.lib import paths

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) if needed and make it owner-only."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    path.chmod(PRIVATE_FILE_MODE)
    return path


def write_private_bytes(path: Path, content: bytes) -> Path:
    """Write a file that is owner-only from the moment it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return private_file(path)


def write_private_text(path: Path, text: str) -> Path:
    """Write a text file (UTF-8) that is owner-only from the moment it exists."""
    return write_private_bytes(path, text.encode("utf-8"))


def copy_private(source: Path, target: Path) -> Path:
    """Copy a file's bytes (never following a symlink) into an owner-only file."""
    source_fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(source_fd, "rb") as src, os.fdopen(fd, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return private_file(target)


def make_tree_private(root: Path) -> None:
    """Owner-only modes on a folder and everything under it (state written before this was enforced)."""
    if not root.exists():
        return
    private_dir(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            Path(folder, name).chmod(PRIVATE_DIR_MODE)
        for name in files:
            file = Path(folder, name)
            if not file.is_symlink():
                file.chmod(PRIVATE_FILE_MODE)


def secure_personal_data() -> None:
    """Make every folder that holds personal data owner-only, creating it if missing."""
    for folder in paths.personal_data_dirs():
        private_dir(folder)
        make_tree_private(folder)
