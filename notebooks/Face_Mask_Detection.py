# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab][badge]][colab]
#
# [badge]: https://colab.research.google.com/assets/colab-badge.svg
# [colab]: https://colab.research.google.com/github/OWNER/face-mask-detection/blob/main/notebooks/Face_Mask_Detection.ipynb
#
# # Face-mask detection: the data-mining story, end to end
#
# Find every face in a photo and say whether it wears a mask. This notebook tells how the
# project's model was made, in the order of **CRISP-DM**:
#
# 1. [Business understanding](#1.-Business-understanding)
# 2. [Data understanding](#2.-Data-understanding): class balance, image formats, duplicates
# 3. [Data preparation](#3.-Data-preparation): a split that does not leak, one preprocessing path
# 4. [Modelling](#4.-Modelling): three training scenarios of a MobileNetV2 classifier
# 5. [Evaluation](#5.-Evaluation): confusion matrices, ROC, errors, face detection on scene photos
# 6. [Deployment](#6.-Deployment): `.keras` and LiteRT (`.tflite`) export, the pipeline on a photo
#
# Every step calls the project's library, `mask_detector`, charts included
# (`evaluation.figures`); nothing here re-implements it. The committed copy holds the outputs of
# a real run on the full training set (4071 images), so it reads on GitHub without running it.
# Running it yourself writes only under `runs/notebook/` (git-ignored): the shipped model in
# `models/` is left alone.
#
# *This notebook is made from `notebooks/Face_Mask_Detection.py`, plain Python, by
# `notebooks/build_notebook.py`, which fills in `REPOSITORY = "OWNER/face-mask-detection"` for
# the badge and the `git clone` below (from the `origin` remote, or `MASK_DETECTOR_REPOSITORY`);
# in a fork, rebuild it or edit that one line of the set-up cell.*

# %% [markdown]
# ## 0. Set-up
#
# * **In Colab** (`Runtime → Change runtime type → GPU` speeds up training): the cell clones the
#   repository and installs `requirements.txt`.
# * **Locally**, opened from `notebooks/` of a checkout: the repository root is found and put on
#   `sys.path`; install the requirements into your environment first
#   (`pip install -r requirements.txt`).
# * **Smoke mode**: `MASK_DETECTOR_SMOKE=1` shrinks the data (40 images per part of the split)
#   and the training (1 epoch, 1 view) so the whole notebook runs in a few minutes; the test
#   suite runs it that way (`tests/test_notebook.py`). Its numbers mean nothing.

# %%
import os
import subprocess
import sys
from pathlib import Path

# owner/name on GitHub; the "Open in Colab" badge above points to the same repository.
REPOSITORY = "OWNER/face-mask-detection"
SMOKE = os.environ.get("MASK_DETECTOR_SMOKE") == "1"
IN_COLAB = "google.colab" in sys.modules
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info and warning lines


