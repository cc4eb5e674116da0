"""Training: scenarios, views, class weights, calibration, and a tiny real training run."""

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from helpers import needs_shared, needs_yunet
from mask_detector import config
from mask_detector.classifier import MaskClassifier
from mask_detector.data.dataset import LoadReport
from mask_detector.data.split import Split
from mask_detector.degrade import relight, shrink
from mask_detector.errors import MaskDetectorError
from mask_detector.evaluation.calibration import (
    calibration_report,
    fit_temperature,
    reliability,
    scale_probs,
)
from mask_detector.preprocess import crop_faces, preprocess_faces
from mask_detector.training.features import FeatureSet, ViewSampler
from mask_detector.training.runs import read_metrics, runs_in
from mask_detector.training.scenario import Scenario, load_scenario, scenario_names, tried_names
from mask_detector.training.ship import best_run
from mask_detector.training.spread import seeds_of
from mask_detector.training.train import class_weights, training_loss
from mask_detector.training.views import (
    FaceItem,
    ViewRecipe,
    augment_face,
    face_views,
    jitter_box,
)

#: What a scenario can change, each a group of fields that make one change together.
ASPECTS = {
    "scene faces": ("scene_faces", "jitter_shift", "jitter_scale"),
    "yunet faces": ("yunet_faces",),
    "close-up crops": ("closeup_crops",),
    "resolution augmentation": ("resolution_aug",),
    "input size": ("image_size",),
    "fine-tuning": ("finetune_from", "finetune_epochs", "finetune_lr"),
    "class weights": ("class_weight",),
    "views": ("views", "augment"),
    "weight averaging": ("average_from",),
    "label smoothing": ("label_smoothing",),
    "night views": ("night_views",),
    "JPEG quality": ("jpeg_min_quality",),
    "close-up weight": ("closeup_repeats",),
    "label review": ("drop_doubted",),
    "seed soup": ("soup_of", "soup_seeds"),
}


def _aspects_changed(a: Scenario, b: Scenario) -> set[str]:
    da, db = a.to_dict(), b.to_dict()
    changed = {k for k in da if da[k] != db[k]} - {"name", "description", "seed"}
    unknown = changed - {f for fields in ASPECTS.values() for f in fields}
    assert not unknown, f"{a.name} vs {b.name}: {unknown} is no known aspect"
    return {name for name, fields in ASPECTS.items() if changed & set(fields)}


def test_each_scenario_differs_from_another_in_one_thing():
    scenarios = [load_scenario(n) for n in scenario_names()]
    assert "closeups" in scenario_names() and len(scenarios) >= 3
    for s in scenarios:
        if s.name == "closeups":
            continue
        steps = [_aspects_changed(s, other) for other in scenarios if other is not s]
        assert any(len(step) == 1 for step in steps), f"{s.name} differs in more than one thing"
    base = load_scenario("closeups")
    assert not base.scene_faces and base.finetune_from == "block_13_expand"


def test_tried_scenarios_stay_out_of_all_and_match_their_runs():
    """The recipes tried and not adopted load by `tried/NAME`, are never trained by `all` nor
    shipped, each one change from a scenario or another tried recipe, and the metrics committed
    for them come from that very recipe."""
    assert tried_names()
    parents = [load_scenario(n) for n in [*scenario_names(), *tried_names()]]
    for name in tried_names():
        scenario = load_scenario(name)
        assert name.endswith(f"/{scenario.name}") and scenario.name not in scenario_names()
        steps = [_aspects_changed(scenario, p) for p in parents if p.name != scenario.name]
        assert any(len(step) == 1 for step in steps), scenario.name
        for seed in (42, 1, 2):
            run = config.MODELS_DIR / config.SEEDS_DIR_NAME / f"{scenario.name}_seed{seed}"
            recorded = json.loads((run / "metrics.json").read_text())["scenario"]
            expected = scenario.reseeded(seed).to_dict()
            assert recorded == {k: expected[k] for k in recorded}, run.name


