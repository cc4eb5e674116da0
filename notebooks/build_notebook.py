"""Generate (and optionally execute) notebooks/Face_Mask_Detection.ipynb from the cells below.

The notebook is written here as plain Python strings so that it can be reviewed in a diff and
regenerated; the committed .ipynb also carries the outputs of a real run.

    python notebooks/build_notebook.py              # write the notebook without outputs
    python notebooks/build_notebook.py --execute    # write it, run it, keep the outputs
    MASK_DETECTOR_SMOKE=1 python notebooks/build_notebook.py --execute --out /tmp/smoke.ipynb
    python notebooks/build_notebook.py --keep-outputs   # prose edits: keep the last run's outputs

REPOSITORY (owner/name on GitHub) is defined once, below: it makes the "Open in Colab" badge
and the `git clone` of the set-up cell. It defaults to the `origin` remote of this checkout
when that is on GitHub; set MASK_DETECTOR_REPOSITORY=owner/name to override.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
NOTEBOOK = HERE / "Face_Mask_Detection.ipynb"
#: Used when neither MASK_DETECTOR_REPOSITORY nor a GitHub `origin` remote says otherwise.
DEFAULT_REPOSITORY = "OWNER/face-mask-detection"


def repository() -> str:
    """owner/name of the project on GitHub: the environment, else the origin remote."""
    if os.environ.get("MASK_DETECTOR_REPOSITORY"):
        return os.environ["MASK_DETECTOR_REPOSITORY"]
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return DEFAULT_REPOSITORY
    found = re.search(r"github\.com[:/]([^/]+/[^/]+?)(?:\.git)?$", url)
    return found.group(1) if found else DEFAULT_REPOSITORY


def cells(repo: str) -> list[tuple[str, str]]:
    colab = f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/Face_Mask_Detection.ipynb"
    return [
        (
            "md",
            f"""\
[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})

# Face-mask detection: the data-mining story, end to end

Find every face in a photo and say whether it wears a mask. This notebook tells how the
project's model was made, in the order of **CRISP-DM**:

