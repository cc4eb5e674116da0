"""Where a batch's records go, one at a time as they come: text or JSON on stdout, or a file
of JSON lines or Parquet (`--output`), so a run of a million files holds none of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from ..caveats import CAVEATS
from ..config import RESULT_LABELS, count_phrase
from ..errors import MaskDetectorError
from .work import Record

#: Suffixes `--output` accepts.
OUTPUT_SUFFIXES = (".jsonl", ".parquet")
#: Rows per Parquet row group: large enough to compress well, small enough to hold.
PARQUET_ROWS = 1000


class Sink(Protocol):
    def write(self, record: Record) -> None: ...

    def close(self) -> None:
        """The run is complete: finish the output."""

    def abort(self) -> None:
        """The run stopped on an error: keep what was written valid, add nothing."""


class TextSink:
    """Human-readable lines on a stream, made by `lines(record)`."""

    def __init__(self, stream: TextIO, lines: Callable[[Record], list[str]]) -> None:
        self.stream = stream
        self.lines = lines

    def write(self, record: Record) -> None:
        for line in self.lines(record):
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class JsonSink:
    """The records as one JSON array on a stream, written as they come and byte for byte what
    `json.dumps(records, indent=1)` prints; `single=True` prints the one record alone."""

    def __init__(self, stream: TextIO, single: bool = False) -> None:
        self.stream = stream
        self.single = single
        self.count = 0

    def write(self, record: Record) -> None:
        text = json.dumps(record, indent=1)
        if not self.single:
            lead = "[\n" if self.count == 0 else ",\n"
            text = lead + "\n".join(" " + line for line in text.split("\n"))
        self.stream.write(text)
        self.stream.flush()
        self.count += 1

    def close(self) -> None:
        if self.single:
            self.stream.write("\n" if self.count else "")
        else:
            self.stream.write("\n]\n" if self.count else "[]\n")
        self.stream.flush()

    def abort(self) -> None:
        if self.count:
            self.close()


class JsonLinesSink:
    """One compact JSON record per line."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("w")

    def write(self, record: Record) -> None:
        self.file.write(json.dumps(record) + "\n")

    def close(self) -> None:
        self.file.close()

    abort = close


class ParquetSink:
    """Parquet with a fixed schema (`schema` names the record kind), written a row group at a
    time."""

    def __init__(self, path: Path, schema: str) -> None:
        import pyarrow.parquet as pq

        self.schema = SCHEMAS[schema]()
        self.writer = pq.ParquetWriter(path, self.schema)
        self.rows: list[Record] = []

    def write(self, record: Record) -> None:
        self.rows.append(record)
        if len(self.rows) >= PARQUET_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self._flush()
        self.writer.close()

    abort = close


def _confidence(value: float | None) -> str:
    """A confidence as the text output shows it, after a space; nothing for a face too small
    to judge (it has none)."""
    return "" if value is None else f" {value:.3f}"


def photo_lines(record: Record) -> list[str]:
    """`predict`'s text: one line per face, `file: box=x,y,w,h label confidence`."""
    if not record["faces"]:
        return [f"{record['file']}: no face found"]
    return [
        f"{record['file']}: box={','.join(map(str, f['box']))} {f['label']}"
        + _confidence(f["confidence"])
        for f in record["faces"]
    ]


def video_lines(record: Record) -> list[str]:
    """`video`'s text: frames and people per label, a line per caveat (a grey or dark video),
    then one line per person."""
    per_label = ", ".join(f"{n} {count_phrase(k)}" for k, n in record["people_per_label"].items())
    cut = " (only the start: --max-seconds)" if record.get("truncated") else ""
    return [
        f"{record['file']}: {record['frames']} frames at {record['fps']:g} fps{cut}; "
        f"{record['people']} people ({per_label})",
        *(f"  caveat: {CAVEATS[k]}" for k in record.get("caveats", [])),
        *(
            f"  person {t['id']}: {t['label']}{_confidence(t['confidence'])}, "
            f"{t['first_s']:.2f}-{t['last_s']:.2f} s, {t['frames']} frames"
            for t in record["tracks"]
        ),
    ]


def photo_schema() -> Any:
    """`predict`'s records: file, faces (box, label, confidence)."""
    import pyarrow as pa

    face = pa.struct(
        [("box", pa.list_(pa.int64())), ("label", pa.string()), ("confidence", pa.float64())]
    )
    return pa.schema([("file", pa.string()), ("faces", pa.list_(face))])


def video_schema() -> Any:
    """`video`'s records: VideoResult.summary() with `file`."""
    import pyarrow as pa

    track = pa.struct(
        [
            ("id", pa.int64()),
            ("label", pa.string()),
            ("confidence", pa.float64()),
            ("frames", pa.int64()),
            ("first_s", pa.float64()),
            ("last_s", pa.float64()),
        ]
    )
    return pa.schema(
        [
            ("file", pa.string()),
            ("frames", pa.int64()),
            ("fps", pa.float64()),
            ("width", pa.int64()),
            ("height", pa.int64()),
            ("truncated", pa.bool_()),
            ("damaged", pa.bool_()),
            ("caveats", pa.list_(pa.string())),
            ("people", pa.int64()),
            ("people_per_label", pa.struct([(label, pa.int64()) for label in RESULT_LABELS])),
            ("tracks", pa.list_(track)),
        ]
    )


#: Parquet schemas by what a worker handles (Worker.what).
SCHEMAS: dict[str, Callable[[], Any]] = {"photos": photo_schema, "videos": video_schema}


def open_output(path: str | Path, schema: str) -> Sink:
    """A JSON-lines or Parquet sink for `--output`, by the file's suffix."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise MaskDetectorError(
            f"--output {path}: give a .jsonl or .parquet file (JSON lines or Parquet)"
        )
    if target.is_dir():
        raise MaskDetectorError(f"--output {path} is a folder; give a file name")
    if suffix == ".jsonl":
        return JsonLinesSink(target)
    return ParquetSink(target, schema)