def test_a_soup_takes_its_recipe_from_the_scenario_it_averages(tmp_path):
    soup = load_scenario("scenes_lowres_ls_unweighted_soup")
    recipe = load_scenario("scenes_lowres_ls_unweighted")
    assert soup.soup_of == recipe.name and len(soup.soup_seeds) >= 2
    assert {**soup.to_dict(), "name": "", "description": "", "soup_of": None, "soup_seeds": ()} == {
        **recipe.to_dict(),
        "name": "",
        "description": "",
    }
    for seeds in ([42], [1, 1], []):
        path = tmp_path / "bad.json"
        path.write_text(
            json.dumps(
                {"name": "x", "description": "", "soup_of": recipe.name, "soup_seeds": seeds}
            )
        )
        with pytest.raises(MaskDetectorError, match="soup"):
            load_scenario(path)


def test_a_soup_names_the_run_it_lacks_and_the_command_that_trains_it(tmp_path):
    from mask_detector.training.soup import ingredient_runs

    soup = load_scenario("scenes_lowres_ls_unweighted_soup")
    recipe = load_scenario(soup.soup_of)
    own = tmp_path / "runs" / recipe.name
    own.mkdir(parents=True)
    (own / config.SCENARIO_MODEL_NAME).write_bytes(b"")
    (own / config.METRICS_NAME).write_text(json.dumps({"scenario": recipe.to_dict()}))
    other = next(s for s in soup.soup_seeds if s != recipe.seed)
    with pytest.raises(MaskDetectorError, match=f"--seed {other}"):
        ingredient_runs(soup, tmp_path / "runs", tmp_path / "seeds")
    for seed in soup.soup_seeds:  # each seed's run, the last one by another recipe
        if seed != recipe.seed:
            run = tmp_path / "seeds" / f"{recipe.name}_seed{seed}"
            run.mkdir(parents=True)
            (run / config.SCENARIO_MODEL_NAME).write_bytes(b"")
            fields = recipe.reseeded(seed).to_dict()
            (run / config.METRICS_NAME).write_text(json.dumps({"scenario": fields}))
    found = ingredient_runs(soup, tmp_path / "runs", tmp_path / "seeds")
    assert found[soup.soup_seeds.index(recipe.seed)] == own and len(found) == len(soup.soup_seeds)
    (run / config.METRICS_NAME).write_text(
        json.dumps({"scenario": {**fields, "class_weight": "balanced"}})
    )
    with pytest.raises(MaskDetectorError, match="another recipe"):
        ingredient_runs(soup, tmp_path / "runs", tmp_path / "seeds")


@pytest.mark.slow
def test_a_soup_is_the_mean_of_its_models_weights():
    keras = pytest.importorskip("keras")
    from mask_detector.training.soup import average_weights

    def model(value: float, units: int = 2) -> keras.Model:
        inputs = keras.Input((3,))
        built = keras.Model(inputs, keras.layers.Dense(units)(inputs))
        built.set_weights([np.full(w.shape, value, np.float32) for w in built.get_weights()])
        return built

    kernel, bias = average_weights([model(1.0), model(2.0), model(6.0)])
    assert np.allclose(kernel, 3.0) and np.allclose(bias, 3.0) and kernel.dtype == np.float32
    same = np.float32(0.1)  # equal weights (the frozen layers) come out exactly equal
    assert (average_weights([model(same)] * 3)[0] == same).all()
    with pytest.raises(MaskDetectorError, match="same architecture"):
        average_weights([model(1.0), model(1.0, units=3)])


def test_each_scenario_names_the_seed_of_its_best_run():
    """A scenario measured under several seeds names the one whose run ranks first under the ship
    rule, and its committed run is that seed's."""
    seeds = runs_in(config.MODELS_DIR / config.SEEDS_DIR_NAME)
    checked = 0
    for name in scenario_names():
        own = read_metrics(config.MODELS_DIR / config.RUNS_DIR_NAME / name)
        runs = {name: own, **seeds_of(name, seeds)}
        assert runs[name]["scenario"]["seed"] == load_scenario(name).seed, name
        if len(runs) > 1:
            assert best_run(runs) == name, name
            assert f"{name}_seed{load_scenario(name).seed}" not in runs, name  # no run twice
            checked += 1
    assert checked >= 3  # scenes_lowres, _deep and _ls have seed runs


def test_weight_averaging_must_name_a_fine_tuning_epoch(tmp_path):
    base = load_scenario("scenes_lowres").to_dict()
    for bad in (0, base["finetune_epochs"] + 1):
        path = tmp_path / f"avg{bad}.json"
        path.write_text(json.dumps({**base, "average_from": bad}))
        with pytest.raises(MaskDetectorError, match="average_from"):
            load_scenario(path)
    path.write_text(json.dumps({**base, "average_from": 4}))
    assert load_scenario(path).shrunk(2).average_from == 2  # smoke runs keep it valid


