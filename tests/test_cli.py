"""The command line, run in-process (fast) and once as `python -m` (exit codes)."""

import json
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from helpers import MODEL, crowd_of_small_faces, needs_model, needs_shared
from mask_detector import config
from mask_detector import pipeline as pipeline_module
from mask_detector.cli import main
from mask_detector.evaluation.by_size import rate_with_interval, two_labels_text, with_totals


@pytest.fixture
def photos(tmp_path, astronaut_bgr, masked_astronaut_bgr):
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "plain.jpg"), astronaut_bgr)
    cv2.imwrite(str(folder / "masked.png"), masked_astronaut_bgr)
    (folder / "notes.jpg").write_text("<html>not an image</html>")
    return folder


@needs_model
def test_predict_reports_each_face_and_keeps_going(photos, capsys):
    code = main(["predict", str(photos)])
    out, err = capsys.readouterr()
    assert code == 1  # one input failed
    assert "notes.jpg: not an image format" in err and "Traceback" not in err
    assert "plain.jpg: box=" in out and "without_mask" in out
    assert "masked.png: box=" in out


@needs_model
def test_predict_json_and_annotated_output(photos, tmp_path, capsys):
    out_dir = tmp_path / "annotated"
    code = main(["predict", str(photos / "plain.jpg"), "--json", "--out", str(out_dir)])
    results = json.loads(capsys.readouterr().out)
    assert code == 0
    (face,) = results[0]["faces"]
    assert face["label"] == "without_mask" and 0.5 <= face["confidence"] <= 1.0
    x, y, w, h = face["box"]
    assert 150 < x + w / 2 < 300 and 60 < y + h / 2 < 200
    assert cv2.imread(str(out_dir / "plain_annotated.png")).shape == (512, 512, 3)


