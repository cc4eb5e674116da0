"""Folder-per-class loading, near-duplicate grouping, leak-free splits, Kaggle downloads."""

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from helpers import needs_shared
from mask_detector import config
from mask_detector.data import kaggle
from mask_detector.data.dataset import LoadReport, find_dataset_root, iter_images, list_samples
from mask_detector.data.dedup import group_near_duplicates, hamming_matrix, phash
from mask_detector.data.split import Split, make_split, split_by_groups
from mask_detector.errors import DatasetError


@pytest.mark.parametrize(
    "name, label",
    [
        ("with_mask", "with_mask"),
        ("WithMask", "with_mask"),
        ("Mask", "with_mask"),
        ("without_mask", "without_mask"),
        ("WithoutMask", "without_mask"),
        ("NoMask", "without_mask"),
        ("no_mask", "without_mask"),
        ("incorrect_mask", "mask_worn_incorrectly"),
        ("mask_worn_incorrectly", "mask_worn_incorrectly"),
        ("Mask-Worn-Incorrectly", "mask_worn_incorrectly"),
        ("mask_weared_incorrect", "mask_worn_incorrectly"),  # VOC name of scenes-dev / -ilc
        ("with_incorrect_mask", "mask_worn_incorrectly"),  # VOC name of other sets
        ("cats", None),
        ("masks", None),
    ],
)
def test_folder_and_voc_names(name, label):
    assert config.label_of(name) == label


def test_labels_are_defined_once_with_display_names():
    assert config.LABELS == ("with_mask", "without_mask", "mask_worn_incorrectly")
    assert set(config.DISPLAY_NAMES) == set(config.RESULT_LABELS)
    assert config.DISPLAY_NAMES["mask_worn_incorrectly"] == "Mask worn wrong"
    # No alias stands for two labels.
    aliases = [a for names in config.CLASS_ALIASES.values() for a in names]
    assert len(aliases) == len(set(aliases))


@pytest.mark.parametrize(
    "folders, root",
    [
        (["with_mask", "without_mask"], "."),
        (["data/with_mask", "data/without_mask", "notes"], "data"),
        (
            ["a/Test/WithMask", "a/Test/WithoutMask", "a/Train/WithMask", "a/Train/WithoutMask"],
            "a/Test",
        ),
        ([".hidden/with_mask", "z/mask"], "z"),
        (["holiday/beach"], "."),
    ],
)
def test_find_dataset_root_looks_inside_wrapping_folders(tmp_path, folders, root):
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)
    assert find_dataset_root(tmp_path) == tmp_path / root