def test_label_smoothing_spreads_a_share_of_each_target(tmp_path):
    import keras

    probs = np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05]], dtype=np.float32)
    labels = np.array([0, 2])
    assert training_loss(0.0) == "sparse_categorical_crossentropy"  # the plain loss, bit for bit
    smoothed = keras.ops.convert_to_numpy(training_loss(0.1)(labels, probs))
    reference = keras.losses.CategoricalCrossentropy(label_smoothing=0.1, reduction=None)
    expected = keras.ops.convert_to_numpy(reference(np.eye(3)[labels], probs))
    np.testing.assert_allclose(smoothed, expected, rtol=1e-5)
    assert smoothed[1] > smoothed[0]  # the wrong, sure answer costs more
    path = tmp_path / "ls.json"
    path.write_text(json.dumps({**load_scenario("scenes_lowres").to_dict(), "label_smoothing": 1}))
    with pytest.raises(MaskDetectorError, match="label_smoothing"):
        load_scenario(path)


def test_class_weights_balance_the_loss():
    weights = class_weights(np.array([0, 0, 0, 1, 2, 2]))
    assert weights is not None
    assert weights[1] == pytest.approx(3 * weights[0]) and weights[2] == pytest.approx(
        1.5 * weights[0]
    )
    assert 3 * weights[0] + weights[1] + 2 * weights[2] == pytest.approx(6)
    two = class_weights(np.array([0, 0, 0, 1]))  # a class with no face gets no weight
    assert two is not None and set(two) == {0, 1} and 3 * two[0] + two[1] == pytest.approx(4)
    assert class_weights(np.array([0, 1]), "none") is None
    gentle = class_weights(np.array([0, 0, 0, 0, 1]), "sqrt")
    assert gentle is not None and gentle[1] == pytest.approx(2 * gentle[0])  # sqrt(4)
    assert 4 * gentle[0] + gentle[1] == pytest.approx(5)


def _feature_set(views: int, faces: int) -> FeatureSet:
    """Each cached value tells its view and face apart: 10 * view + face."""
    values = np.add.outer(10 * np.arange(views), np.arange(faces)).astype(np.float16)
    return FeatureSet(
        values[..., None, None, None], np.arange(faces) % 2, np.ones(faces, int), [], LoadReport()
    )


def test_view_sampler_shows_repeated_faces_again_with_their_next_view():
    data = _feature_set(views=3, faces=10)
    plain = ViewSampler(data, 4, seed=7)
    rng = np.random.default_rng(7)  # the draws of the sampler before repeats existed
    assert (plain.order == rng.permutation(10)).all()
    assert (plain.view == rng.integers(0, 3, 10)).all()
    same = ViewSampler(data, 4, seed=7, repeats=np.ones(10, int))
    assert (same.order == plain.order).all() and (same.view == plain.view).all()

    twice = ViewSampler(data, 4, seed=7, repeats=np.array([2] * 5 + [1] * 5))
    assert len(twice) == 4  # 15 faces shown, batches of 4
    shown = np.concatenate([twice[i][0].ravel() for i in range(len(twice))]).astype(int)
    faces, views = shown % 10, shown // 10
    assert sorted(faces.tolist()) == sorted([*range(5), *range(10)])
    for face in range(5):  # the second showing is the next cached view
        first, second = sorted(views[faces == face].tolist())
        assert (second - first) in (1, 2)  # consecutive, modulo 3 views
    labels = np.concatenate([twice[i][1] for i in range(len(twice))])
    assert (labels == faces % 2).all()


def test_close_up_repeats_must_be_one_or_more(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**load_scenario("scenes_lowres").to_dict(), "closeup_repeats": 0}))
    with pytest.raises(MaskDetectorError, match="closeup_repeats"):
        load_scenario(path)