@needs_model
def test_predict_takes_the_small_face_path_and_leaves_tiny_faces_unjudged(
    tmp_path, astronaut_bgr, capsys
):
    photo, _ = crowd_of_small_faces(astronaut_bgr, sizes=(9, 10, 12, 13, 30, 40))
    path = tmp_path / "crowd.png"
    cv2.imwrite(str(path), photo)
    argv = ["predict", str(path), "--json", "--min-judged-face", "16"]
    assert main(argv) == 0  # YuNet, small-face path, from 10 px
    faces = json.loads(capsys.readouterr().out)[0]["faces"]
    assert len(faces) == 6
    for face in faces:
        small = max(face["box"][2:]) < 16
        assert (face["label"] == "too_small") == small
        assert (face["confidence"] is None) == small
    assert sum(f["label"] == "too_small" for f in faces) == 4
    assert main(["predict", str(path), "--min-face", "12"]) == 0  # the two 10 px boxes go
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main(["predict", str(path)]) == 0  # by default every face is judged
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and not any("too_small" in line for line in lines)
    assert main(["predict", str(path), "--no-small-faces", "--min-face", "8"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2  # the live path: 30 and 40 px only
    assert main(["predict", str(path), "--min-judged-face", "100"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(" too_small")  # no confidence


def test_missing_model_is_one_clear_line(tmp_path, capsys):
    code = main(["predict", str(tmp_path), "--model", str(tmp_path / "none.tflite")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: model file not found")


@needs_model
def test_evaluate_json(tmp_path, astronaut_bgr, masked_astronaut_bgr, capsys):
    for folder, image in (("Mask", masked_astronaut_bgr), ("NoMask", astronaut_bgr)):
        (tmp_path / folder).mkdir()
        face = image[40:200, 150:300]
        cv2.imwrite(str(tmp_path / folder / "a.jpg"), face)
        cv2.imwrite(str(tmp_path / folder / "b.png"), cv2.flip(face, 1))
    (tmp_path / "NoMask" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    code = main(["evaluate", str(tmp_path), "--json", "--out", str(tmp_path / "eval")])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0 and "skipped" in captured.err
    assert report["n"] == 4 and report["labels"] == list(config.LABELS)
    assert sum(map(sum, report["confusion_matrix"])) == 4
    assert set(report["per_class"]["with_mask"]) >= {"precision", "recall", "f1"}
    assert (tmp_path / "eval" / "confusion_matrix.png").is_file()


def test_evaluate_without_class_folders(tmp_path, capsys):
    (tmp_path / "holiday").mkdir()
    assert main(["evaluate", str(tmp_path)]) == 1
    assert "expected folders like with_mask/ and without_mask/" in capsys.readouterr().err


@needs_shared
@needs_model
def test_evaluate_scenes_json(tmp_path, capsys):
    scenes = config.scenes_dir()
    images, notes = tmp_path / "images", tmp_path / "annotations"
    images.mkdir()
    notes.mkdir()
    for xml in sorted((scenes / "annotations").glob("*.xml"))[:5]:
        (notes / xml.name).write_bytes(xml.read_bytes())
        img = scenes / "images" / (xml.stem + ".jpg")
        if img.is_file():
            (images / img.name).write_bytes(img.read_bytes())
    code = main(["evaluate-scenes", str(images), str(notes), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["faces"] > 0
    assert 0.0 <= report["recall"] <= 1.0
    assert set(report["recall_per_class"]) >= {"with_mask", "without_mask"}
    assert "label_accuracy" in report
    assert report["detector"] == "yunet" and report["setting"] == {
        "small_faces": True,
        "min_face": config.PHOTO.min_face,
        "min_judged_face": config.MIN_JUDGED_FACE,
    }
    assert sum(r["faces"] for r in report["recall_by_size"]) == report["faces"]
    assert sum(r["found"] for r in report["recall_by_size"]) == report["found"]
    assert "faces" not in report["crop_classification"]
    assert main(["evaluate-scenes", str(images), str(notes), "--json", "--faces"]) == 0
    crops = json.loads(capsys.readouterr().out)["crop_classification"]
    right = [int(np.argmax(f["probs"])) == f["true"] for f in crops["faces"]]
    assert len(right) == crops["n"] and sum(right) == round(crops["accuracy"] * crops["n"])
    assert {f["photo"] for f in crops["faces"]} <= {p.name for p in images.iterdir()}
    saved = tmp_path / "scenes.json"
    for extra in ([], ["--no-small-faces"], ["--detector", "haar"]):
        assert main(["evaluate-scenes", str(images), str(notes), "--save", str(saved), *extra]) == 0
    out = capsys.readouterr().out
    assert "faces found by size" in out and "found and labelled right" in out
    # The text gives the goals' rates with their 95% intervals, from the report's counts.
    confusion = np.array(report["label_confusion"])
    right, judged = int(np.trace(confusion)), int(confusion.sum())
    line = f"label accuracy on found faces: {rate_with_interval(right, judged)} ("
    assert line in out
    above = with_totals(crops["by_size"])[-1]  # the classifier on faces of 32 px and more
    assert re.search(rf"\n +>=32 +{above['n']} .*{re.escape(two_labels_text(above))}", out)
    assert "yunet (live path): " in out and "\nhaar: " in out
    assert list(json.loads(saved.read_text())) == ["yunet", "yunet (live path)", "haar"]


def test_usage_errors_exit_2():
    for argv in ([], ["predict"], ["predict", "x.jpg", "--detector", "nope"]):
        proc = subprocess.run(
            [sys.executable, "-m", "mask_detector", *argv],
            capture_output=True,
            text=True,
            cwd=config.REPO_ROOT,
        )
        assert proc.returncode == 2 and "usage:" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_unknown_scenario(tmp_path, capsys):
    assert main(["train", str(tmp_path), "--scenario", "nope"]) == 1
    assert "unknown scenario 'nope'" in capsys.readouterr().err


def test_review_labels_without_a_split_says_how_to_make_one(tmp_path, capsys):
    assert main(["review-labels", "--split", str(tmp_path / "none.json")]) == 1
    assert "python -m mask_detector split" in capsys.readouterr().err
    assert (
        main(
            [
                "review-labels",
                "--split",
                str(config.MODELS_DIR / "split.json"),
                "--scenario",
                "nope",
            ]
        )
        == 1
    )
    assert "unknown scenario 'nope'" in capsys.readouterr().err


@needs_model
def test_yunet_by_name_tries_the_download_and_explains_failure(tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    asked: list[str] = []

    def offline(url, timeout=None):
        asked.append(url)
        raise urllib.error.URLError("no network")

    # A copy of the package without models/ (the classifier named explicitly) and no cache.
    monkeypatch.setenv(config.ENV_MODEL, str(MODEL))
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path / "no-models")
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    # predict's workers share models per process: none loaded by earlier tests may answer here.
    monkeypatch.setattr(pipeline_module, "_loaded", {})
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    assert main(["predict", str(image), "--detector", "yunet"]) == 1
    err = capsys.readouterr().err
    assert asked == [config.YUNET_URL]
    assert "could not be downloaded" in err and "--yunet-model" in err
    assert main(["predict", str(image), "--detector", "haar"]) == 0  # Haar keeps working


@needs_model
def test_predict_blur_hides_faces_on_annotated_images(photos, tmp_path, capsys):
    plain, blurred = tmp_path / "plain", tmp_path / "blurred"
    assert main(["predict", str(photos / "plain.jpg"), "--out", str(plain)]) == 0
    assert main(["predict", str(photos / "plain.jpg"), "--out", str(blurred), "--blur"]) == 0
    out = capsys.readouterr().out
    assert out.count("box=") == 2  # the faces are still found and reported
    sharpness = [
        cv2.Laplacian(
            cv2.imread(str(d / "plain_annotated.png"), 0)[90:140, 200:250], cv2.CV_64F
        ).var()
        for d in (plain, blurred)
    ]  # inside the astronaut's face
    assert sharpness[1] < 0.05 * sharpness[0]


@pytest.fixture
def clip(tmp_path, astronaut_bgr):
    """Ten frames (10 fps) of the astronaut's head, unmasked (the one face there)."""
    from helpers import small_video

    path = tmp_path / "clip.mp4"
    head = np.ascontiguousarray(astronaut_bgr[:280, 100:380])
    path.write_bytes(small_video(head, frames=10, fps=10))
    return path


@needs_model
def test_video_json_frames_jsonl_and_annotated_output(clip, tmp_path, capsys):
    frames_file, out = tmp_path / "frames.jsonl", tmp_path / "out.mp4"
    argv = ["video", str(clip), "--json", "--frames-jsonl", str(frames_file), "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["frames"], summary["fps"]) == (10, 10.0)
    assert summary["people"] == 1 and summary["people_per_label"]["without_mask"] == 1
    assert set(summary["people_per_label"]) == set(config.RESULT_LABELS)
    (track,) = summary["tracks"]
    assert set(track) >= {"id", "label", "frames", "first_s", "last_s"}
    assert (track["id"], track["label"], track["frames"]) == (1, "without_mask", 10)
    assert (track["first_s"], track["last_s"]) == (0.0, 0.9)
    lines = [json.loads(line) for line in frames_file.read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(10))
    assert lines[3]["time_s"] == 0.3
    (face,) = lines[3]["faces"]
    assert set(face) == {"id", "box", "label", "confidence"} and face["id"] == 1
    import av

    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 10


@needs_model
def test_video_text_lists_the_people(clip, capsys):
    assert main(["video", str(clip)]) == 0
    out = capsys.readouterr().out
    assert "10 frames at 10 fps; 1 people (0 with mask, 1 without mask" in out
    assert "person 1: without_mask" in out and "0.00-0.90 s, 10 frames" in out


@needs_model
def test_video_max_seconds_keeps_the_start(clip, capsys):
    assert main(["video", str(clip), "--json", "--max-seconds", "0.45"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["frames"], summary["truncated"]) == (4, True)  # 0.45 s at 10 fps
    assert summary["tracks"][0]["last_s"] == 0.3
    assert main(["video", str(clip), "--max-seconds", "5"]) == 0  # longer than the clip
    out = capsys.readouterr().out
    assert "10 frames at 10 fps; 1 people" in out
    assert main(["video", str(clip), "--max-seconds", "0.2"]) == 0
    assert "2 frames at 10 fps (only the start: --max-seconds); 1 people" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_video_max_seconds_must_be_positive(value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["video", "clip.mp4", "--max-seconds", value])
    assert stop.value.code == 2 and "--max-seconds" in capsys.readouterr().err


@needs_model
@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a video file that can be read"),
        (b"this is not a video\n" * 20, "not a video file that can be read"),
    ],
)
def test_video_bad_file_is_one_error_line(tmp_path, content, message):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(content)
    proc = subprocess.run(
        [sys.executable, "-m", "mask_detector", "video", str(bad)],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and len(errors) == 1
    assert errors[0].startswith(f"error: {bad}: {message}")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@needs_model
def test_video_missing_file_and_folder_output(clip, tmp_path, capsys):
    assert main(["video", str(tmp_path / "none.mp4")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none.mp4'}: not a video file")
    assert main(["video", str(clip), "--out", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err


@needs_shared
@needs_model
def test_evaluate_scenes_on_one_part_of_the_split(capsys):
    split = str(config.MODELS_DIR / config.SPLIT_NAME)
    dev = config.scenes_dir()  # held out: none of its photos is in any part
    assert (
        main(["evaluate-scenes", str(dev / "images"), str(dev / "annotations"), "--split", split])
        == 1
    )
    assert "none is in the test part" in capsys.readouterr().err
