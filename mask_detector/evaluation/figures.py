"""Every chart the project draws, and the one way it writes a rate as a percentage.

The command line (`evaluate --out`), the app's pages, the model card and the notebook take their
charts and percentages from here, so a figure looks the same wherever it appears. Charts are bare
matplotlib Figures, never pyplot: pyplot's global list of figures would leak memory on a
multi-user server, and drawing must not change a notebook's plotting backend. matplotlib is
imported by the first chart, so code that only formats numbers stays light. Nothing assumes two
classes: labels come from the report drawn, or the first of config.LABELS.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import LABELS, display_name
from ..draw import colour
from .intervals import wilson

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: A training history: phase ("head", "finetune") -> metric ("loss", "val_accuracy"...) -> epochs.
History = Mapping[str, Mapping[str, Sequence[float]]]


def pct(value: float | None, digits: int = 1) -> str:
    """0.9734 -> "97.3%" (digits=2: "97.34%"); None -> "n/a". The one format of a rate."""
    return "n/a" if value is None else f"{value:.{digits}%}"


def label_colour(label: str) -> tuple[float, float, float]:
    """The colour of a label's boxes on images (draw.colour), as matplotlib's RGB in 0..1."""
    b, g, r = colour(label)
    return (r / 255, g / 255, b / 255)


def _figure(width: float, height: float) -> Figure:
    """A Figure outside pyplot, laid out by matplotlib's constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (what the app shows and the CLI writes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def confusion_rates(matrix: Sequence[Sequence[int]]) -> list[list[float]]:
    """A confusion matrix normalised by true class (each row sums to 1; an empty row is 0s):
    the right half of `confusion_figure`, and what the command line prints beside the counts."""
    cm = np.asarray(matrix, float)
    return (cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)).tolist()