def photo(seed: int, size: int = 64) -> np.ndarray:
    """A distinct smooth random image per seed (perceptual hashes far apart)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def make_dataset(
    root: Path, per_class: int = 6, folders: tuple[str, ...] = ("WithMask", "no_mask")
) -> Path:
    for k, folder in enumerate(folders):
        (root / folder).mkdir(parents=True)
        for i in range(per_class):
            rgb = Image.fromarray(photo(100 * k + i)[:, :, ::-1])
            fmt = ("png", "jpg", "webp")[i % 3]
            mode = ("RGBA", "RGB", "P")[i % 3] if fmt != "jpg" else "L"
            rgb.convert(mode).save(root / folder / f"img{i}.{fmt}")
    return root


def test_loader_reads_every_mode_and_skips_bad_files(tmp_path):
    root = make_dataset(tmp_path)
    (root / "WithMask" / "broken.jpg").write_bytes(b"not really a jpeg")
    (root / "no_mask" / ".DS_Store").write_bytes(b"\0")
    samples = list_samples(root)
    assert len(samples) == 13  # hidden file ignored, broken one listed until read
    report = LoadReport()
    images = [img for _, img in iter_images(samples, report)]
    assert len(images) == 12 and report.loaded == 12
    assert [p.name for p, _ in report.skipped] == ["broken.jpg"]
    assert all(img.ndim == 3 and img.shape[2] == 3 for img in images)


def test_three_class_folders(tmp_path):
    root = make_dataset(tmp_path, 3, ("with_mask", "NoMask", "incorrect_mask"))
    labels = sorted({s.label_name for s in list_samples(root)})
    assert labels == sorted(config.LABELS)


def test_no_class_folders(tmp_path):
    (tmp_path / "cats").mkdir()
    with pytest.raises(DatasetError, match="expected folders like with_mask/"):
        list_samples(tmp_path)


def test_empty_class(tmp_path):
    root = make_dataset(tmp_path)
    for f in (root / "no_mask").iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match="without_mask folder is empty"):
        list_samples(root)


def test_not_a_folder(tmp_path):
    with pytest.raises(DatasetError, match="not a folder"):
        list_samples(tmp_path / "missing")


def test_phash_survives_copies_but_not_other_photos():
    base = photo(1, 128)
    resized = cv2.resize(base, (77, 77))
    _, jpeg = cv2.imencode(".jpg", base, [cv2.IMWRITE_JPEG_QUALITY, 40])
    recoloured = cv2.cvtColor(cv2.cvtColor(base, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    hashes = np.stack(
        [phash(x) for x in (base, resized, cv2.imdecode(jpeg, 1), recoloured, photo(2, 128))]
    )
    d = hamming_matrix(hashes)
    assert d[0, 1:4].max() <= 4
    assert d[0, 4] > 10


def test_groups_are_transitive():
    a = np.zeros(64, bool)
    b = a.copy()
    b[:5] = True  # 5 bits from a
    c = b.copy()
    c[5:10] = True  # 5 bits from b, 10 from a
    far = ~a
    assert group_near_duplicates([a, b, c, far], threshold=6) == [0, 0, 0, 1]


def test_split_keeps_groups_together_and_is_stratified(tmp_path):
    root = make_dataset(tmp_path, per_class=40)
    samples = list_samples(root)
    groups = [i // 2 for i in range(len(samples))]  # pairs of "duplicates"
    split = split_by_groups(samples, groups, root, seed=3)
    where = {rel: part for part, rows in split.files.items() for rel, _ in rows}
    rel = [s.path.relative_to(root).as_posix() for s in samples]
    assert all(where[rel[i]] == where[rel[i + 1]] for i in range(0, len(rel), 2))
    sizes = split.sizes()
    assert sizes["test"]["with_mask"] == pytest.approx(6, abs=2)
    assert sizes["test"]["without_mask"] == pytest.approx(6, abs=2)
    assert sum(sum(v.values()) for v in sizes.values()) == 80
    # Same seed, same split; the manifest round-trips.
    assert split_by_groups(samples, groups, root, seed=3).files == split.files
    split.save(tmp_path / "split.json")
    assert Split.load(tmp_path / "split.json").files == split.files


def test_make_split_finds_exact_copies(tmp_path):
    root = make_dataset(tmp_path, per_class=20)
    copy = root / "WithMask" / "copy of img0.png"
    copy.write_bytes((root / "WithMask" / "img0.png").read_bytes())
    split, report = make_split(root, threshold=4)
    where = {rel: part for part, rows in split.files.items() for rel, _ in rows}
    assert where["WithMask/copy of img0.png"] == where["WithMask/img0.png"]
    assert report.loaded == 41


@needs_shared
def test_shipped_split_has_no_leaks():
    """The committed manifest: no file twice, and no near-duplicate pair across parts."""
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    files = [rel for rows in split.files.values() for rel, _ in rows]
    assert len(files) == len(set(files))
    root = config.training_data_dir()
    rng = np.random.default_rng(0)
    test_rows = split.files["test"]
    train_rows = split.files["train"]
    picks = [test_rows[i] for i in rng.choice(len(test_rows), 60, replace=False)]
    from mask_detector.imageio import read_image

    test_h = np.stack([phash(read_image(root / rel)) for rel, _ in picks])
    train_h = np.stack([phash(read_image(root / rel)) for rel, _ in train_rows[::4]])
    bits_t, bits_r = test_h.astype(np.int32), train_h.astype(np.int32)
    dist = bits_t @ (1 - bits_r).T + (1 - bits_t) @ bits_r.T
    assert dist.min() > split.threshold


@needs_shared
def test_shipped_split_keeps_scene_photos_apart():
    """Scene photos: by photo, none twice, none near a train photo or a scenes-dev photo."""
    from mask_detector.imageio import read_image

    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    rows = [xml for part in ("train", "val", "test") for _, xml in split.photos[part]]
    assert len(rows) == len(set(rows)) > 1000
    assert {row[1] for row in split.excluded}.isdisjoint(rows)
    train = [p.image for p in split.scene_photos("train")[::3]]
    test = [p.image for p in split.scene_photos("test")[::4]]
    dev = sorted((config.scenes_dir() / "images").iterdir())[::2]
    h_train, h_test, h_dev = (
        np.stack([phash(read_image(p)) for p in paths]) for paths in (train, test, dev)
    )

    def closest(a: np.ndarray, b: np.ndarray) -> int:
        return int(hamming_matrix(np.concatenate([a, b]))[: len(a), len(a) :].min())

    assert closest(h_test, h_train) > split.threshold
    assert closest(h_dev, np.concatenate([h_train, h_test])) > split.threshold


def write_voc(path: Path, image_name: str, faces: list[tuple[str, tuple[int, int, int, int]]]):
    objects = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{x}</xmin><ymin>{y}</ymin>"
        f"<xmax>{x + w}</xmax><ymax>{y + h}</ymax></bndbox></object>"
        for name, (x, y, w, h) in faces
    )
    path.write_text(f"<annotation><filename>{image_name}</filename>{objects}</annotation>")


def make_scenes(root: Path, n: int, seed0: int = 1000) -> Path:
    """n photos; every fourth has an incorrectly worn mask (the VOC name of scenes-ilc)."""
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    for i in range(n):
        cv2.imwrite(str(root / "images" / f"p{i:03d}.jpg"), photo(seed0 + i, 96))
        faces = [("with_mask", (5, 5, 20, 20)), ("without_mask", (40, 10, 24, 30))]
        if i % 4 == 0:
            faces.append(("mask_weared_incorrect", (60, 50, 20, 22)))
        write_voc(root / "annotations" / f"p{i:03d}.xml", f"p{i:03d}.jpg", faces)
    return root


def test_scene_photos_split_by_photo_with_cross_source_groups(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_SHARED, str(tmp_path))
    closeups = make_dataset(tmp_path / "datasets" / "closeups", per_class=20)
    scenes = make_scenes(tmp_path / "datasets" / "scenes", 40)
    held = tmp_path / "datasets" / "held" / "images"
    held.mkdir(parents=True)
    # A held-out photo that copies scene photo 3 (resized): photo 3 must not be used at all.
    cv2.imwrite(str(held / "copy.png"), cv2.resize(photo(1003, 96), (80, 80)))
    # Scene photo 5 copies a close-up: it must follow that close-up into its part.
    cv2.imwrite(str(scenes / "images" / "p005.jpg"), photo(7, 96))
    # Scene photos 10 and 11 are copies of each other: one part for both.
    cv2.imwrite(str(scenes / "images" / "p011.jpg"), photo(1010, 96))

    alone, _ = make_split(closeups, threshold=6)
    split, report = make_split(closeups, threshold=6, scenes=scenes, held_out=[held.parent])
    assert split.files == alone.files  # adding scene photos never moves a close-up
    assert report.skipped == []
    assert split.sources == {
        "closeups": "datasets/closeups",
        "scenes": "datasets/scenes",
        "held_out": ["datasets/held"],
    }
    part_of = {xml: part for part, rows in split.photos.items() for _, xml in rows}
    assert [(xml, why) for _, xml, why in split.excluded] == [
        ("annotations/p003.xml", "near-duplicate of held-out datasets/held/images/copy.png")
    ]
    assert "annotations/p003.xml" not in part_of and len(part_of) == 39
    closeup_part = {rel: part for part, rows in split.files.items() for rel, _ in rows}
    assert part_of["annotations/p005.xml"] == closeup_part["WithMask/img7.jpg"]
    assert part_of["annotations/p010.xml"] == part_of["annotations/p011.xml"]
    # Photos carry all their faces; the rare class reaches every part.
    sizes = split.scene_sizes()
    assert sum(s["photos"] for s in sizes.values()) == 39
    assert all(s["mask_worn_incorrectly"] > 0 for s in sizes.values())
    assert sizes["test"]["photos"] == pytest.approx(6, abs=2)
    photos = split.scene_photos("train")
    assert all(p.image.is_file() and p.annotation.is_file() for p in photos)
    assert split.annotation_names("train") == [p.annotation.name for p in photos]
    assert {label for p in photos for label, _ in p.faces} <= set(config.LABELS)

    # The manifest round-trips, and travels: sources resolve against the shared folder.
    split.save(tmp_path / "split.json")
    again = Split.load(tmp_path / "split.json")
    assert (again.files, again.photos, again.excluded) == (
        split.files,
        split.photos,
        split.excluded,
    )
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (tmp_path / "datasets").rename(moved / "datasets")
    monkeypatch.setenv(config.ENV_SHARED, str(moved))
    assert [p.image for p in again.scene_photos("val")] == [
        moved / "datasets" / "scenes" / image for image, _ in again.photos["val"]
    ]


def test_old_manifest_without_scene_photos_still_loads(tmp_path):
    old = {
        "seed": 1,
        "ratios": [0.7, 0.15, 0.15],
        "groups": 2,
        "hash_threshold": 10,
        "labels": ["with_mask", "without_mask"],
        "files": {"train": [["a.png", 0]], "val": [["b.png", 1]], "test": [["c.png", 1]]},
    }
    (tmp_path / "split.json").write_text(json.dumps(old))
    split = Split.load(tmp_path / "split.json")
    assert split.files["val"] == [("b.png", 1)] and split.photos["train"] == []
    assert split.scene_photos("test") == []


def test_broken_manifest_is_a_dataset_error(tmp_path):
    (tmp_path / "split.json").write_text('{"seed": 1}')
    with pytest.raises(DatasetError, match="cannot read the split manifest"):
        Split.load(tmp_path / "split.json")


@pytest.fixture
def fake_kaggle(tmp_path, monkeypatch) -> Path:
    """A `kaggle` command first on PATH that records its arguments and unzips one file into -p,
    or fails when the data set is called "owner/missing"."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    tool = bin_dir / "kaggle"
    tool.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        'case "$4" in owner/missing) echo "404 - Not Found" >&2; exit 1;; esac\n'
        'mkdir -p "$6/data/with_mask" && echo x > "$6/data/with_mask/a.jpg"\n'
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return log


