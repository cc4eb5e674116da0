"""The video page's people: table rows, CSV and JSON downloads of a video's summary.

The summary is `VideoResult.summary()`, the same object `python -m mask_detector video --json`
prints, so the page's JSON download and the command line agree. No Streamlit here.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..config import count_phrase, counted_labels, display_name

#: CSV columns, one line per person (the keys of a summary's `tracks`).
CSV_COLUMNS = ("id", "label", "confidence", "first_s", "last_s", "frames")


def people_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One table row per person, as people read it."""
    return [
        {
            "person": f"#{t['id']}",
            "label": display_name(t["label"]),
            "confidence": "" if t["confidence"] is None else f"{t['confidence']:.0%}",
            "first seen (s)": t["first_s"],
            "last seen (s)": t["last_s"],
            "frames": t["frames"],
        }
        for t in summary["tracks"]
    ]


def people_line(summary: dict[str, Any]) -> str:
    """ "3 people: 1 with mask, 2 without mask, 0 mask worn wrong"."""
    n = summary["people"]
    counts = summary["people_per_label"]
    per_label = ", ".join(f"{counts.get(k, 0)} {count_phrase(k)}" for k in counted_labels(counts))
    return f"{n} {'person' if n == 1 else 'people'}: {per_label}"


def people_csv(summary: dict[str, Any]) -> bytes:
    """One line per person: id, label, confidence, first and last second, frames."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(summary["tracks"])
    return out.getvalue().encode()


def summary_json(summary: dict[str, Any]) -> bytes:
    return (json.dumps(summary, indent=1) + "\n").encode()
