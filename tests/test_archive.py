"""Evaluating a user's zip of folder-per-class images: the happy path and every refusal."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import FixedClassifier, encode, make_zip, needs_model
from mask_detector.errors import DatasetError
from mask_detector.evaluation import archive
from mask_detector.evaluation.archive import evaluate_archive, extract_zip


@pytest.fixture(scope="module")
def faces(astronaut_bgr, masked_astronaut_bgr, astronaut_face_box):
    """Face crops with some margin, as the training data shows them."""
    x, y, w, h = astronaut_face_box
    crop = np.s_[max(0, y - 20) : y + h + 20, max(0, x - 20) : x + w + 20]
    return {"mask": encode(masked_astronaut_bgr[crop]), "nomask": encode(astronaut_bgr[crop])}


def test_nested_folder_aliases_and_junk(faces, tmp_path):
    data = make_zip(
        {
            "my set/Mask/a.png": faces["mask"],
            "my set/Mask/b.png": faces["mask"],
            "my set/no_mask/c.png": faces["nomask"],
            "my set/no_mask/notes.txt": b"not an image",
            "__MACOSX/my set/Mask/._a.png": b"resource fork",
            "my set/.DS_Store": b"junk",
        }
    )
    report = evaluate_archive(FixedClassifier(), data)
    assert report["n"] == 3
    assert report["confusion_matrix"] == [[2, 0, 0], [1, 0, 0], [0, 0, 0]]  # two-class set
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert sorted(f["file"] for f in report["files"]) == [
        "Mask/a.png",
        "Mask/b.png",
        "no_mask/c.png",
    ]
    assert [s["file"] for s in report["skipped"]] == ["no_mask/notes.txt"]
    assert "/tmp" not in report["skipped"][0]["error"]


def test_temporary_folder_is_removed(faces, monkeypatch, tmp_path):
    made = []
    real = archive.tempfile.mkdtemp

    def spy(**kw):
        made.append(real(dir=tmp_path, **kw))
        return made[-1]

    monkeypatch.setattr(archive.tempfile, "mkdtemp", spy)
    evaluate_archive(FixedClassifier(), make_zip({"with_mask/a.png": faces["mask"]}))
    with pytest.raises(DatasetError):
        evaluate_archive(FixedClassifier(), make_zip({"x/a.png": faces["mask"]}))
    assert len(made) == 2 and not any(Path(p).exists() for p in made)


@pytest.mark.parametrize(
    "name", ["../evil.png", "with_mask/../../evil.png", "/etc/evil.png", "C:/evil.png"]
)
def test_path_traversal_is_refused(name, faces, tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(DatasetError, match="outside"):
        extract_zip(make_zip({"with_mask/ok.png": faces["mask"], name: b"x"}), dest)
    assert not (tmp_path / "evil.png").exists()
    assert list(dest.iterdir()) == []  # checked before anything is written


def test_symlink_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("with_mask/link.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match="link"):
        extract_zip(buf.getvalue(), tmp_path)


def test_file_count_and_size_caps(faces, tmp_path):
    data = make_zip({f"with_mask/{i}.png": faces["mask"] for i in range(3)})
    with pytest.raises(DatasetError, match="3 files"):
        extract_zip(data, tmp_path / "a", max_files=2)
    with pytest.raises(DatasetError, match="MB"):
        extract_zip(data, tmp_path / "b", max_bytes=len(faces["mask"]))


def test_bomb_with_understated_sizes_is_stopped_while_copying(tmp_path, monkeypatch):
    data = make_zip({"with_mask/big.bin": b"\0" * (3 << 20)})
    real_infolist = zipfile.ZipFile.infolist

    def lying_infolist(self):
        infos = real_infolist(self)
        for info in infos:
            info.file_size = 10  # the header claims little; the stream is 3 MB
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying_infolist)
    with pytest.raises(DatasetError):
        extract_zip(data, tmp_path, max_bytes=1 << 20)
    assert sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) <= 2 << 20


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not a zip", "not a readable zip"),
        (make_zip({"photos/a.png": b"x", "b.png": b"y"}), "expected folders like with_mask"),
        (make_zip({"with_mask/a.txt": b"x", "without_mask/b.txt": b"y"}), "read as an image"),
    ],
    ids=["not-zip", "no-class-folders", "no-images"],
)
def test_bad_archives_give_dataset_errors(data, message):
    with pytest.raises(DatasetError, match=message) as caught:
        evaluate_archive(FixedClassifier(), data)
    assert "mask_eval_" not in str(caught.value)  # no server paths in what the user sees


@needs_model
def test_shipped_model_on_archive(faces):
    from mask_detector.classifier import MaskClassifier

    data = make_zip({"with_mask/a.png": faces["mask"], "without_mask/b.png": faces["nomask"]})
    report = evaluate_archive(MaskClassifier(), data)
    assert report["n"] == 2
    assert np.asarray(report["confusion_matrix"]).sum() == 2
    assert 0.0 <= report["accuracy"] <= 1.0