def test_kaggle_download_once_into_the_cache(tmp_path, monkeypatch, fake_kaggle):
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    folder = kaggle.download("omkargurav/face-mask-dataset")
    assert folder == tmp_path / "cache" / "kaggle" / "omkargurav__face-mask-dataset"
    assert find_dataset_root(folder) == folder / "data"
    assert kaggle.download("omkargurav/face-mask-dataset") == folder  # no second download
    calls = fake_kaggle.read_text().splitlines()
    assert calls == [f"datasets download -d omkargurav/face-mask-dataset -p {folder} --unzip"]


def test_kaggle_download_failures_are_one_clear_error(tmp_path, monkeypatch, fake_kaggle):
    with pytest.raises(DatasetError, match="404 - Not Found"):
        kaggle.download("owner/missing", tmp_path / "k")
    assert not (tmp_path / "k" / "owner__missing").exists()
    with pytest.raises(DatasetError, match="not a Kaggle data set name"):
        kaggle.download("../etc", tmp_path / "k")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="pip install kaggle"):
        kaggle.download("owner/name", tmp_path / "k")


def _audit(name: str) -> list[dict[str, str]]:
    """The rows of one audit file in dataset/audits/."""
    with (config.REPO_ROOT / "dataset" / "audits" / name).open(newline="") as f:
        return list(csv.DictReader(f))