def test_jitter_stays_within_its_bounds():
    rng = np.random.default_rng(0)
    box = (100, 80, 40, 50)
    for _ in range(500):
        x, y, w, h = jitter_box(box, rng, shift=0.15, scale=0.3)
        assert abs(x + w / 2 - 120) <= 0.15 * 40 + 1 and abs(y + h / 2 - 105) <= 0.15 * 50 + 1
        assert 0.7 * 0.85 * 40 - 1 <= w <= 1.3 * 1.15 * 40 + 1
        assert 0.7 / 1.15 * 50 - 1 <= h <= 1.3 / 0.85 * 50 + 1
    assert jitter_box(box, rng, 0.0, 0.0) == box
    assert jitter_box((0, 0, 1, 1), rng, 0.5, 0.9)[2:] >= (1, 1)


def test_views_start_with_the_pipeline_crop(astronaut_bgr, astronaut_face_box):
    item = FaceItem(config.REPO_ROOT, 0, astronaut_face_box, "scene")
    recipe = ViewRecipe(shift=0.15, scale=0.3, lowres=1.0, jpeg=1.0, blur=1.0, light=1.0)
    views = face_views(astronaut_bgr, item, 4, recipe, np.random.default_rng(1))
    assert len(views) == 4
    assert np.array_equal(views[0], crop_faces(astronaut_bgr, [astronaut_face_box])[0])
    assert all(12 <= max(v.shape[:2]) <= 64 for v in views[1:])  # shrunk like crowd faces
    whole = face_views(
        astronaut_bgr, FaceItem(config.REPO_ROOT, 1), 2, ViewRecipe(), np.random.default_rng(1)
    )
    assert whole[0] is astronaut_bgr and whole[1].shape == astronaut_bgr.shape
    # A close-up's jittered views are windows of the image (no padding), some tighter than it.
    cut = face_views(
        astronaut_bgr,
        FaceItem(config.REPO_ROOT, 0),
        30,
        ViewRecipe(0.15, 0.3),
        np.random.default_rng(3),
    )
    h = astronaut_bgr.shape[0]
    assert sum(v.shape[0] < 0.9 * h for v in cut[1:]) >= 5
    for v in cut[1:]:
        match = cv2.matchTemplate(astronaut_bgr, v, cv2.TM_SQDIFF)
        assert match.min() < 1  # the view is a window of the image, pixel for pixel


def test_roughening_ops(astronaut_bgr):
    assert shrink(astronaut_bgr, 32).shape == (32, 32, 3)
    assert shrink(astronaut_bgr[:20, :10], 32).shape == (20, 10, 3)  # never enlarged
    assert np.array_equal(relight(astronaut_bgr, 0, 1, 1), astronaut_bgr)
    assert relight(astronaut_bgr, 40, 1, 1).mean() > astronaut_bgr.mean()
    rng = np.random.default_rng(2)
    plain = augment_face(astronaut_bgr, ViewRecipe(), rng)
    assert np.array_equal(plain, astronaut_bgr)  # an empty recipe changes nothing


class _CountingRng:
    """A Generator that counts its random() calls: the yes/no gates of augment_face."""

    def __init__(self, seed: int) -> None:
        self.rng, self.gates = np.random.default_rng(seed), 0

    def random(self) -> float:
        self.gates += 1
        return float(self.rng.random())

    def __getattr__(self, name: str):
        return getattr(self.rng, name)


def _gates_drawn(face: np.ndarray, recipe: ViewRecipe) -> int:
    rng = _CountingRng(5)
    augment_face(face, recipe, rng)  # type: ignore[arg-type]
    return rng.gates


def test_night_views_are_grey_or_dark_and_leave_other_recipes_alone(astronaut_bgr):
    grey_view = augment_face(astronaut_bgr, ViewRecipe(grey=1.0), np.random.default_rng(1))
    assert np.array_equal(grey_view[..., 0], grey_view[..., 2])
    assert not np.array_equal(astronaut_bgr[..., 0], astronaut_bgr[..., 2])
    dark_view = augment_face(astronaut_bgr, ViewRecipe(dark=1.0), np.random.default_rng(1))
    assert dark_view.mean() < 0.65 * astronaut_bgr.mean()
    assert dark_view.shape == astronaut_bgr.shape and dark_view.dtype == np.uint8
    # A recipe without night views draws no more gates than before they existed, so the
    # committed runs' views (and figures) stay reproducible.
    day = ViewRecipe(0.15, 0.3, lowres=0.7, jpeg=0.5, blur=0.3, light=0.5)
    assert _gates_drawn(astronaut_bgr, day) == 4  # lowres, blur, light, jpeg
    assert _gates_drawn(astronaut_bgr, replace(day, grey=0.5, dark=0.5)) == 6
    scenario = Scenario("n", "", night_views=0.25)
    assert (scenario.recipe().grey, scenario.recipe().dark) == (0.25, 0.25)
    assert Scenario("d", "").recipe() == replace(scenario.recipe(), grey=0.0, dark=0.0)