def confusion_figure(report: Mapping[str, Any], title: str = "") -> Figure:
    """Counts and rates normalised by true class, side by side (rows true, columns predicted),
    for a metrics report of any number of classes."""
    cm = np.asarray(report["confusion_matrix"], float)
    rates = np.asarray(confusion_rates(report["confusion_matrix"]))
    names = [display_name(c) for c in report.get("labels", LABELS[: len(cm)])]
    scale = max(1.0, len(names) / 2)
    fig = _figure(7.5 * scale, 3.2 * scale)
    for ax, values, text, sub in zip(
        fig.subplots(1, 2),
        (cm, rates),
        ("{:.0f}".format, pct),
        ("counts", "normalised by true class"),
        strict=True,
    ):
        ax.imshow(values / max(values.max(), 1e-9), cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(values):
            light = v > 0.6 * values.max()
            ax.text(j, i, text(v), ha="center", va="center", color="white" if light else "black")
        tilt = {"rotation": 30, "ha": "right", "rotation_mode": "anchor"} if len(names) > 2 else {}
        ax.set_xticks(range(len(names)), names, **tilt)
        ax.set_yticks(range(len(names)), names)
        ax.set(xlabel="predicted", ylabel="true", title=sub)
    if title:
        fig.suptitle(title)
    return fig


def curves_figure(history: History, title: str = "") -> Figure:
    """Loss and accuracy per epoch, train and validation, each phase after the one before."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(8, 3.2)
    axes = fig.subplots(1, 2)
    start = 0
    for phase, h in history.items():
        epochs = np.arange(start + 1, start + len(h.get("loss", [])) + 1)
        for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
            for prefix, style in (("", "-"), ("val_", "--")):
                values = h.get(prefix + key)
                if values:
                    label = f"{phase} {'validation' if prefix else 'train'}"
                    ax.plot(epochs, values, style, marker="o", markersize=3, label=label)
        if h.get("averaged_val_loss"):  # weight averaging: one model for the whole phase
            axes[0].plot(epochs[-1:], h["averaged_val_loss"], "k*", label=f"{phase} averaged")
        if start:
            for ax in axes:
                ax.axvline(start + 0.5, color="grey", linewidth=0.8)
        start += len(epochs)
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(key)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def roc_figure(
    scenarios: Mapping[str, Mapping[str, Any]],
    title: str = "ROC, test set",
    zoom: tuple[float, float] | None = None,
) -> Figure:
    """Test-set ROC curve of every scenario (positive class: config.LABELS[0], against the
    others).

    `zoom=(fpr, tpr)` adds a second panel of false positive rates up to `fpr` and true positive
    rates from `tpr`, where near-perfect curves differ. Reports without a curve (every test
    face of the positive class, or none) are left out.
    """
    fig = _figure(8.5 if zoom else 4.5, 4.2)
    axes: list[Axes] = list(fig.subplots(1, 2 if zoom else 1, squeeze=False)[0])
    for name, m in scenarios.items():
        roc = m["test"].get("roc_curve")
        if roc:
            for ax in axes:
                ax.plot(roc["fpr"], roc["tpr"], label=f"{name} (AUC {m['test']['roc_auc']:.4f})")
    axes[0].plot([0, 1], [0, 1], ":", color="grey")
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    axes[0].legend(fontsize="small", loc="lower right")
    if zoom:
        axes[1].set(xlim=(0, zoom[0]), ylim=(zoom[1], 1.0), xlabel="false positive rate")
        axes[1].set_title("zoom")
    return fig


def by_size_figure(
    series: Mapping[str, Sequence[Mapping[str, Any]]],
    title: str = "",
    recall_of: str = "without_mask",
) -> Figure:
    """Accuracy (solid) and one class's recall (dashed) against face size, one colour per data
    set: `series` maps a data set's name to its `by_size` rows (evaluation.by_size). Bars give
    each rate's 95% interval (evaluation.intervals), so a bucket of few faces shows as unsure.
    A bucket with no face (or none of the class) is a gap; the faces per bucket are in the
    legend."""
    fig = _figure(6.5, 3.4)
    ax = fig.subplots()
    buckets: list[str] = []
    for k, (name, rows) in enumerate(series.items()):
        buckets = buckets or [r["bucket"] for r in rows]
        x = np.arange(len(rows))
        counts = "/".join(str(r["n"]) for r in rows)
        colour = f"C{k}"
        accuracy = [(r["correct"], r["n"]) for r in rows]
        recall = [(r["right"][recall_of], r["support"][recall_of]) for r in rows]
        for m, (pairs, style, label) in enumerate(
            (
                (accuracy, "-o", f"{name}: accuracy (faces {counts})"),
                (recall, "--s", f"{name}: {display_name(recall_of)} recall"),
            )
        ):
            rates, errors = _rates_with_errors(pairs)
            shift = 0.06 * (2 * k + m - (2 * len(series) - 1) / 2)  # bars side by side
            ax.errorbar(
                x + shift, rates, yerr=errors, fmt=style, color=colour, capsize=2, label=label
            )
    ax.set_xticks(range(len(buckets)), buckets)
    ax.set(
        xlabel="face size (longer side, px)",
        ylabel="share of faces (bars: 95% interval)",
        ylim=(0, 1.02),
    )
    ax.yaxis.set_major_formatter(lambda v, _: pct(v, 0))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="x-small", loc="lower right")
    ax.set_title(title or "by face size")
    return fig


def _rates_with_errors(pairs: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rates of (successes, n) pairs and their distances to the 95% interval's bounds, as
    matplotlib's errorbar takes them (2 x N); NaN where n is 0."""
    rates = np.full(len(pairs), np.nan)
    errors = np.zeros((2, len(pairs)))
    for i, (k, n) in enumerate(pairs):
        bounds = wilson(k, n)
        if bounds is not None:
            rates[i] = k / n
            errors[:, i] = rates[i] - bounds[0], bounds[1] - rates[i]
    return rates, errors


def reliability_figure(calibration: Mapping[str, Any], title: str = "") -> Figure:
    """Reliability diagrams before and after temperature scaling, one panel per data set of a
    `calibration` report (evaluation.calibration: `before` / `after`, each with `ece` and
    `bins`): accuracy against confidence per bin, the diagonal being perfect calibration; the
    panel title gives the ECE before and after."""
    parts = {k: v for k, v in calibration.items() if isinstance(v, Mapping) and "before" in v}
    fig = _figure(3.6 * max(1, len(parts)), 3.8)
    axes: list[Axes] = list(fig.subplots(1, max(1, len(parts)), squeeze=False)[0])
    for ax, (name, part) in zip(axes, parts.items(), strict=False):
        ax.plot([0, 1], [0, 1], ":", color="grey")
        for when, style in (("before", "-o"), ("after", "-s")):
            bins = [b for b in part[when]["bins"] if b["n"]]
            ax.plot(
                [b["confidence"] for b in bins],
                [b["accuracy"] for b in bins],
                style,
                markersize=4,
                label=f"{when} (ECE {pct(part[when]['ece'])})",
            )
        n = part["before"].get("n")
        ax.set(
            xlabel="confidence (top probability)",
            ylabel="accuracy",
            xlim=(0, 1.02),
            ylim=(0, 1.02),
            title=f"{name.replace('_', ' ')}" + (f" ({n} faces)" if n else ""),
        )
        ax.legend(fontsize="small", loc="upper left")
    temperature = calibration.get("temperature")
    if title or temperature:
        fig.suptitle(title or f"temperature scaling, T = {temperature:.3f}")
    return fig


def class_balance_figure(counts: Mapping[str, int], title: str = "") -> Figure:
    """Images per class as horizontal bars in the classes' colours."""
    fig = _figure(4.5, 0.6 + 0.5 * len(counts))
    ax = fig.subplots()
    names = list(counts)
    ax.barh(names, [counts[n] for n in names], color=[label_colour(n) for n in names])
    ax.set(xlabel="images", title=title or f"{sum(counts.values())} images")
    return fig


def size_histogram(
    sizes: Mapping[str, Sequence[float]], title: str = "image sizes", counted: str = "images"
) -> Figure:
    """Distribution of sizes (the longer side, in pixels) per class, log-spaced, of images or
    of face boxes (`counted` names them)."""
    fig = _figure(6, 2.6)
    ax = fig.subplots()
    values = [v for vs in sizes.values() for v in vs if v > 0]
    bins = np.geomspace(max(1, min(values, default=1)), max(values, default=2) + 1, 40).tolist()
    for label, vs in sizes.items():
        ax.hist(vs, bins=bins, alpha=0.6, color=label_colour(label), label=display_name(label))
    ax.set(xlabel="long side (pixels)", ylabel=counted, title=title, xscale="log")
    ax.legend()
    return fig


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    columns: int = 6,
    size: float = 1.5,
    title: str = "",
) -> Figure:
    """BGR uint8 images (as the library reads them) in rows of `columns`, each `size` inches
    wide, with an optional title under each; empty cells stay blank."""
    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    first = images[0] if len(images) else np.zeros((1, 1, 3), np.uint8)
    aspect = first.shape[0] / max(1, first.shape[1])
    fig = _figure(columns * size, rows * (size * aspect + (0.45 if titles else 0.1)))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for k, (ax, image) in enumerate(zip(axes.flat, images, strict=False)):
        ax.imshow(image[:, :, ::-1])
        if titles is not None and k < len(titles):
            ax.set_title(titles[k], fontsize=7 if size < 3 else 9)
    if title:
        fig.suptitle(title)
    return fig