def test_close_up_audit_lists_with_mask_test_images():
    rows = _audit("closeup-test-with-mask-under-nose.csv")
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    with_mask = {rel for rel, label in split.files["test"] if config.LABELS[label] == "with_mask"}
    assert rows and {r["judgement"] for r in rows} <= {"under_nose", "borderline"}
    assert {r["file"] for r in rows} <= with_mask and len({r["file"] for r in rows}) == len(rows)


SCENE_AUDIT = "scenes-ilc-test-two-label-32px.csv"


def test_scene_audit_lists_photos_of_the_test_split():
    rows = _audit(SCENE_AUDIT)
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    test_photos = {Path(image).name for image, _ in split.photos["test"]}
    assert rows and {r["judgement"] for r in rows} <= {"under_chin", "no_face"}
    assert {r["annotated"] for r in rows} <= {"with_mask", "without_mask"}
    assert {r["photo"] for r in rows} <= test_photos
    assert len({(r["photo"], r["xmin"], r["ymin"]) for r in rows}) == len(rows)


DEV_AUDIT = "scenes-dev-without-mask-32px.csv"


def test_scenes_dev_audit_lists_unmasked_faces_with_known_judgements():
    rows = _audit(DEV_AUDIT)
    judgements = {"under_chin", "cloth_at_mouth", "lower_face_hidden", "face_not_visible"}
    assert rows and {r["judgement"] for r in rows} <= judgements
    assert {r["annotated"] for r in rows} == {"without_mask"}
    assert len({(r["photo"], r["xmin"], r["ymin"]) for r in rows}) == len(rows)