def test_the_lowest_jpeg_quality_is_the_recipes(astronaut_bgr, tmp_path):
    def loss(quality: int) -> float:
        recipe = ViewRecipe(jpeg=1.0, jpeg_quality=(quality, quality))
        view = augment_face(astronaut_bgr, recipe, np.random.default_rng(0))
        return float(np.abs(view.astype(int) - astronaut_bgr).mean())

    assert loss(10) > 1.5 * loss(30) > 1.5 * loss(90)
    assert Scenario("q", "", jpeg_min_quality=10).recipe().jpeg_quality == (10, 90)
    assert Scenario("d", "").recipe().jpeg_quality == (30, 90)  # what every recipe had before
    path = tmp_path / "q.json"
    path.write_text(json.dumps({**load_scenario("scenes_lowres").to_dict(), "jpeg_min_quality": 0}))
    with pytest.raises(MaskDetectorError, match="jpeg_min_quality"):
        load_scenario(path)


def test_night_views_must_be_a_share(tmp_path):
    path = tmp_path / "night.json"
    path.write_text(json.dumps({**load_scenario("scenes_lowres").to_dict(), "night_views": 1.5}))
    with pytest.raises(MaskDetectorError, match="night_views"):
        load_scenario(path)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_temperature_scaling_is_softmax_of_logits_over_t():
    z = np.random.default_rng(3).normal(0, 4, (50, 3))
    for t in (0.5, 1.0, 2.7):
        assert np.allclose(scale_probs(softmax(z), t), softmax(z / t), atol=1e-9)


def test_fit_temperature_finds_the_overconfidence():
    rng = np.random.default_rng(4)
    z = rng.normal(0, 3, (6000, 3))
    truth = softmax(z / 2.0)  # the world is twice as unsure as the model says
    labels = np.array([rng.choice(3, p=p) for p in truth])
    t = fit_temperature(softmax(z), labels)
    assert t == pytest.approx(2.0, rel=0.1)
    report = calibration_report(t, softmax(z), labels)
    assert report["after"]["ece"] < report["before"]["ece"] / 2
    assert report["after"]["nll"] < report["before"]["nll"]
    assert report["after"]["brier"] < report["before"]["brier"]


def test_fit_temperature_is_not_dragged_by_a_few_confident_label_errors():
    from scipy.optimize import minimize_scalar

    from mask_detector.evaluation.calibration import nll

    def nll_temperature(probs, labels):  # what the usual log-likelihood fit would give
        fit = minimize_scalar(
            lambda t: nll(scale_probs(probs, t), labels), bounds=(0.1, 10), method="bounded"
        )
        return fit.x

    rng = np.random.default_rng(6)
    probs = softmax(rng.normal(0, 3, (4000, 3)))
    labels = np.array([rng.choice(3, p=p) for p in probs])  # calibrated at T = 1
    noisy = labels.copy()
    sure = np.flatnonzero(probs.max(1) > 0.995)[:20]
    noisy[sure] = (noisy[sure] + 1) % 3  # twenty confident faces mislabelled (0.5%)
    clean_t = fit_temperature(probs, labels)
    assert clean_t == pytest.approx(1.0, abs=0.1)
    drift = fit_temperature(probs, noisy) - clean_t
    assert abs(drift) < 0.5 * (nll_temperature(probs, noisy) - nll_temperature(probs, labels))


def test_reliability_bins_and_ece():
    probs = np.array([[0.9, 0.05, 0.05]] * 4 + [[0.2, 0.7, 0.1]] * 2)
    labels = np.array([0, 0, 1, 2, 1, 1])
    r = reliability(probs, labels, bins=10)
    assert r["n"] == 6 and sum(b["n"] for b in r["bins"]) == 6
    top = next(b for b in r["bins"] if b["lo"] == pytest.approx(0.8))
    assert top["n"] == 4 and top["accuracy"] == 0.5 and top["confidence"] == pytest.approx(0.9)
    # |0.5 - 0.9| on 4 faces, |1.0 - 0.7| on 2.
    assert r["ece"] == pytest.approx((4 * 0.4 + 2 * 0.3) / 6)
    json.dumps(r)


