"""Batch runs: `predict` and `video` on many files, locally and on a local Ray cluster.

The Ray tests share one small cluster (2 CPUs) started once for this module and shut down
after it, with a check that none of its processes is left; its workers are the real
PhotoWorker / VideoWorker actors, and every Ray result is compared with the local engine's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import SHARED, needs_model, small_video
from mask_detector import config
from mask_detector.batch.output import JsonSink, photo_schema, video_schema
from mask_detector.batch.ray_engine import MISSING_RAY
from mask_detector.cli import main

#: A few real crowd photos (many small faces each) beside the drawn ones, when ../shared is here.
SCENES = SHARED / "datasets" / "scenes-dev" / "images"


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut_bgr, masked_astronaut_bgr) -> list[str]:
    """Inputs: a folder of photos with faces (and crowd photos when ../shared is there) and a
    file that is not an image, then an empty folder: two failures."""
    folder = tmp_path_factory.mktemp("batch") / "photos"
    folder.mkdir()
    (folder.parent / "empty").mkdir()
    cv2.imwrite(str(folder / "plain.jpg"), astronaut_bgr)
    cv2.imwrite(str(folder / "masked.png"), masked_astronaut_bgr)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    if SCENES.is_dir():
        for scene in sorted(SCENES.iterdir())[:8]:
            (folder / scene.name).write_bytes(scene.read_bytes())
    return [str(folder), str(folder.parent / "empty")]


def run(capsys, *argv: str) -> tuple[int, str, list[str], str]:
    """Exit code, stdout, the `error:` lines and all of stderr of one in-process command."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.startswith("error:")], err


def test_json_sink_writes_what_json_dumps_writes(capsys):
    records = [{"file": "a.jpg", "faces": []}, {"file": "b", "faces": [{"box": [1, 2, 3, 4]}]}]
    for n in range(len(records) + 1):
        sink = JsonSink(sys.stdout)
        for record in records[:n]:
            sink.write(record)
        sink.close()
        assert capsys.readouterr().out == json.dumps(records[:n], indent=1) + "\n"
    single = JsonSink(sys.stdout, single=True)
    single.write(records[1])
    single.close()
    assert capsys.readouterr().out == json.dumps(records[1], indent=1) + "\n"


def test_haar_boxes_do_not_depend_on_the_order_opencv_gives_them():
    """OpenCV's threads decide the order of its raw boxes; the results must not show it, or a
    worker with one thread and the local engine with two would disagree."""
    import itertools

    from mask_detector.detectors import HaarDetector

    raw = [(10, 10, 40, 40), (60, 10, 40, 40), (12, 12, 40, 40), (10, 60, 40, 40), (5, 5, 30, 30)]

    class Cascade:
        def __init__(self, order):
            self.order = order

        def detectMultiScale(self, grey, **kw):
            return np.array(self.order)

    detector = HaarDetector(max_side=10_000)
    image = np.zeros((120, 120, 3), np.uint8)
    seen = set()
    for order in itertools.permutations(raw):
        detector._cascade = Cascade(order)
        seen.add(tuple(detector.detect(image)))
    assert len(seen) == 1 and len(next(iter(seen))) == 3  # two overlaps suppressed