DEV_MASKED_AUDIT = "scenes-dev-with-mask-32px.csv"


def test_scenes_dev_masked_audit_lists_masked_faces_with_known_judgements():
    rows = _audit(DEV_MASKED_AUDIT)
    judgements = {"cloth_cover", "borderline", "face_not_visible"}
    assert rows and {r["judgement"] for r in rows} <= judgements
    assert {r["annotated"] for r in rows} == {"with_mask"}
    assert len({(r["photo"], r["xmin"], r["ymin"]) for r in rows}) == len(rows)


@needs_shared
@pytest.mark.parametrize(
    ("audit", "annotations"),
    [
        (SCENE_AUDIT, lambda: config.scene_training_dir() / "annotations"),
        (DEV_AUDIT, lambda: config.scenes_dir() / "annotations"),
        (DEV_MASKED_AUDIT, lambda: config.scenes_dir() / "annotations"),
    ],
)
def test_scene_audits_name_annotated_two_label_faces_of_32_px_or_more(audit, annotations):
    from mask_detector.data.voc import load_annotations

    for row in _audit(audit):
        x0, y0, x1, y1 = (int(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        faces = load_annotations(annotations() / (Path(row["photo"]).stem + ".xml"))
        assert (row["annotated"], (x0, y0, x1 - x0, y1 - y0)) in faces
        assert max(x1 - x0, y1 - y0) >= 32


def test_close_ups_are_read_where_the_manifest_says_else_from_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_SHARED, str(tmp_path))
    empty: dict[str, list] = {part: [] for part in ("train", "val", "test")}
    split = Split(empty, 0, (0.7, 0.15, 0.15), 0, 0, sources={"closeups": "datasets/elsewhere"})
    assert split.closeup_root() == tmp_path / "datasets" / "elsewhere"
    assert Split(empty, 0, (0.7, 0.15, 0.15), 0, 0).closeup_root() == config.training_data_dir()