def detector_recall_figure(scenes: Mapping[str, Mapping[str, Any]], title: str = "") -> Figure:
    """Detector recall against face size (the buckets of evaluation.by_size), one line per
    detector setting of a scene report (models/scenes.json); reports without the figure are left
    out. The bars behind give the number of annotated faces of each size."""
    fig = _figure(6.5, 3.4)
    ax = fig.subplots()
    rows = {name: r["recall_by_size"] for name, r in scenes.items() if r.get("recall_by_size")}
    if rows:
        first = next(iter(rows.values()))
        x = np.arange(len(first))
        counts = ax.twinx()
        counts.bar(x, [b["faces"] for b in first], color="0.9", width=0.6, zorder=0)
        counts.set_ylabel("annotated faces", color="0.5")
        ax.set_zorder(counts.get_zorder() + 1)
        ax.patch.set_visible(False)
        for name, buckets in rows.items():
            recall = [np.nan if b["recall"] is None else b["recall"] for b in buckets]
            ax.plot(x, recall, marker="o", label=name)
        ax.set_xticks(x, [b["bucket"] for b in first])
        ax.legend(fontsize="small", loc="lower right")
    ax.set(
        xlabel="face size (longer side of the box, px)",
        ylabel="recall (faces found)",
        ylim=(0, 1.02),
        title=title or "Faces found by size",
    )
    return fig