def test_usage_errors_of_the_batch_options(tmp_path):
    for argv in (
        ["predict", "x.jpg", "--workers", "2"],
        ["predict", "x.jpg", "--address", "127.0.0.1:6379"],
        ["predict", "x.jpg", "--engine", "ray", "--workers", "0"],
        ["predict", "x.jpg", "--json", "--output", "r.jsonl"],
        ["predict", "x.jpg", "--engine", "spark"],
        ["video", "a.mp4", "b.mp4", "--frames-jsonl", "f.jsonl"],
        ["video", "a.mp4", "--engine", "ray", "--frames-jsonl", "f.jsonl"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv


def test_the_local_engine_never_imports_ray(photos):
    code = (
        "import sys\n"
        "from mask_detector.cli import main\n"
        f"assert main(['predict', {str(Path(photos[0]) / 'plain.jpg')!r}, '--json']) == 0\n"
        "assert not any(m == 'ray' or m.startswith('ray.') for m in sys.modules), 'ray imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=config.REPO_ROOT
    )
    assert proc.returncode == 0, proc.stderr


@needs_model
def test_without_ray_the_ray_engine_is_one_clear_line(photos, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    code, out, errors, err = run(capsys, "predict", *photos, "--engine", "ray")
    assert code == 1 and out == "" and "Traceback" not in err
    assert errors == [f"error: {MISSING_RAY}"]
    assert "requirements-ray.txt" in MISSING_RAY


@needs_model
def test_output_files_hold_the_printed_records(photos, tmp_path, capsys):
    import pyarrow.parquet as pq

    code, out, errors, _ = run(capsys, "predict", *photos, "--json")
    printed = json.loads(out)
    assert code == 1 and len(errors) == 2  # broken.jpg and the empty folder
    assert [r["file"] for r in printed] == sorted(r["file"] for r in printed)
    assert list(printed[0]) == ["file", "faces"] and photo_schema().names == ["file", "faces"]
    jsonl, parquet = tmp_path / "r.jsonl", tmp_path / "r.parquet"
    assert run(capsys, "predict", *photos, "--output", str(jsonl))[0] == 1
    assert [json.loads(line) for line in jsonl.read_text().splitlines()] == printed
    assert run(capsys, "predict", *photos, "--output", str(parquet))[0] == 1
    assert pq.read_table(parquet).to_pylist() == printed
    code, _, errors, _ = run(capsys, "predict", *photos, "--output", str(tmp_path / "r.csv"))
    assert code == 1 and errors == [
        f"error: --output {tmp_path / 'r.csv'}: give a .jsonl or "
        ".parquet file (JSON lines or Parquet)"
    ]


@pytest.fixture(scope="module")
def clips(tmp_path_factory, astronaut_bgr) -> Path:
    """Two short clips of the astronaut (one mirrored) and a file that is not a video."""
    folder = tmp_path_factory.mktemp("batch") / "videos"
    folder.mkdir()
    head = np.ascontiguousarray(astronaut_bgr[:280, 100:380])
    (folder / "a.mp4").write_bytes(small_video(head, frames=10, fps=10))
    (folder / "b.mp4").write_bytes(small_video(cv2.flip(head, 1), frames=8, fps=10))
    (folder / "c.mp4").write_bytes(b"not a video\n" * 10)
    return folder


@needs_model
def test_video_on_several_files_and_the_parquet_schema(clips, tmp_path, capsys):
    import pyarrow.parquet as pq

    code, out, errors, _ = run(capsys, "video", str(clips), "--json")
    summaries = json.loads(out)
    assert code == 1 and len(errors) == 1 and errors[0].startswith(f"error: {clips / 'c.mp4'}")
    assert [Path(s["file"]).name for s in summaries] == ["a.mp4", "b.mp4"]
    assert [s["frames"] for s in summaries] == [10, 8]
    assert video_schema().names == list(summaries[0])
    parquet = tmp_path / "v.parquet"
    assert run(capsys, "video", str(clips), "--output", str(parquet))[0] == 1
    assert pq.read_table(parquet).to_pylist() == summaries
    out_dir = tmp_path / "annotated"
    assert (
        run(capsys, "video", str(clips / "a.mp4"), str(clips / "b.mp4"), "--out", str(out_dir))[0]
        == 0
    )
    assert sorted(p.name for p in out_dir.iterdir()) == ["a_annotated.mp4", "b_annotated.mp4"]


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster of 2 CPUs for this module; its address. Ray's logs stay in its
    session folder; after the module, none of its processes may be left running."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (requirements-ray.txt)")
    import logging

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    try:
        yield address
    finally:
        started = _descendants(os.getpid())
        ray.shutdown()
        deadline = time.monotonic() + 20
        while any(map(_alive, started)) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in started if _alive(pid)]
        assert not left, f"Ray processes left after shutdown: {left}"


@needs_model
def test_ray_gives_the_local_results(ray_cluster, photos, tmp_path, capsys):
    import pyarrow.parquet as pq

    local = run(capsys, "predict", *photos, "--json")
    on_ray = run(capsys, "predict", *photos, "--json", "--engine", "ray", "--workers", "2")
    assert on_ray[:3] == local[:3]  # exit code 1, the same JSON text, the same error lines
    assert local[0] == 1 and len(local[2]) == 2
    assert "Traceback" not in on_ray[3]
    assert any(record["faces"] for record in json.loads(local[1]))
    parquet = tmp_path / "ray.parquet"
    assert run(capsys, "predict", *photos, "--engine", "ray", "--output", str(parquet))[0] == 1
    assert pq.read_table(parquet).to_pylist() == json.loads(local[1])


@needs_model
def test_ray_videos_one_task_each(ray_cluster, clips, capsys):
    local = run(capsys, "video", str(clips), "--json")
    on_ray = run(capsys, "video", str(clips), "--json", "--engine", "ray")
    assert on_ray[:3] == local[:3] and local[0] == 1 and len(local[2]) == 1
    text = run(capsys, "video", str(clips / "a.mp4"), "--engine", "ray")
    assert text[0] == 0 and "10 frames at 10 fps; 1 people" in text[1]


@needs_model
def test_ray_settings_errors_are_one_line_before_any_work(ray_cluster, photos, tmp_path, capsys):
    code, out, errors, err = run(
        capsys, "predict", *photos, "--engine", "ray", "--model", str(tmp_path / "no.tflite")
    )
    assert code == 1 and out == "" and "Traceback" not in err
    assert len(errors) == 1 and errors[0].startswith("error: model file not found")


@needs_model
def test_the_command_line_sends_the_job_to_a_cluster_address(ray_cluster, photos, capsys):
    local = run(capsys, "predict", *photos, "--json")
    argv = ["predict", *photos, "--json", "--engine", "ray", "--address", ray_cluster]
    # The command line as `python -m mask_detector` runs it, with the progress line due at once
    # (by default it waits two seconds, which four photos may not take).
    command = "import sys; from mask_detector import cli; cli.PROGRESS_AFTER_S = 0.0; "
    command += "sys.exit(cli.main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", command, *argv, "--workers", "2"],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
        timeout=300,
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert (proc.returncode, proc.stdout, errors) == local[:3], proc.stderr
    done = len(json.loads(local[1])) + 2  # and the two that failed
    assert f"photos: {done}/{done} (" in proc.stderr  # the progress line