def find_repo_root() -> Path | None:
    """The checkout this notebook sits in (the library cannot be imported before it is found)."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "mask_detector" / "__init__.py").is_file():
            return folder
    return None


REPO_ROOT = find_repo_root()
if REPO_ROOT is None:  # Colab, or a notebook opened outside a checkout: fetch the project
    REPO_ROOT = Path.cwd() / REPOSITORY.split("/")[-1]
    if not REPO_ROOT.is_dir():
        url = f"https://github.com/{REPOSITORY}.git"
        subprocess.run(["git", "clone", "--depth", "1", url, str(REPO_ROOT)], check=True)
    requirements = str(REPO_ROOT / "requirements.txt")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", requirements], check=True)
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
print("repository:", REPO_ROOT, "| Colab:", IN_COLAB, "| smoke mode:", SMOKE)

# %%
# %matplotlib inline
import matplotlib
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import display

import mask_detector
from mask_detector import config
from mask_detector.evaluation.figures import (
    class_balance_figure,
    confusion_figure,
    curves_figure,
    image_grid,
    pct,
    roc_figure,
    size_histogram,
)
from mask_detector.progress import progress_printer

tf.get_logger().setLevel("ERROR")
matplotlib.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})
pd.set_option("display.precision", 4)
print("mask_detector", mask_detector.__version__, "| TensorFlow", tf.__version__)
print("GPUs:", tf.config.list_physical_devices("GPU") or "none (training runs on the CPU)")

# %% [markdown]
# The charts are the library's (`mask_detector.evaluation.figures`, the same the app and the
# command line draw); each cell shows the figure it ends with, or several through `display`.
#
# ### Where the data comes from
#
# * **Training images**: a folder with one sub-folder per class (`with_mask/`, `without_mask/`;
#   the library also accepts names such as `WithMask`, `no_mask`, `mask`). The default is
#   `config.training_data_dir()` — `../shared/datasets/face-mask` beside a checkout, 4071 images
#   from the public
#   [chandrikadeb7/Face-Mask-Detection](https://github.com/chandrikadeb7/Face-Mask-Detection)
#   set — or set `MASK_DETECTOR_DATA=/path/to/folder`. See the repository's
#   [`dataset/README.md`](../dataset/README.md) for what the data set holds and how to get it.
# * **Scene photos** (for face detection): PASCAL VOC `images/` + `annotations/`,
#   `config.scenes_dir()` (`../shared/datasets/scenes-dev`) or `MASK_DETECTOR_SCENES`.
#   Without them the scene evaluation is skipped.
# * **Kaggle** (e.g. in Colab): the public face-mask data sets can be fetched with the
#   [Kaggle API](https://github.com/Kaggle/kaggle-api). Create a token on kaggle.com
#   (*Settings → API → Create New Token*) and either put `kaggle.json` in `~/.kaggle/`
#   (`chmod 600`) or set `KAGGLE_USERNAME` and `KAGGLE_KEY` (in Colab: *Secrets*). Then set
#   `KAGGLE_DATASET` below (or the environment variable `MASK_DETECTOR_KAGGLE_DATASET`) to, for
#   example, `omkargurav/face-mask-dataset` (7553 images, `data/with_mask`, `data/without_mask`)
#   or `ashishjangra27/face-mask-12k-images-dataset`; and, for scene photos, `KAGGLE_SCENES` to
#   `andrewmvd/face-mask-detection` (853 photos, `images/` + `annotations/`). The cell then
#   fetches it with `data.kaggle.download` (the `kaggle` tool, into `config.cache_dir()`,
#   outside the repository) and finds the class folders in it (`data.dataset.find_dataset_root`).
#   Nothing is downloaded unless you ask.

# %%
import shutil

from mask_detector.data import kaggle
from mask_detector.data.dataset import find_dataset_root

# Kaggle data set names such as "omkargurav/face-mask-dataset"; empty: no download.
KAGGLE_DATASET = os.environ.get("MASK_DETECTOR_KAGGLE_DATASET", "")
# e.g. "andrewmvd/face-mask-detection"
KAGGLE_SCENES = os.environ.get("MASK_DETECTOR_KAGGLE_SCENES", "")
DATA_DIR = Path(os.environ.get("MASK_DETECTOR_DATA", config.training_data_dir()))
SCENES_DIR = Path(os.environ.get("MASK_DETECTOR_SCENES", config.scenes_dir()))

if KAGGLE_DATASET or KAGGLE_SCENES:
    token = Path.home() / ".kaggle" / "kaggle.json"
    if IN_COLAB and not os.environ.get("KAGGLE_KEY") and not token.is_file():  # Colab Secrets
        from google.colab import userdata

        for name in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
            os.environ[name] = userdata.get(name)
    if shutil.which("kaggle") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "kaggle"], check=True)
else:
    print("Kaggle download not requested (set KAGGLE_DATASET to fetch a public data set).")
if KAGGLE_DATASET:
    DATA_DIR = find_dataset_root(kaggle.download(KAGGLE_DATASET))
if KAGGLE_SCENES:
    found = sorted(p.parent for p in kaggle.download(KAGGLE_SCENES).rglob("annotations"))
    SCENES_DIR = found[0] if found else SCENES_DIR

if not DATA_DIR.is_dir():
    raise FileNotFoundError(
        f"No training data at {DATA_DIR}: set MASK_DETECTOR_DATA to a folder-per-class data set "
        "or KAGGLE_DATASET above (see dataset/README.md)."
    )

# Everything this notebook writes goes here (git-ignored), never into models/.
RUNS_DIR = Path(os.environ.get("MASK_DETECTOR_NOTEBOOK_RUNS", REPO_ROOT / "runs" / "notebook"))
RUNS_DIR.mkdir(parents=True, exist_ok=True)
for what, path in (
    ("training data", DATA_DIR),
    ("scene photos", SCENES_DIR),
    ("backbone weights", Path(config.backbone_weights_path())),
    ("notebook outputs", RUNS_DIR),
):
    # Paths as seen from the repository root: shorter, and the same on every machine.
    shown = os.path.relpath(path, REPO_ROOT) if path.is_absolute() else path
    absent = not path.exists() and str(path) != "imagenet"  # "imagenet": Keras downloads it
    print(f"{what}: {shown}{' (absent)' if absent else ''}")

# %% [markdown]
# ## 1. Business understanding
#
# **Goal.** Given a photo or a video frame, draw a box around every face and label it *Mask* or
# *No mask* — for example to count compliance at an entrance, on a laptop CPU, in real time.
#
# **Two sub-problems.**
# 1. *Find the faces* — a face detector: OpenCV's Haar cascade (fast, everywhere) or YuNet
#    (a small CNN, better on turned and small faces).
# 2. *Label each face* — a binary image classifier: MobileNetV2 pre-trained on ImageNet,
#    fine-tuned on face crops (transfer learning: a few thousand images are enough).
#
# **Success criteria.** On held-out faces, high accuracy *and* high recall of the minority,
# riskier class (`without_mask`): a system that says "mask" to everyone is useless. End to end,
# the share of annotated faces in real scene photos that are found and correctly labelled.
# Inference must run at video rate on a CPU: the shipped model is a LiteRT (`.tflite`) file that
# needs no TensorFlow.

# %% [markdown]
# ## 2. Data understanding
#
# ### Class balance

# %%
from mask_detector.data.dataset import list_samples

samples = list_samples(DATA_DIR)
labels = [s.label_name for s in samples]
present = [c for c in config.LABELS if c in labels]  # the labels this data set has, in order
balance = pd.Series(labels).value_counts().rename("images").to_frame()
balance["share"] = balance["images"] / balance["images"].sum()
display(balance)
class_balance_figure(balance["images"].to_dict(), f"{len(samples)} training images")

# %% [markdown]
# Nearly balanced (about 53 % / 47 %). Training still weights the classes by inverse frequency,
# and the evaluation reports each class's recall, not only accuracy.
#
# ### Image formats, sizes and colour modes
#
# Read from the file headers with Pillow (no pixel is decoded, so this takes seconds).

# %%
from PIL import Image

rows: list[tuple[object, ...]] = []
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
size_histogram(
    {label: headers.loc[headers.label == label, "long_side"].tolist() for label in present}
)

# %% [markdown]
# Mixed formats (JPEG, PNG, WebP…), modes (RGB, RGBA, palette, greyscale) and sizes from a few
# dozen pixels to 1024. The library reads all of them the same way (`imageio.read_image`: first
# frame, EXIF orientation, transparency composited on white, then BGR), and everything is resized
# to MobileNetV2's 224 × 224 input by the one preprocessing function. Small images matter: faces
# cut from crowd photos are often 20–30 px, much smaller than most training images.
#
# ### A look at the images

# %%
from mask_detector.imageio import read_image

rng = np.random.default_rng(0)
PER_CLASS = 8
shown_samples = []
for label in present:
    pool = [s for s in samples if s.label_name == label]
    shown_samples += [pool[k] for k in rng.choice(len(pool), PER_CLASS, replace=False)]
image_grid(
    [read_image(s.path) for s in shown_samples],
    [s.label_name if k % PER_CLASS == 0 else "" for k, s in enumerate(shown_samples)],
    columns=PER_CLASS,
    size=1.3,
)

# %% [markdown]
# Mostly single, centred faces; part of `with_mask` has synthetic masks pasted onto faces, which
# makes the task easier on this set than in the wild (hence the scene evaluation later).
#
# ### Duplicates: exact copies and near-copies
#
# Two kinds:
# * **exact duplicates** — byte-identical files under different names (SHA-256 of the bytes);
# * **near-duplicates** — the same photo re-encoded, resized, recoloured, or with a pasted mask;
#   the library hashes each image (`dedup.phash`: 64 bits of the low-frequency DCT of the grey
#   image) and joins images whose hashes differ in at most `DEFAULT_THRESHOLD` bits into groups
#   (`dedup.group_near_duplicates`).

# %%
import hashlib
from collections import defaultdict

by_digest = defaultdict(list)
for s in samples:
    by_digest[hashlib.sha256(s.path.read_bytes()).hexdigest()].append(s)
exact = [group for group in by_digest.values() if len(group) > 1]
conflicting = [g for g in exact if len({s.label for s in g}) > 1]
print(
    f"{len(exact)} groups of byte-identical files ({sum(map(len, exact))} files, "
    f"{sum(map(len, exact)) - len(exact)} redundant copies); "
    f"{len(conflicting)} groups carry both labels"
)
for group in exact[:3]:
    print("  same bytes:", ", ".join(f"{s.label_name}/{s.path.name}" for s in group))

# %%
from mask_detector.data.dataset import LoadReport, iter_images
from mask_detector.data.dedup import DEFAULT_THRESHOLD, group_near_duplicates, hamming_matrix, phash

# Smoke mode hashes the first and last 120 files (sorted, so copies sit together); the real
# run hashes every image.
hash_samples = samples[:120] + samples[-120:] if SMOKE else samples
load_report = LoadReport()
kept, hashes = [], []
hashing = progress_printer("hashing", sys.stdout)
for sample, image in iter_images(hash_samples, load_report, hashing):
    kept.append(sample)
    hashes.append(phash(image))
print(f"hashed {len(kept)} images; unreadable: {len(load_report.skipped)}")
for path, error in load_report.skipped:
    print("  skipped", path.name, "-", error)

groups = group_near_duplicates(hashes, DEFAULT_THRESHOLD)
sizes = pd.Series(groups).value_counts()
print(
    f"{len(sizes)} near-duplicate groups (threshold {DEFAULT_THRESHOLD} bits of 64); "
    f"{(sizes > 1).sum()} groups have 2+ images, holding {sizes[sizes > 1].sum()} images; "
    f"largest group: {sizes.max()} images"
)
histogram = sizes.value_counts().sort_index().rename("groups").rename_axis("group size")
display(histogram.to_frame().T)

# %%
distances = hamming_matrix(np.stack(hashes))
iu, ju = np.triu_indices(len(kept), k=1)
d = distances[iu, ju]
close = d <= DEFAULT_THRESHOLD
print(
    f"{close.sum()} pairs within {DEFAULT_THRESHOLD} bits ({(d == 0).sum()} with identical hashes)"
)

# Pairs of *different* files (not byte-identical) at increasing distance, one above the other;
# the last one is just above the threshold, so it is not joined.
digest_of = {s.path: h for h, g in by_digest.items() for s in g}
shown_pairs = []
for low, high in ((0, 0), (1, 3), (4, 6), (7, 8), (9, 10), (11, 13)):
    for i, j in zip(iu[(d >= low) & (d <= high)], ju[(d >= low) & (d <= high)], strict=True):
        a, b = kept[i], kept[j]
        if digest_of[a.path] != digest_of[b.path]:
            shown_pairs.append((a, b, distances[i, j]))
            break
if shown_pairs:
    tops = [
        f"{dist} bits: {'same group' if dist <= DEFAULT_THRESHOLD else 'apart'}\n"
        f"{a.label_name}\n{a.path.name[-20:]}"
        for a, _, dist in shown_pairs
    ]
    bottoms = [f"{b.label_name}\n{b.path.name[-20:]}" for _, b, _ in shown_pairs]
    display(
        image_grid(
            [read_image(a.path) for a, _, _ in shown_pairs]
            + [read_image(b.path) for _, b, _ in shown_pairs],
            tops + bottoms,
            columns=len(shown_pairs),
            size=1.7,
        )
    )
else:
    print("no near-duplicate pair of distinct files in this sample")

# %% [markdown]
# Up to a few bits apart, pairs are the same photo re-encoded, cropped or recoloured; towards the
# threshold they are mostly the same person in a similar pose, and now and then two different
# photos that merely look alike (a false join: harmless for the split, whose groups only get
# coarser, and the reason the threshold is not set higher).
#
# **Why duplicates must stay on one side of the split.** If one copy of a photo is in the
# training set and another in the test set, the test measures memory, not generalisation, and
# the reported accuracy is too good. The cell below counts how often that would happen with a
# plain random 70/15/15 split of the hashed images: the share of test images that have a
# near-copy (within the threshold) in the training part.

# %%
perm = np.random.default_rng(42).permutation(len(kept))
n_test = int(0.15 * len(kept))
test_idx, train_idx = perm[:n_test], perm[2 * n_test :]
leaky = (distances[np.ix_(test_idx, train_idx)] <= DEFAULT_THRESHOLD).any(axis=1)
print(
    f"random split: {leaky.sum()} of {n_test} test images ({pct(leaky.mean())}) have a "
    "near-duplicate in train"
)

# %% [markdown]
# ## 3. Data preparation
#
# ### The leak-free split
#
# `data.split.make_split` hashes every image, groups near-duplicates and deals **whole groups**,
# class by class, to test, validation and train (70/15/15, seed 42). The split is committed as
# `models/split.json` (paths relative to the data set root), so every training run, the CLI and
# this notebook use exactly the same images for testing.

# %%
from mask_detector.data.split import Split, make_split, split_by_groups

committed = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
committed_matches = all(
    (DATA_DIR / rel).is_file() for rows in committed.files.values() for rel, _ in rows
)
if committed_matches:
    split = committed
    print(
        f"committed split: {split.groups} near-duplicate groups, seed {split.seed}, "
        f"ratios {split.ratios}, threshold {split.threshold} bits"
    )
else:  # another data set: make a split of it, the same way, kept beside the notebook's runs
    split, _ = make_split(DATA_DIR, progress=progress_printer("splitting", sys.stdout))
    split.save(RUNS_DIR / config.SPLIT_NAME)
    print("made a new split for", DATA_DIR, "->", RUNS_DIR / config.SPLIT_NAME)
sizes_table = pd.DataFrame(split.sizes()).T
sizes_table["total"] = sizes_table.sum(axis=1)
sizes_table["share"] = sizes_table["total"] / sizes_table["total"].sum()
display(sizes_table)

# %%
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
    print("make_split reproduces models/split.json:", again.files == split.files)

# %% [markdown]
# ### One preprocessing path
#
# `preprocess.preprocess_faces` turns BGR face crops into the classifier's input (RGB, 224 × 224,
# scaled to [-1, 1], exactly `mobilenet_v2.preprocess_input`). Training, evaluation, the CLI, the
# app and the LiteRT fast path all call it, so the model never sees pixels prepared differently
# from those it learned on. Training also makes augmented *views* of each image (cached once,
# one view per image per epoch): `light` (flip, small rotation and zoom) or `strong` (also
# translation, contrast, brightness and a random low-resolution blur, to look like small faces
# cut from scene photos). `preprocess.to_images` turns them back into pictures.

# %%
from mask_detector.preprocess import preprocess_faces, to_images
from mask_detector.training.model import augmenter

example = read_image(split.samples("train", DATA_DIR)[0].path)
batch = preprocess_faces([example] * 5)
print(
    "input",
    example.shape,
    example.dtype,
    "-> batch",
    batch.shape,
    batch.dtype,
    f"range [{batch.min():.2f}, {batch.max():.2f}]",
)
views, titles = [], []
for strength in ("light", "strong"):
    views += to_images(batch[:1]) + to_images(augmenter(strength, seed=1)(batch, training=True))
    titles += ["preprocessed", f"{strength} augmentation", "", "", "", ""]
image_grid(views, titles, columns=6, size=1.3)

# %% [markdown]
# ## 4. Modelling
#
# MobileNetV2 (ImageNet weights) without its top, plus a small head (global average pooling,
# dropout, a 2-way softmax). The backbone is cut at `block_13_expand`: the frozen part below runs
# **once** per image and view and its features are cached (in `config.cache_dir()`), which makes
# CPU training take minutes instead of hours; the part above is either frozen too or fine-tuned.
# Three scenarios (`mask_detector/training/scenarios/*.json`) are compared:

# %%
from mask_detector.training.scenario import load_scenario, scenario_names

scenarios = [load_scenario(name) for name in scenario_names()]
display(pd.DataFrame([s.to_dict() for s in scenarios]).set_index("name").drop(columns="seed"))
for scenario in scenarios:
    print(f"{scenario.name}: {scenario.description}")

# %% [markdown]
# Each scenario trains the head first (early stopping on validation loss, best weights kept),
# then — for the two fine-tuning scenarios — unfreezes blocks 13–16 at a low learning rate.
# Classes are weighted by inverse frequency. `train_scenario` evaluates on validation and test
# and writes `runs/notebook/<scenario>/model.keras` and `metrics.json`.

# %%
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
    print(f"   {runs[scenario.name]['train_seconds']:.0f} s", flush=True)

# %%
for name, metrics in runs.items():
    display(curves_figure(metrics["history"], f"{name}: training"))

# %% [markdown]
# ## 5. Evaluation
#
# ### Comparing the scenarios
#
# The model that ships is chosen on **validation** accuracy (then the lower per-class validation
# recall) — never on test, which is only reported. `training.ship.comparison_table` gives the
# figures people compare; test figures are on the held-out, group-disjoint test part. The
# `scene_crop_*` columns score each model on the faces cut from the annotated scene photos
# (`ship.scene_crop_reports`: small, blurred crowd faces, the question the strong-augmentation
# scenario asks); they are reported, never used to choose, and skipped in smoke mode.

# %%
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
print("selected on validation:", best)

# %%
from mask_detector.evaluation.metrics import summary_line

for name, metrics in runs.items():
    print(f"{name:>20} test: {summary_line(metrics['test'])}")
print(f"\nclassification report of {best} on test:")
display(pd.DataFrame(runs[best]["test"]["per_class"]).T)
for name, metrics in runs.items():
    display(confusion_figure(metrics["test"], f"{name}: test part (rows: true class)"))

# %%
roc_figure(runs, f"ROC on test (positive: {config.LABELS[0]})", zoom=(0.2, 0.8))

# %% [markdown]
# ### Which test images does the selected model get wrong?
#
# The selected scenario's Keras model classifies the test images again (through the same
# `preprocess_faces`); the mistakes are shown with the predicted probability of the true class.

# %%
import keras

keras_model = keras.models.load_model(RUNS_DIR / best / config.SCENARIO_MODEL_NAME)
test_samples = split.samples("test", DATA_DIR)
if LIMIT:  # smoke mode: a random handful, both classes
    pick = np.random.default_rng(0).permutation(len(test_samples))[:LIMIT]
    test_samples = [test_samples[k] for k in sorted(pick)]
test_report = LoadReport()
loaded = list(iter_images(test_samples, test_report))
images = [image for _, image in loaded]
truths = np.array([sample.label for sample, _ in loaded])
keras_probs = np.concatenate(
    [
        keras_model.predict(preprocess_faces(images[k : k + 64]), verbose=0)
        for k in range(0, len(images), 64)
    ]
)
predicted = keras_probs.argmax(axis=1)
wrong = np.flatnonzero(predicted != truths)
print(
    f"{best}: {len(wrong)} of {len(truths)} test images misclassified "
    f"(accuracy {pct(np.mean(predicted == truths), 2)})"
)
mistakes = wrong[:12]
if len(mistakes):
    display(
        image_grid(
            [images[k] for k in mistakes],
            [
                f"true {config.LABELS[truths[k]]}\nP(true) {keras_probs[k, truths[k]]:.2f}"
                for k in mistakes
            ],
        )
    )

# %% [markdown]
# ### Finding the faces: the detectors on scene photos
#
# The classifier sees one centred face per image; in use, faces must first be found in photos of
# streets and crowds. `evaluation.scenes.evaluate_scenes` runs a detector over annotated scene
# photos and reports **recall** (annotated faces found, IoU ≥ 0.3) per class and **precision**
# (detections that are faces). Here the face detectors alone are scored (`scenes.boxes_only`:
# boxes without labels).

# %%
from mask_detector.detectors import make_detector
from mask_detector.errors import MaskDetectorError
from mask_detector.evaluation.scenes import boxes_only, evaluate_scenes

SCENE_LIMIT = 10 if SMOKE else None
have_scenes = (SCENES_DIR / "annotations").is_dir() and (SCENES_DIR / "images").is_dir()
face_detectors = {}
if not have_scenes:
    print(f"No scene photos at {SCENES_DIR}: the scene evaluation is skipped.")
else:
    for name in ("haar", "yunet"):
        try:  # in Colab, YuNet's ONNX file (230 kB) is fetched from OpenCV's model zoo
            face_detectors[name] = make_detector(name, download=IN_COLAB)
        except MaskDetectorError as exc:
            print(f"{name} unavailable: {exc}")

scene_rows = {}
for name, detector in face_detectors.items():
    result = evaluate_scenes(
        SCENES_DIR / "images",
        SCENES_DIR / "annotations",
        boxes_only(detector.detect),
        limit=SCENE_LIMIT,
    )
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
    display(pd.DataFrame(scene_rows).T)

# %% [markdown]
# Scene faces are small (median short side about 21 px) and often turned away, so recall is
# far below the classifier's test accuracy: on real photos the **detector** is the weak link.
# YuNet, a small CNN, finds many more faces than the Haar cascade.
#
# ## 6. Deployment
#
# The selected model is exported twice, into the notebook's runs folder (the project's own copy
# is `models/mask_detector.keras` / `.tflite`, made by `python -m mask_detector ship`):
# * `.keras` — the full Keras model, for further training;
# * `.tflite` — LiteRT flatbuffer (`training.export.export_tflite`, float32): the fast path,
#   run by `ai-edge-litert` without TensorFlow, all faces of a frame in one call.

# %%
import contextlib
import io

from mask_detector.evaluation.classify import evaluate_samples
from mask_detector.pipeline import load_classifier
from mask_detector.training.export import export_tflite

EXPORT_DIR = RUNS_DIR / "export"
EXPORT_DIR.mkdir(exist_ok=True)
keras_path = EXPORT_DIR / config.KERAS_MODEL_NAME
shutil.copyfile(RUNS_DIR / best / config.SCENARIO_MODEL_NAME, keras_path)
with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its whole signature
    tflite_path = export_tflite(keras_model, EXPORT_DIR / config.TFLITE_MODEL_NAME)
for path in (keras_path, tflite_path):
    print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB")

# The fast path must agree with Keras on the same test images.
classifier = load_classifier(tflite_path)
lite = evaluate_samples(classifier, test_samples)
lite_probs = np.array([f["probs"] for f in lite["files"]])
same_labels = np.mean(lite_probs.argmax(1) == predicted)
print(f"LiteRT on test: {summary_line(lite)}")
print(
    f"largest probability difference from Keras: {np.abs(lite_probs - keras_probs).max():.1e};"
    f" same labels: {pct(same_labels, 2)}"
)

# %% [markdown]
# ### The whole pipeline: face detector + classifier
#
# `pipeline.MaskDetector` finds the faces, pads and crops them, classifies all of a frame's faces
# in one LiteRT call and draws the result. On the scene photos, the share of *found* faces whose
# mask label is right:

# %%
from mask_detector.pipeline import MaskDetector

pipeline_rows = {}
for name, detector in face_detectors.items():
    pipeline = MaskDetector(detector, classifier)
    result = evaluate_scenes(
        SCENES_DIR / "images", SCENES_DIR / "annotations", pipeline.detect, limit=SCENE_LIMIT
    )
    pipeline_rows[f"{name} + MobileNetV2"] = {
        "recall": result["recall"],
        "label accuracy (found faces)": result["label_accuracy"],
        **{f"label accuracy {k}": v for k, v in result["label_accuracy_per_class"].items()},
        "ms per image": result["ms_per_image"],
    }
if pipeline_rows:
    display(pd.DataFrame(pipeline_rows).T)
else:
    print("no scene photos or no face detector: skipped")

# %%
# A photo through the Haar + MobileNetV2 pipeline: the scene photo with the most annotated faces
# of at least 40 px (chosen from the annotations, not from what the detector finds), else
# scikit-image's astronaut (one frontal face, no mask).
from mask_detector.benchmark import astronaut
from mask_detector.evaluation.scenes import load_annotations

pipeline = MaskDetector.load(model=tflite_path, detector_name="haar")
photo, source = astronaut(), "astronaut"
if have_scenes:
    xml = max(
        sorted((SCENES_DIR / "annotations").glob("*.xml")),
        key=lambda xml: sum(min(box[2:]) >= 40 for _, box in load_annotations(xml)),
    )
    image_path = next((SCENES_DIR / "images").glob(f"{xml.stem}.*"))
    photo, source = read_image(image_path), image_path.name

faces = pipeline.detect(photo)
for face in faces:
    print(face.to_dict())
title = f"{source}: {len(faces)} face(s) found by Haar, labelled by MobileNetV2"
image_grid([pipeline.annotate(photo, faces)], [title], columns=1, size=7)

# %%
test = runs[best]["test"]
print(
    f"training images: {len(samples)} ({len(exact)} groups of exact copies); split into "
    f"{split.groups} near-duplicate groups, none across parts: {not straddling}"
)
print(f"selected scenario (on validation): {best}")
print(f"  test: {summary_line(test)}, ROC AUC {test['roc_auc']:.4f}")
print(
    f"  LiteRT model: {tflite_path.stat().st_size / 1e6:.1f} MB, same labels as Keras: "
    f"{pct(same_labels, 2)}"
)
for name, row in scene_rows.items():
    print(f"  scene photos, {name}: recall {pct(row['recall'])}, precision {pct(row['precision'])}")
for name, row in pipeline_rows.items():
    print(
        f"  scene photos, {name}: label accuracy on found faces "
        f"{pct(row['label accuracy (found faces)'])}"
    )

# %% [markdown]
# ## Summary
#
# * **Data**: 4071 face images in two nearly balanced classes, with many exact and near
#   duplicates; a split by near-duplicate group keeps copies out of the test set.
# * **Model**: transfer learning on MobileNetV2 with cached frozen features; three scenarios
#   compared on validation, the best exported to `.keras` and LiteRT `.tflite` (same labels as
#   Keras, no TensorFlow needed at inference).
# * **Limits**: the classifier is very accurate on single, centred faces, but on scene photos
#   the face detector misses most small or turned faces (YuNet finds far more than Haar), and
#   on the small faces it does find, `without_mask` is labelled much less reliably than on the
#   test set (see the scene tables above). The third scene class, *mask worn incorrectly*, is
#   not modelled. Next steps: train on face crops cut from scene photos, and a third class.
#
# Reproduce from the command line: `python -m mask_detector split`, `train --scenario all`,
# `ship`, `evaluate`, `evaluate-scenes` (see the repository README).