@pytest.mark.slow
def test_baked_temperature_gives_softmax_of_logits_over_t():
    keras = pytest.importorskip("keras")
    from mask_detector.training.model import OUTPUT_LAYER, bake_temperature

    inputs = keras.Input((5,))
    model = keras.Model(
        inputs, keras.layers.Dense(3, activation="softmax", name=OUTPUT_LAYER)(inputs)
    )
    x = np.random.default_rng(5).normal(0, 3, (20, 5)).astype(np.float32)
    before = model.predict(x, verbose=0)
    bake_temperature(model, 2.5)
    after = model.predict(x, verbose=0)
    assert np.allclose(after, scale_probs(before, 2.5), atol=1e-5)
    assert (after.argmax(1) == before.argmax(1)).all()


def test_int8_export_is_integer_inside_and_close_to_float(tmp_path):
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    from mask_detector.training.export import export_tflite

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    rng = np.random.default_rng(1)
    shades = [np.full((40, 30, 3), rng.integers(0, 256, 3), np.uint8) for _ in range(40)]
    faces = preprocess_faces(shades, size=32)
    plain = export_tflite(model, tmp_path / "float.tflite")
    int8 = export_tflite(model, tmp_path / "int8.tflite", int8_calibration=faces)
    interpreter = tf.lite.Interpreter(model_path=str(int8))
    kinds = {d["dtype"] for d in interpreter.get_tensor_details()}
    assert np.int8 in kinds and interpreter.get_input_details()[0]["dtype"] == np.float32
    crops = [np.full((40, 30, 3), v, np.uint8) for v in (20, 120, 230)]
    expected = MaskClassifier(plain).classify(crops)
    got = MaskClassifier(int8).classify(crops)
    assert got.shape == (3, 3) and np.abs(got - expected).max() < 0.05


@pytest.mark.slow
def test_weight_averaging_loads_the_mean_of_the_epochs_from_its_start():
    keras = pytest.importorskip("keras")
    from mask_detector.training.train import _WeightAverage

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    average = _WeightAverage(start=2)
    average.set_model(model)
    for epoch, value in enumerate([10.0, 1.0, 2.0, 6.0]):  # epoch 1 (10.0) is left out
        for w in model.trainable_weights:
            w.assign(np.full(w.shape, value, np.float32))
        average.on_epoch_end(epoch)
    average.on_train_end()
    kernel, bias = model.get_weights()
    assert np.allclose(kernel, 3.0) and np.allclose(bias, 3.0)