1. [Business understanding](#1.-Business-understanding)
2. [Data understanding](#2.-Data-understanding): class balance, image formats, duplicates
3. [Data preparation](#3.-Data-preparation): a split that does not leak, one preprocessing path
4. [Modelling](#4.-Modelling): three training scenarios of a MobileNetV2 classifier
5. [Evaluation](#5.-Evaluation): confusion matrices, ROC, errors, face detection on scene photos
6. [Deployment](#6.-Deployment): `.keras` and LiteRT (`.tflite`) export, the pipeline on a photo

Every step calls the project's library, `mask_detector`; nothing here re-implements it. The
committed copy holds the outputs of a real run on the full training set (4071 images), so it
reads on GitHub without running it. Running it yourself writes only under `runs/notebook/`
(git-ignored): the shipped model in `models/` is left alone.

*The badge and the `git clone` below use `REPOSITORY = "{repo}"`, defined once in
`notebooks/build_notebook.py` (from the `origin` remote, or `MASK_DETECTOR_REPOSITORY`);
in a fork, regenerate the notebook or edit that one line of the set-up cell.*""",
        ),
        (
            "md",
            """\
## 0. Set-up

* **In Colab** (`Runtime → Change runtime type → GPU` speeds up training): the cell clones the
  repository and installs `requirements.txt`.
* **Locally**, opened from `notebooks/` of a checkout: the repository root is found and put on
  `sys.path`; install the requirements into your environment first
  (`pip install -r requirements.txt`).
* **Smoke mode**: `MASK_DETECTOR_SMOKE=1` shrinks the data (40 images per part of the split)
  and the training (1 epoch, 1 view) so the whole notebook runs in a few minutes; the test
  suite runs it that way (`tests/test_notebook.py`). Its numbers mean nothing.""",
        ),
        (
            "code",
            f"""\
import os
import subprocess
import sys
from pathlib import Path

# owner/name on GitHub; the "Open in Colab" badge above points to the same repository.
REPOSITORY = "{repo}"
SMOKE = os.environ.get("MASK_DETECTOR_SMOKE") == "1"
IN_COLAB = "google.colab" in sys.modules
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info and warning lines


def find_repo_root() -> Path | None:
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "mask_detector" / "__init__.py").is_file():
            return folder
    return None


REPO_ROOT = find_repo_root()
if REPO_ROOT is None:  # Colab, or a notebook opened outside a checkout: fetch the project
    REPO_ROOT = Path.cwd() / REPOSITORY.split("/")[-1]
    if not REPO_ROOT.is_dir():
        url = f"https://github.com/{{REPOSITORY}}.git"
        subprocess.run(["git", "clone", "--depth", "1", url, str(REPO_ROOT)], check=True)
    requirements = str(REPO_ROOT / "requirements.txt")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", requirements], check=True)
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
print("repository:", REPO_ROOT, "| Colab:", IN_COLAB, "| smoke mode:", SMOKE)""",
        ),
        (
            "code",
            """\
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import display

import mask_detector
from mask_detector import config

tf.get_logger().setLevel("ERROR")
plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})
pd.set_option("display.precision", 4)
print("mask_detector", mask_detector.__version__, "| TensorFlow", tf.__version__)
print("GPUs:", tf.config.list_physical_devices("GPU") or "none (training runs on the CPU)")


def show(fig: matplotlib.figure.Figure) -> None:
    \"\"\"Display a figure inline, then free it (works whatever matplotlib's backend).\"\"\"
    display(fig)
    plt.close(fig)


def rgb(image_bgr: np.ndarray) -> np.ndarray:
    return image_bgr[:, :, ::-1]


def every_tenth(what: str):
    \"\"\"A progress callback for the library: one line per tenth of the work.\"\"\"
    start, shown = time.time(), set()

    def progress(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth not in shown:
            shown.add(tenth)
            print(f"{what}: {done}/{total} ({time.time() - start:.0f} s)", flush=True)

    return progress""",
        ),
        (
            "md",
            """\
### Where the data comes from

* **Training images**: a folder with one sub-folder per class (`with_mask/`, `without_mask/`;
  the library also accepts names such as `WithMask`, `no_mask`, `mask`). The default is
  `config.training_data_dir()` — `../shared/datasets/face-mask` beside a checkout, 4071 images
  from the public [chandrikadeb7/Face-Mask-Detection](https://github.com/chandrikadeb7/Face-Mask-Detection)
  set — or set `MASK_DETECTOR_DATA=/path/to/folder`. See the repository's
  [`dataset/README.md`](../dataset/README.md) for what the data set holds and how to get it.
* **Scene photos** (for face detection): PASCAL VOC `images/` + `annotations/`,
  `config.scenes_dir()` (`../shared/datasets/scenes-dev`) or `MASK_DETECTOR_SCENES`.
  Without them the scene evaluation is skipped.
* **Kaggle** (e.g. in Colab): the public face-mask data sets can be fetched with the
  [Kaggle API](https://github.com/Kaggle/kaggle-api). Create a token on kaggle.com
  (*Settings → API → Create New Token*) and either put `kaggle.json` in `~/.kaggle/`
  (`chmod 600`) or set `KAGGLE_USERNAME` and `KAGGLE_KEY` (in Colab: *Secrets*). Then set
  `KAGGLE_DATASET` below (or the environment variable `MASK_DETECTOR_KAGGLE_DATASET`) to, for
  example, `omkargurav/face-mask-dataset` (7553 images, `data/with_mask`, `data/without_mask`)
  or `ashishjangra27/face-mask-12k-images-dataset`; and, for scene photos, `KAGGLE_SCENES` to
  `andrewmvd/face-mask-detection` (853 photos, `images/` + `annotations/`). The cell then runs
  `kaggle datasets download -d <slug> -p <cache>/kaggle/<slug> --unzip`, into
  `config.cache_dir()`, outside the repository. Nothing is downloaded unless you ask.""",
        ),
        (
            "code",
            """\
from mask_detector.data.dataset import find_class_dirs
from mask_detector.errors import DatasetError

# Kaggle slugs such as "omkargurav/face-mask-dataset"; empty: no download.
KAGGLE_DATASET = os.environ.get("MASK_DETECTOR_KAGGLE_DATASET", "")
KAGGLE_SCENES = os.environ.get("MASK_DETECTOR_KAGGLE_SCENES", "")  # "andrewmvd/face-mask-detection"
DATA_DIR = Path(os.environ.get("MASK_DETECTOR_DATA", config.training_data_dir()))
SCENES_DIR = Path(os.environ.get("MASK_DETECTOR_SCENES", config.scenes_dir()))


def folder_per_class_under(root: Path) -> Path | None:
    \"\"\"The first folder under `root` (itself included) that holds both class folders.\"\"\"
    for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        try:
            if len(find_class_dirs(folder)) == len(config.LABELS):
                return folder
        except DatasetError:
            continue
    return None


def kaggle_download(slug: str) -> Path:
    \"\"\"`kaggle datasets download` into the cache folder (outside the repository), once.\"\"\"
    target = config.cache_dir() / "kaggle" / slug.replace("/", "__")
    if not target.is_dir():
        token = Path.home() / ".kaggle" / "kaggle.json"
        if IN_COLAB and not os.environ.get("KAGGLE_KEY") and not token.is_file():  # Secrets
            from google.colab import userdata

            for name in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
                os.environ[name] = userdata.get(name)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "kaggle"], check=True)
        command = ["kaggle", "datasets", "download", "-d", slug, "-p", str(target), "--unzip"]
        subprocess.run(command, check=True)
    return target


if KAGGLE_DATASET:
    DATA_DIR = folder_per_class_under(kaggle_download(KAGGLE_DATASET)) or DATA_DIR
if KAGGLE_SCENES:
    found = [p.parent for p in kaggle_download(KAGGLE_SCENES).rglob("annotations")]
    SCENES_DIR = found[0] if found else SCENES_DIR
if not (KAGGLE_DATASET or KAGGLE_SCENES):
    print("Kaggle download not requested (set KAGGLE_DATASET to fetch a public data set).")

if not DATA_DIR.is_dir():
    raise FileNotFoundError(
        f"No training data at {DATA_DIR}: set MASK_DETECTOR_DATA to a folder-per-class data set "
        "or KAGGLE_DATASET above (see dataset/README.md)."
    )


def relative(path: Path | str) -> str:
    \"\"\"A path as seen from the repository root (shorter, and the same on every machine).\"\"\"
    return os.path.relpath(path, REPO_ROOT) if Path(path).is_absolute() else str(path)


print("training data:", relative(DATA_DIR))
print("scene photos: ", relative(SCENES_DIR), "" if SCENES_DIR.is_dir() else "(absent: skipped)")
print("backbone weights:", relative(config.backbone_weights_path()))

# Everything this notebook writes goes here (git-ignored), never into models/.
RUNS_DIR = Path(os.environ.get("MASK_DETECTOR_NOTEBOOK_RUNS", REPO_ROOT / "runs" / "notebook"))
RUNS_DIR.mkdir(parents=True, exist_ok=True)
print("notebook outputs:", relative(RUNS_DIR))""",
        ),
        (
            "md",
            """\
## 1. Business understanding

**Goal.** Given a photo or a video frame, draw a box around every face and label it *Mask* or
*No mask* — for example to count compliance at an entrance, on a laptop CPU, in real time.

**Two sub-problems.**
1. *Find the faces* — a face detector: OpenCV's Haar cascade (fast, everywhere) or YuNet
   (a small CNN, better on turned and small faces).
2. *Label each face* — a binary image classifier: MobileNetV2 pre-trained on ImageNet,
   fine-tuned on face crops (transfer learning: a few thousand images are enough).

**Success criteria.** On held-out faces, high accuracy *and* high recall of the minority,
riskier class (`without_mask`): a system that says "mask" to everyone is useless. End to end,
the share of annotated faces in real scene photos that are found and correctly labelled.
Inference must run at video rate on a CPU: the shipped model is a LiteRT (`.tflite`) file that
needs no TensorFlow.""",
        ),
        (
            "md",
            """\
## 2. Data understanding

### Class balance""",
        ),
        (
            "code",
            """\
from mask_detector.data.dataset import list_samples

samples = list_samples(DATA_DIR)
labels = [s.label_name for s in samples]
balance = pd.Series(labels).value_counts().rename("images").to_frame()
balance["share"] = balance["images"] / balance["images"].sum()
display(balance)

fig, ax = plt.subplots(figsize=(4, 2.2))
ax.barh(balance.index, balance["images"], color=["tab:green", "tab:red"])
ax.set(xlabel="images", title=f"{len(samples)} training images")
show(fig)""",
        ),
        (
            "md",
            """\
Nearly balanced (about 53 % / 47 %). Training still weights the classes by inverse frequency,
and the evaluation reports each class's recall, not only accuracy.

### Image formats, sizes and colour modes

Read from the file headers with Pillow (no pixel is decoded, so this takes seconds).""",
        ),
        (
            "code",
            """\
from PIL import Image

rows = []
for s in samples:
    try:
        with Image.open(s.path) as im:
            rows.append((s.label_name, s.path.suffix.lower(), im.format, im.mode, *im.size))
    except OSError as exc:
        rows.append((s.label_name, s.path.suffix.lower(), f"unreadable: {exc}", None, 0, 0))
headers = pd.DataFrame(rows, columns=["label", "extension", "format", "mode", "width", "height"])
headers["long_side"] = headers[["width", "height"]].max(axis=1)

display(pd.crosstab(headers["format"], headers["mode"], margins=True))
display(headers["extension"].value_counts().rename("files").to_frame().T)
display(headers.groupby("label")[["width", "height"]].describe().T.round(0))

fig, ax = plt.subplots(figsize=(6, 2.5))
bins = np.geomspace(20, 1100, 40)
for label, colour in zip(config.LABELS, ["tab:green", "tab:red"], strict=True):
    ax.hist(headers.loc[headers.label == label, "long_side"], bins=bins, alpha=0.6,
            color=colour, label=label)
ax.set(xlabel="long side (pixels)", ylabel="images", title="image sizes", xscale="log")
ax.legend()
show(fig)""",
        ),
        (
            "md",
            """\
Mixed formats (JPEG, PNG, WebP…), modes (RGB, RGBA, palette, greyscale) and sizes from a few
dozen pixels to 1024. The library reads all of them the same way (`imageio.read_image`: first
frame, EXIF orientation, transparency composited on white, then BGR), and everything is resized
to MobileNetV2's 224 × 224 input by the one preprocessing function. Small images matter: faces
cut from crowd photos are often 20–30 px, much smaller than most training images.

### A look at the images""",
        ),
        (
            "code",
            """\
from mask_detector.imageio import read_image

rng = np.random.default_rng(0)
per_class = 8
fig, axes = plt.subplots(2, per_class, figsize=(per_class * 1.3, 3))
for row, label in enumerate(config.LABELS):
    pool = [s for s in samples if s.label_name == label]
    for ax, k in zip(axes[row], rng.choice(len(pool), per_class, replace=False), strict=True):
        ax.imshow(rgb(read_image(pool[k].path)))
        ax.set_axis_off()
    axes[row][0].set_title(label, loc="left")
fig.tight_layout()
show(fig)""",
        ),
        (
            "md",
            """\
Mostly single, centred faces; part of `with_mask` has synthetic masks pasted onto faces, which
makes the task easier on this set than in the wild (hence the scene evaluation later).

### Duplicates: exact copies and near-copies

Two kinds:
* **exact duplicates** — byte-identical files under different names (SHA-256 of the bytes);
* **near-duplicates** — the same photo re-encoded, resized, recoloured, or with a pasted mask;
  the library hashes each image (`dedup.phash`: 64 bits of the low-frequency DCT of the grey
  image) and joins images whose hashes differ in at most `DEFAULT_THRESHOLD` bits into groups
  (`dedup.group_near_duplicates`).""",
        ),
        (
            "code",
            """\
import hashlib
from collections import defaultdict

by_digest = defaultdict(list)
for s in samples:
    by_digest[hashlib.sha256(s.path.read_bytes()).hexdigest()].append(s)
exact = [group for group in by_digest.values() if len(group) > 1]
conflicting = [g for g in exact if len({s.label for s in g}) > 1]
print(f"{len(exact)} groups of byte-identical files ({sum(map(len, exact))} files, "
      f"{sum(map(len, exact)) - len(exact)} redundant copies); "
      f"{len(conflicting)} groups carry both labels")
for group in exact[:3]:
    print("  same bytes:", ", ".join(f"{s.label_name}/{s.path.name}" for s in group))""",
        ),
        (
            "code",
            """\
from mask_detector.data.dataset import LoadReport, iter_images
from mask_detector.data.dedup import DEFAULT_THRESHOLD, group_near_duplicates, hamming_matrix, phash

# Smoke mode hashes the first and last 120 files (sorted, so copies sit together); the real
# run hashes every image.
hash_samples = samples[:120] + samples[-120:] if SMOKE else samples
load_report = LoadReport()
kept, hashes = [], []
for sample, image in iter_images(hash_samples, load_report, every_tenth("hashing")):
    kept.append(sample)
    hashes.append(phash(image))
print(f"hashed {len(kept)} images; unreadable: {len(load_report.skipped)}")
for path, error in load_report.skipped:
    print("  skipped", path.name, "-", error)

groups = group_near_duplicates(hashes, DEFAULT_THRESHOLD)
sizes = pd.Series(groups).value_counts()
print(f"{len(sizes)} near-duplicate groups (threshold {DEFAULT_THRESHOLD} bits of 64); "
      f"{(sizes > 1).sum()} groups have 2+ images, holding {sizes[sizes > 1].sum()} images; "
      f"largest group: {sizes.max()} images")
histogram = sizes.value_counts().sort_index().rename("groups").rename_axis("group size")
display(histogram.to_frame().T)""",
        ),
        (
            "code",
            """\
distances = hamming_matrix(np.stack(hashes))
iu, ju = np.triu_indices(len(kept), k=1)
d = distances[iu, ju]
close = d <= DEFAULT_THRESHOLD
print(f"{close.sum()} pairs within {DEFAULT_THRESHOLD} bits "
      f"({(d == 0).sum()} with identical hashes)")

# Pairs of *different* files (not byte-identical) at increasing distance, side by side; the
# last one is just above the threshold, so it is not joined.
digest_of = {s.path: h for h, g in by_digest.items() for s in g}
shown_pairs = []
for low, high in ((0, 0), (1, 3), (4, 6), (7, 8), (9, 10), (11, 13)):
    for i, j in zip(iu[(d >= low) & (d <= high)], ju[(d >= low) & (d <= high)], strict=True):
        a, b = kept[i], kept[j]
        if digest_of[a.path] != digest_of[b.path]:
            shown_pairs.append((a, b, distances[i, j]))
            break
if shown_pairs:
    fig, axes = plt.subplots(2, len(shown_pairs), figsize=(len(shown_pairs) * 1.7, 3.8),
                             squeeze=False)
    for col, (a, b, dist) in enumerate(shown_pairs):
        for row, s in enumerate((a, b)):
            ax = axes[row][col]
            ax.imshow(rgb(read_image(s.path)))
            ax.set_axis_off()
            ax.set_title(f"{s.label_name}\\n{s.path.name[-20:]}", fontsize=7)
        verdict = "same group" if dist <= DEFAULT_THRESHOLD else "apart"
        axes[0][col].text(0.5, 1.35, f"{dist} bits: {verdict}", transform=axes[0][col].transAxes,
                          ha="center", fontsize=8, weight="bold")
    fig.tight_layout()
    show(fig)
else:
    print("no near-duplicate pair of distinct files in this sample")""",
        ),
        (
            "md",
            """\
Up to a few bits apart, pairs are the same photo re-encoded, cropped or recoloured; towards the
threshold they are mostly the same person in a similar pose, and now and then two different
photos that merely look alike (a false join: harmless for the split, whose groups only get
coarser, and the reason the threshold is not set higher).

**Why duplicates must stay on one side of the split.** If one copy of a photo is in the
training set and another in the test set, the test measures memory, not generalisation, and
the reported accuracy is too good. The cell below counts how often that would happen with a
plain random 70/15/15 split of the hashed images: the share of test images that have a
near-copy (within the threshold) in the training part.""",
        ),
        (
            "code",
            """\
perm = np.random.default_rng(42).permutation(len(kept))
n_test = int(0.15 * len(kept))
test_idx, train_idx = perm[:n_test], perm[2 * n_test:]
leaky = (distances[np.ix_(test_idx, train_idx)] <= DEFAULT_THRESHOLD).any(axis=1)
print(f"random split: {leaky.sum()} of {n_test} test images ({leaky.mean():.1%}) have a "
      "near-duplicate in train")""",
        ),
        (
            "md",
            """\
## 3. Data preparation

### The leak-free split

`data.split.make_split` hashes every image, groups near-duplicates and deals **whole groups**,
class by class, to test, validation and train (70/15/15, seed 42). The split is committed as
`models/split.json` (paths relative to the data set root), so every training run, the CLI and
this notebook use exactly the same images for testing.""",
        ),
        (
            "code",
            """\
from mask_detector.data.split import Split, make_split, split_by_groups

committed = Split.load(config.MODELS_DIR / "split.json")
committed_matches = all(
    (DATA_DIR / rel).is_file() for rows in committed.files.values() for rel, _ in rows
)
if committed_matches:
    split = committed
    print(f"committed split: {split.groups} near-duplicate groups, seed {split.seed}, "
          f"ratios {split.ratios}, threshold {split.threshold} bits")
else:  # another data set: make a split of it, the same way, kept beside the notebook's runs
    split, _ = make_split(DATA_DIR, progress=every_tenth("splitting"))
    split.save(RUNS_DIR / "split.json")
    print("made a new split for", DATA_DIR, "->", RUNS_DIR / "split.json")
sizes_table = pd.DataFrame(split.sizes()).T
sizes_table["total"] = sizes_table.sum(axis=1)
sizes_table["share"] = sizes_table["total"] / sizes_table["total"].sum()
display(sizes_table)""",
        ),
        (
            "code",
            """\
# Check the split against the hashes computed above.
part_of = {
    (DATA_DIR / rel).resolve(): part for part, rows in split.files.items() for rel, _ in rows
}
parts_per_group = defaultdict(set)
for s, g in zip(kept, groups, strict=True):
    parts_per_group[g].add(part_of.get(s.path.resolve(), "not in split"))
straddling = [g for g, parts in parts_per_group.items() if len(parts) > 1]
print(f"near-duplicate groups found in more than one part: {len(straddling)}")

if not SMOKE and committed_matches:
    # make_split = read + phash + group_near_duplicates + split_by_groups: the hashes above
    # are the same, so dealing the same groups must give the committed file lists back.
    again = split_by_groups(kept, groups, DATA_DIR, split.ratios, split.seed, split.threshold)
    print("make_split reproduces models/split.json:", again.files == split.files)""",
        ),
        (
            "md",
            """\
### One preprocessing path

`preprocess.preprocess_faces` turns BGR face crops into the classifier's input (RGB, 224 × 224,
scaled to [-1, 1], exactly `mobilenet_v2.preprocess_input`). Training, evaluation, the CLI, the
app and the LiteRT fast path all call it, so the model never sees pixels prepared differently
from those it learned on. Training also makes augmented *views* of each image (cached once,
one view per image per epoch): `light` (flip, small rotation and zoom) or `strong` (also
translation, contrast, brightness and a random low-resolution blur, to look like small faces
cut from scene photos).""",
        ),
        (
            "code",
            """\
from mask_detector.preprocess import preprocess_faces
from mask_detector.training.model import augmenter

example = read_image(split.samples("train", DATA_DIR)[0].path)
batch = preprocess_faces([example] * 5)
print("input", example.shape, example.dtype, "-> batch", batch.shape, batch.dtype,
      f"range [{batch.min():.2f}, {batch.max():.2f}]")


def to_display(x: np.ndarray) -> np.ndarray:
    return np.clip((np.asarray(x) + 1) / 2, 0, 1)


fig, axes = plt.subplots(2, 6, figsize=(8, 3))
for row, strength in enumerate(("light", "strong")):
    views = augmenter(strength, seed=1)(batch, training=True)
    axes[row][0].imshow(to_display(batch[0]))
    axes[row][0].set_title("preprocessed" if row == 0 else "", fontsize=8)
    for k in range(5):
        axes[row][k + 1].imshow(to_display(views[k]))
    axes[row][1].set_title(f"{strength} augmentation views", fontsize=8, loc="left")
    for ax in axes[row]:
        ax.set_axis_off()
fig.tight_layout()
show(fig)""",
        ),
        (
            "md",
            """\
## 4. Modelling

MobileNetV2 (ImageNet weights) without its top, plus a small head (global average pooling,
dropout, a 2-way softmax). The backbone is cut at `block_13_expand`: the frozen part below runs
**once** per image and view and its features are cached (in `config.cache_dir()`), which makes
CPU training take minutes instead of hours; the part above is either frozen too or fine-tuned.
Three scenarios (`mask_detector/training/scenarios/*.json`) are compared:""",
        ),
        (
            "code",
            """\
from mask_detector.training.scenario import load_scenario, scenario_names

scenarios = [load_scenario(name) for name in scenario_names()]
display(pd.DataFrame([s.to_dict() for s in scenarios]).set_index("name").drop(columns="seed"))
for s in scenarios:
    print(f"{s.name}: {s.description}")""",
        ),
        (
            "md",
            """\
Each scenario trains the head first (early stopping on validation loss, best weights kept),
then — for the two fine-tuning scenarios — unfreezes blocks 13–16 at a low learning rate.
Classes are weighted by inverse frequency. `train_scenario` evaluates on validation and test
and writes `runs/notebook/<scenario>/model.keras` and `metrics.json`.""",
        ),
        (
            "code",
            """\
from mask_detector.training.train import train_scenario

LIMIT = 40 if SMOKE else None  # images per part of the split in smoke mode
runs = {}
for scenario in scenarios:
    if SMOKE:
        scenario = scenario.shrunk(epochs=1, views=1)
    print(f"== {scenario.name}", flush=True)
    runs[scenario.name] = train_scenario(
        DATA_DIR,
        split,
        scenario,
        backbone_weights=config.backbone_weights_path(),
        runs_dir=RUNS_DIR,
        limit=LIMIT,
        log=lambda message: print(message, flush=True),
    )
    print(f"   {runs[scenario.name]['train_seconds']:.0f} s", flush=True)""",
        ),
        (
            "code",
            """\
fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 2.6), sharey=True,
                         squeeze=False)
for ax, (name, metrics) in zip(axes[0], runs.items(), strict=True):
    epoch = 0
    for phase, history in metrics["history"].items():
        x = np.arange(epoch + 1, epoch + 1 + len(history["loss"]))
        ax.plot(x, history["loss"], "o-", ms=3, label=f"{phase} train")
        ax.plot(x, history["val_loss"], "s--", ms=3, label=f"{phase} validation")
        epoch += len(history["loss"])
    ax.set(title=name, xlabel="epoch", yscale="log")
    ax.legend(fontsize=7)
axes[0][0].set_ylabel("loss")
fig.tight_layout()
show(fig)""",
        ),
        (
            "md",
            """\
## 5. Evaluation

### Comparing the scenarios

The model that ships is chosen on **validation** accuracy (then the lower per-class validation
recall) — never on test, which is only reported. `training.ship.comparison_table` gives the
figures people compare; test figures are on the held-out, group-disjoint test part. The
`scene_crop_*` columns score each model on the faces cut from the annotated scene photos
(`ship.scene_crop_reports`: small, blurred crowd faces, the question the strong-augmentation
scenario asks); they are reported, never used to choose, and skipped in smoke mode.""",
        ),
        (
            "code",
            """\
from mask_detector.training.ship import (
    comparison_table,
    load_runs,
    scene_crop_reports,
    selection_score,
)

runs = load_runs(RUNS_DIR)
scene_crops = {} if SMOKE else scene_crop_reports(RUNS_DIR, list(runs), SCENES_DIR)
table = pd.DataFrame(comparison_table(runs, scene_crops)).set_index("scenario")
display(table)
best = max(runs, key=lambda name: selection_score(runs[name]))
print("selected on validation:", best)""",
        ),
        (
            "code",
            """\
from mask_detector.evaluation.metrics import summary_line

for name, metrics in runs.items():
    print(f"{name:>20} test: {summary_line(metrics['test'])}")
print(f"\\nclassification report of {best} on test:")
display(pd.DataFrame(runs[best]["test"]["per_class"]).T)

fig, axes = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 2.9), squeeze=False)
for ax, (name, metrics) in zip(axes[0], runs.items(), strict=True):
    cm = np.asarray(metrics["test"]["confusion_matrix"])
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, f"{count}\\n{rates[i, j]:.1%}", ha="center", va="center",
                color="white" if rates[i, j] > 0.5 else "black")
    names = [config.DISPLAY_NAMES[label] for label in config.LABELS]
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=names, yticklabels=names,
           xlabel="predicted", title=f"{name}\\naccuracy {metrics['test']['accuracy']:.2%}")
axes[0][0].set_ylabel("true")
fig.suptitle("confusion matrices on the test part (rows: true class)")
fig.tight_layout()
show(fig)""",
        ),
        (
            "code",
            """\
fig, (ax, zoom) = plt.subplots(1, 2, figsize=(8, 3.2))
for name, metrics in runs.items():
    roc = metrics["test"]["roc_curve"]
    if roc is None:
        continue
    for axis in (ax, zoom):
        axis.plot(roc["fpr"], roc["tpr"], label=f"{name} (AUC {metrics['test']['roc_auc']:.4f})")
ax.plot([0, 1], [0, 1], ":", color="grey")
ax.set(xlabel="false positive rate", ylabel="true positive rate",
       title="ROC on test (positive: with_mask)")
zoom.set(xlim=(0, 0.2), ylim=(0.8, 1.0), xlabel="false positive rate", title="zoom")
ax.legend(fontsize=7, loc="lower right")
fig.tight_layout()
show(fig)""",
        ),
        (
            "md",
            """\
### Which test images does the selected model get wrong?

The selected scenario's Keras model classifies the test images again (through the same
`preprocess_faces`); the mistakes are shown with the predicted probability of the true class.""",
        ),
        (
            "code",
            """\
import keras

keras_model = keras.models.load_model(RUNS_DIR / best / "model.keras")
test_samples = split.samples("test", DATA_DIR)
if LIMIT:  # smoke mode: a random handful, both classes
    pick = np.random.default_rng(0).permutation(len(test_samples))[:LIMIT]
    test_samples = [test_samples[k] for k in sorted(pick)]
test_report = LoadReport()
images, truths, paths = [], [], []
for sample, image in iter_images(test_samples, test_report):
    images.append(image)
    truths.append(sample.label)
    paths.append(sample.path)
truths = np.array(truths)
keras_probs = np.concatenate([
    keras_model.predict(preprocess_faces(images[k:k + 64]), verbose=0)
    for k in range(0, len(images), 64)
])
predicted = keras_probs.argmax(axis=1)
wrong = np.flatnonzero(predicted != truths)
print(f"{best}: {len(wrong)} of {len(truths)} test images misclassified "
      f"(accuracy {np.mean(predicted == truths):.2%})")

mistakes = wrong[:12]
if len(mistakes):
    cols = min(6, len(mistakes))
    rows = -(-len(mistakes) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.5, rows * 1.9), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, k in zip(axes.flat, mistakes, strict=False):
        ax.imshow(rgb(images[k]))
        ax.set_title(f"true {config.LABELS[truths[k]]}\\nP(true) {keras_probs[k, truths[k]]:.2f}",
                     fontsize=7)
    fig.tight_layout()
    show(fig)""",
        ),
        (
            "md",
            """\
### Finding the faces: the detectors on scene photos

The classifier sees one centred face per image; in use, faces must first be found in photos of
streets and crowds. `evaluation.scenes.evaluate_scenes` runs a detector over annotated scene
photos and reports **recall** (annotated faces found, IoU ≥ 0.3) per class and **precision**
(detections that are faces). Here the detectors alone are scored (boxes without labels).""",
        ),
        (
            "code",
            """\
from mask_detector.detection import Detection

SCENE_LIMIT = 10 if SMOKE else None
have_scenes = (SCENES_DIR / "annotations").is_dir() and (SCENES_DIR / "images").is_dir()
detectors = {}
if not have_scenes:
    print(f"No scene photos at {SCENES_DIR}: the scene evaluation is skipped.")
else:
    from mask_detector.detectors import make_detector
    from mask_detector.errors import MaskDetectorError
    from mask_detector.evaluation.scenes import evaluate_scenes

    for name in ("haar", "yunet"):
        try:  # in Colab, YuNet's ONNX file (230 kB) is fetched from OpenCV's model zoo
            detectors[name] = make_detector(name, download=IN_COLAB)
        except MaskDetectorError as exc:
            print(f"{name} unavailable: {exc}")


def boxes_only(detector):
    return lambda image: [Detection(box, "", 0.0) for box in detector.detect(image)]


scene_rows = {}
for name, detector in detectors.items():
    result = evaluate_scenes(SCENES_DIR / "images", SCENES_DIR / "annotations",
                             boxes_only(detector), limit=SCENE_LIMIT)
    scene_rows[name] = {
        "images": result["images"],
        "faces": result["faces"],
        "found": result["found"],
        "recall": result["recall"],
        **{f"recall {k}": v for k, v in result["recall_per_class"].items()},
        "precision": result["precision"],
        "ms per image": result["ms_per_image"],
    }
if scene_rows:
    display(pd.DataFrame(scene_rows).T)""",
        ),
        (
            "md",
            """\
Scene faces are small (median short side about 21 px) and often turned away, so recall is
far below the classifier's test accuracy: on real photos the **detector** is the weak link.
YuNet, a small CNN, finds many more faces than the Haar cascade.

## 6. Deployment

The selected model is exported twice, into the notebook's runs folder (the project's own copy
is `models/mask_detector.keras` / `.tflite`, made by `python -m mask_detector ship`):
* `.keras` — the full Keras model, for further training;
* `.tflite` — LiteRT flatbuffer (`training.export.export_tflite`, float32): the fast path,
  run by `ai-edge-litert` without TensorFlow, all faces of a frame in one call.""",
        ),
        (
            "code",
            """\
import contextlib
import io
import shutil

from mask_detector.classifier import MaskClassifier
from mask_detector.evaluation.classify import evaluate_samples
from mask_detector.training.export import export_tflite

EXPORT_DIR = RUNS_DIR / "export"
EXPORT_DIR.mkdir(exist_ok=True)
keras_path = EXPORT_DIR / config.KERAS_MODEL_NAME
shutil.copyfile(RUNS_DIR / best / "model.keras", keras_path)
with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its whole signature
    tflite_path = export_tflite(keras_model, EXPORT_DIR / config.TFLITE_MODEL_NAME)
for path in (keras_path, tflite_path):
    print(f"{relative(path)}: {path.stat().st_size / 1e6:.1f} MB")

# The fast path must agree with Keras on the same test images.
lite = evaluate_samples(MaskClassifier(tflite_path), test_samples)
lite_probs = np.array([f["probs"] for f in lite["files"]])
print(f"LiteRT on test: {summary_line(lite)}")
print(f"largest probability difference from Keras: {np.abs(lite_probs - keras_probs).max():.1e};"
      f" same labels: {np.mean(lite_probs.argmax(1) == predicted):.2%}")""",
        ),
        (
            "md",
            """\
### The whole pipeline: detector + classifier

`pipeline.MaskDetector` finds the faces, pads and crops them, classifies all of a frame's faces
in one LiteRT call and draws the result. On the scene photos, the share of *found* faces whose
mask label is right:""",
        ),
        (
            "code",
            """\
from mask_detector.pipeline import MaskDetector

pipeline_rows = {}
for name, detector in detectors.items():
    md = MaskDetector(detector, MaskClassifier(tflite_path))
    result = evaluate_scenes(SCENES_DIR / "images", SCENES_DIR / "annotations", md.detect,
                             limit=SCENE_LIMIT)
    pipeline_rows[f"{name} + MobileNetV2"] = {
        "recall": result["recall"],
        "label accuracy (found faces)": result["label_accuracy"],
        **{f"label accuracy {k}": v for k, v in result["label_accuracy_per_class"].items()},
        "ms per image": result["ms_per_image"],
    }
if pipeline_rows:
    display(pd.DataFrame(pipeline_rows).T)
else:
    print("no scene photos or no detector: skipped")""",
        ),
        (
            "code",
            """\
# A photo through the Haar + MobileNetV2 pipeline: a scene photo when there are some,
# else scikit-image's astronaut (one frontal face, no mask).
# The scene chosen is the one with the most annotated faces of at least 40 px (chosen from the
# annotations, not from what the detector finds).
from mask_detector.evaluation.scenes import load_annotations

md = MaskDetector.load(model=tflite_path, detector="haar")
photo, source = None, ""
if have_scenes:

    def big_faces(xml: Path) -> int:
        return sum(min(box[2:]) >= 40 for _, box in load_annotations(xml))

    xml = max(sorted((SCENES_DIR / "annotations").glob("*.xml")), key=big_faces)
    image_path = next((SCENES_DIR / "images").glob(f"{xml.stem}.*"))
    photo, source = read_image(image_path), image_path.name
if photo is None:
    from skimage import data as skimage_data

    photo, source = np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1]), "astronaut"

faces = md.detect(photo)
for face in faces:
    print(face.to_dict())
fig, ax = plt.subplots(figsize=(7, 7 * photo.shape[0] / photo.shape[1]))
ax.imshow(rgb(md.annotate(photo, faces)))
ax.set_axis_off()
ax.set_title(f"{source}: {len(faces)} face(s) found by Haar, labelled by MobileNetV2")
show(fig)""",
        ),
        (
            "code",
            """\
def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


test = runs[best]["test"]
print(f"training images: {len(samples)} ({len(exact)} groups of exact copies); split into "
      f"{split.groups} near-duplicate groups, none across parts: {not straddling}")
print(f"selected scenario (on validation): {best}")
print(f"  test: {summary_line(test)}, ROC AUC {test['roc_auc']:.4f}")
print(f"  LiteRT model: {tflite_path.stat().st_size / 1e6:.1f} MB, same labels as Keras: "
      f"{np.mean(lite_probs.argmax(1) == predicted):.2%}")
for name, row in scene_rows.items():
    print(f"  scene photos, {name}: recall {percent(row['recall'])}, "
          f"precision {percent(row['precision'])}")
for name, row in pipeline_rows.items():
    print(f"  scene photos, {name}: label accuracy on found faces "
          f"{percent(row['label accuracy (found faces)'])}")""",
        ),
        (
            "md",
            """\
## Summary

* **Data**: 4071 face images in two nearly balanced classes, with many exact and near
  duplicates; a split by near-duplicate group keeps copies out of the test set.
* **Model**: transfer learning on MobileNetV2 with cached frozen features; three scenarios
  compared on validation, the best exported to `.keras` and LiteRT `.tflite` (same labels as
  Keras, no TensorFlow needed at inference).
* **Limits**: the classifier is very accurate on single, centred faces, but on scene photos
  the face detector misses most small or turned faces (YuNet finds far more than Haar), and
  on the small faces it does find, `without_mask` is labelled much less reliably than on the
  test set (see the scene tables above). The third scene class, *mask worn incorrectly*, is
  not modelled. Next steps: train on face crops cut from scene photos, and a third class.

Reproduce from the command line: `python -m mask_detector split`, `train --scenario all`,
`ship`, `evaluate`, `evaluate-scenes` (see the repository README).""",
        ),
    ]


def ruff_format(source: str) -> str:
    """The cell as `ruff format` writes it (the project's style), when ruff is installed."""
    ruff = shutil.which(
        "ruff", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    if not ruff:
        return source
    done = subprocess.run(
        [ruff, "format", "--stdin-filename", "cell.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    return done.stdout.rstrip("\n")


def build(repo: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell(src) if kind == "md" else new_code_cell(ruff_format(src))
        for kind, src in cells(repo)
    ]
    nb.metadata.update(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
            "accelerator": "GPU",
        }
    )
    return nb


#: TensorFlow's C++ log lines ("I0000 00:00:... port.cc:153] oneDNN custom operations...", the
#: CUDA probe on a machine without a GPU): noise on stderr that TF_CPP_MIN_LOG_LEVEL no longer
#: silences. They are dropped from the saved outputs; everything else is kept as it ran.
TF_LOG_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\]|WARNING: All log messages before absl).*$\n?",
    re.MULTILINE,
)


def drop_tf_log_lines(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = TF_LOG_LINE.sub("", output.text)
        cell.outputs = [
            o for o in cell.outputs if not (o.output_type == "stream" and not o.text.strip())
        ]


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 3600) -> nbformat.NotebookNode:
    """Run every cell with nbclient in `cwd`, on this interpreter (its folder first on PATH)."""
    from nbclient import NotebookClient

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def keep_outputs(nb: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> None:
    """Copy the outputs of an executed notebook whose code cells are the same as `nb`'s.

    For edits of the prose only: a changed code cell needs a real run (--execute).
    """
    ran = [c for c in executed.cells if c.cell_type == "code"]
    new = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in new]:
        raise SystemExit("code cells changed since the last run: use --execute")
    for cell, old in zip(new, ran, strict=True):
        cell.outputs, cell.execution_count = old.outputs, old.execution_count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run it and keep the outputs")
    parser.add_argument(
        "--keep-outputs",
        action="store_true",
        help="take the outputs of the existing notebook (only markdown cells may have changed)",
    )
    parser.add_argument("--out", type=Path, default=NOTEBOOK, help=f"default: {NOTEBOOK}")
    args = parser.parse_args()
    nb = build(repository())
    if args.keep_outputs:
        keep_outputs(nb, nbformat.read(args.out, as_version=4))
    elif args.execute:
        start = time.time()
        try:
            execute(nb, HERE)
        finally:  # keep what ran, errors included, for a look
            drop_tf_log_lines(nb)
            nbformat.write(nb, args.out)
        print(f"executed in {time.time() - start:.0f} s", file=sys.stderr)
    nbformat.write(nb, args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
