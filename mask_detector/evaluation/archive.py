"""Evaluate the classifier on a zip of folder-per-class images uploaded by a user.

The zip is untrusted: member paths that leave the extraction folder (absolute, "..", drive
letters), links and special files are refused, and the number of files and the bytes actually
written are capped (a zip bomb's declared sizes can lie, so the count is kept while copying).
"""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from ..classifier import MaskClassifier
from ..config import label_of
from ..data.dataset import Progress
from ..errors import DatasetError
from .classify import evaluate_folder

#: Most files taken from one archive.
MAX_FILES = 5000
#: Most bytes written when extracting one archive.
MAX_TOTAL_BYTES = 300 * 1024 * 1024
#: Folder names that archivers add and that are never data.
_JUNK = ("__MACOSX",)


def _safe_name(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The member's relative path, None for entries to skip; DatasetError for unsafe ones."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise DatasetError(f"the archive is refused: {info.filename!r} points outside its folder")
    mode = info.external_attr >> 16
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise DatasetError(f"the archive is refused: {info.filename!r} is a link or special file")
    if info.is_dir() or not path.parts:
        return None
    if any(part.startswith(".") or part in _JUNK for part in path.parts):
        return None
    return path


def extract_zip(
    source: str | Path | bytes | BinaryIO,
    dest: str | Path,
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_TOTAL_BYTES,
) -> Path:
    """Extract the archive's regular files into `dest`; return the folder holding the classes."""
    dest = Path(dest)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"not a readable zip archive ({exc})") from None
    with archive:
        members = [(info, _safe_name(info)) for info in archive.infolist()]
        files = [(info, path) for info, path in members if path is not None]
        if len(files) > max_files:
            raise DatasetError(f"the archive has {len(files)} files; the limit is {max_files}")
        declared = sum(info.file_size for info, _ in files)
        if declared > max_bytes:
            raise DatasetError(
                f"the archive unpacks to {declared / 2**20:.0f} MB; "
                f"the limit is {max_bytes // 2**20} MB"
            )
        written = 0
        for info, path in files:
            target = dest.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise DatasetError(
                                f"the archive unpacks to more than {max_bytes // 2**20} MB"
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
                # RuntimeError: encrypted member; BadZipFile: CRC error or damage
                raise DatasetError(f"{info.filename}: cannot be extracted ({exc})") from None
    return dataset_root(dest)


def dataset_root(folder: Path) -> Path:
    """The folder with the class folders: people often zip a parent folder around them."""
    while True:
        children = [c for c in folder.iterdir() if c.is_dir()]
        if any(label_of(c.name) for c in children) or len(children) != 1:
            return folder
        if any(c.is_file() for c in folder.iterdir()):
            return folder
        folder = children[0]


def evaluate_archive(
    classifier: MaskClassifier,
    source: str | Path | bytes | BinaryIO,
    progress: Progress | None = None,
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_TOTAL_BYTES,
) -> dict[str, Any]:
    """The classification report for a zip of with_mask/ and without_mask/ folders.

    Files are extracted to a temporary folder that is removed before returning; file names in
    the report are relative to the archive. Raises DatasetError for a bad or unsafe archive.
    """
    tmp = tempfile.mkdtemp(prefix="mask_eval_")
    root: Path | None = None
    try:
        root = extract_zip(source, tmp, max_files, max_bytes)
        report = evaluate_folder(classifier, root, progress=progress)
    except DatasetError as exc:
        raise DatasetError(_hide_folder(str(exc), root, tmp)) from None
    else:
        assert root is not None
        for entry in (*report["files"], *report["skipped"]):
            entry["file"] = Path(entry["file"]).relative_to(root).as_posix()
        for entry in report["skipped"]:
            entry["error"] = _hide_folder(entry["error"], root, tmp)
        return report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _hide_folder(message: str, root: Path | None, tmp: str) -> str:
    """Messages name files as they are in the archive, not by the server's temporary folder."""
    if root is not None:
        message = message.replace(f"{root}/", "")
    return message.replace(f"{tmp}/", "").replace(tmp, "the archive")