@pytest.mark.slow
@needs_shared
def test_tiny_training_run_exports_a_working_model(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    from mask_detector.training.ship import ship_best
    from mask_detector.training.train import train_scenario

    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    scenario = Scenario(**{**load_scenario("scenes_lowres_swa").to_dict(), "name": "tiny"})
    recipe = tmp_path / "tiny.json"
    recipe.write_text(json.dumps(scenario.shrunk(1, 2).to_dict()))
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    lines: list[str] = []

    def train(scenario: Scenario) -> dict:
        return train_scenario(
            config.training_data_dir(),
            split,
            scenario,
            runs_dir=tmp_path / "runs",
            limit=12,
            log=lines.append,
        )

    metrics = train(load_scenario(recipe))
    assert any("head epoch 1" in line for line in lines)
    assert any("finetune epoch 1" in line for line in lines)
    assert any("weights averaged over epochs 1-1" in line for line in lines)
    saved = json.loads((tmp_path / "runs" / "tiny" / config.METRICS_NAME).read_text())
    assert saved["test"]["n"] == metrics["test"]["n"] == 12
    assert saved["test_scenes"]["n"] == 12 and saved["val_all"]["n"] == 24
    assert set(saved["history"]) == {"head", "finetune"}
    assert saved["calibration"]["temperature"] > 0
    assert {"before", "after"} <= set(saved["calibration"]["test_scenes"])
    assert saved["test_scenes"]["by_size"][0]["bucket"] == "<16"
    assert ship_best(tmp_path / "runs", tmp_path / "models", tmp_path / "no-scenes") == "tiny"
    lite = MaskClassifier(tmp_path / "models" / config.TFLITE_MODEL_NAME)
    probs = lite.classify([np.zeros((50, 40, 3), np.uint8)] * 3)
    assert probs.shape == (3, len(config.LABELS)) and np.allclose(probs.sum(1), 1, atol=1e-4)
    summary = json.loads((tmp_path / "models" / config.METRICS_NAME).read_text())
    assert summary["shipped_scenario"] == "tiny" and summary["calibration"]["temperature"] > 0

    # A soup of this run and one under another seed: their mean weights, calibrated anew.
    train(load_scenario(recipe).reseeded(7))
    soup = tmp_path / "soup.json"
    soup.write_text(json.dumps({"name": "soup", "soup_of": str(recipe), "soup_seeds": [42, 7]}))
    souped = train(load_scenario(soup))
    assert souped["history"] == {} and souped["test_scenes"]["n"] == 12
    assert any(line.startswith(" soup of ") for line in lines)
    keras = pytest.importorskip("keras")
    kernels = [
        keras.models.load_model(tmp_path / "runs" / name / config.SCENARIO_MODEL_NAME)
        .get_layer("mobilenetv2_1.00_224")
        .get_layer("Conv_1")
        .get_weights()[0]
        for name in ("tiny", "tiny_seed7", "soup")
    ]
    assert (kernels[0] != kernels[1]).any()  # fine-tuned apart
    assert np.allclose(kernels[2], (kernels[0] + kernels[1]) / 2)


@needs_shared
@needs_yunet
def test_yunet_faces_take_the_label_of_the_annotated_face(tmp_path, monkeypatch):
    from mask_detector.detectors.base import box_iou
    from mask_detector.training.faces import scene_items, yunet_items

    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path))
    photos = Split.load(config.MODELS_DIR / config.SPLIT_NAME).scene_photos("train")[:6]
    lines: list[str] = []
    items = yunet_items(photos, log=lines.append)
    assert items and all(i.source == "yunet" and i.box is not None for i in items)
    annotated = scene_items(photos)
    for item in items:  # each matches an annotated face of its photo, and takes its label
        best = max(
            (a for a in annotated if a.image == item.image),
            key=lambda a: box_iou(a.box, item.box),
        )
        assert box_iou(best.box, item.box) >= 0.3 and best.label == item.label
    assert yunet_items(photos, log=lines.append) == items  # the second call reads the cache
    assert "from cache" in lines[-1]


def test_selection_keeps_the_close_up_floor_then_reads_the_scene_goals():
    """Close-up floor, then the validation scene faces from 32 px: two-label accuracy, then
    without_mask recall; small faces and the third label do not decide."""
    from mask_detector.evaluation.by_size import by_size
    from mask_detector.training.ship import selection_score

    def run(closeup_acc: float, large: list[tuple[int, int]], small_right: int) -> dict:
        """`large`: (true, predicted) of faces of 40 px; ten small faces, `small_right` right."""
        truth = [t for t, _ in large] + [0] * 10
        said = [p for _, p in large] + [0] * small_right + [1] * (10 - small_right)
        return {
            "val": {"accuracy": closeup_acc},
            "val_scenes": {"by_size": by_size(truth, said, [40] * len(large) + [20] * 10)},
        }

    worn_missed = [(0, 0), (1, 1), (1, 1), (2, 0), (2, 0)]  # two labels 3/3
    no_mask_missed = [(0, 0), (0, 0), (1, 1), (1, 0), (2, 2)]  # two labels 3/4
    masked_missed = [(0, 0), (0, 1), (1, 1), (1, 1), (2, 2)]  # 3/4, without_mask recall 2/2
    runs = {
        "sharp_below_floor": run(0.985, worn_missed, 10),
        "small_faces_best": run(0.995, no_mask_missed, 10),
        "small_faces_worst": run(0.995, no_mask_missed, 0),
        "misses_masked": run(0.995, masked_missed, 0),
        "two_labels_best": run(0.992, worn_missed, 0),
    }
    ranked = sorted(runs, key=lambda n: selection_score(runs[n]), reverse=True)
    assert ranked[:2] == ["two_labels_best", "misses_masked"]
    assert ranked[-1] == "sharp_below_floor"
    assert selection_score(runs["small_faces_best"]) == selection_score(runs["small_faces_worst"])
    assert selection_score({"val": {"accuracy": 0.995}, "val_scenes": None})[1:] == (0.0, 0.0)
