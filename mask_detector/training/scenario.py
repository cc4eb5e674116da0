"""Training scenarios: small JSON files naming what differs between the runs we compare."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import IMAGE_SIZE, SCENARIOS_DIR
from ..errors import MaskDetectorError
from .views import ViewRecipe

CLASS_WEIGHTS = ("balanced", "sqrt", "none")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    #: Training faces besides the close-ups: the annotated faces of the split's training scene
    #: photos, and YuNet's boxes on those photos matched to them (what the pipeline feeds the
    #: classifier).
    scene_faces: bool = False
    yunet_faces: bool = False
    #: Detector-like jitter of scene face boxes in augmented views: centre shift and scale, as
    #: fractions of the box (YuNet's boxes differ from the annotated ones by about 0.09 and 0.2).
    jitter_shift: float = 0.0
    jitter_scale: float = 0.0
    #: The same jitter on close-ups (the whole image is the box): tight crops, such as eyes and
    #: mask with the top of the head cut off, so a face that fills the crop is no cue for a class.
    closeup_crops: bool = False
    #: Resolution-matched augmentation: augmented views shrunk to 12-64 px (and rougher: JPEG,
    #: blur, light) like faces in crowd photos.
    resolution_aug: bool = False
    #: Night views: this share of augmented views made monochrome (infrared night cameras
    #: record no colour), and this share under-exposed with sensor noise, each drawn on its own.
    night_views: float = 0.0
    #: The lowest JPEG quality of the compressed rough views (up to 90): streams at a low
    #: bitrate smear a bare face until it looks masked.
    jpeg_min_quality: int = 30
    #: "light" (Keras flip, rotation, zoom on augmented views) or "none".
    augment: str = "light"
    #: Times each training close-up is shown per epoch, a different cached view each time:
    #: the close-ups weigh more against the scene faces without new views.
    closeup_repeats: int = 1
    #: Leave out the training scene faces whose label a model that never saw them doubts
    #: (dataset/review/, written by `review-labels`): photos annotated the wrong way round.
    drop_doubted: bool = False
    #: Views cached per training face (the plain crop and views - 1 augmented ones); each epoch
    #: sees one view of every face.
    views: int = 3
    #: Model input side in pixels.
    image_size: int = IMAGE_SIZE
    #: "balanced" (inverse class frequency), "sqrt" (its square root) or "none".
    class_weight: str = "balanced"
    head_epochs: int = 12
    head_lr: float = 1e-3
    #: First backbone layer to unfreeze for fine-tuning; None trains the head only.
    finetune_from: str | None = None
    finetune_epochs: int = 0
    finetune_lr: float = 1e-5
    #: Average the fine-tuned weights of every epoch from this one (1-based) to the last, and
    #: run all fine-tuning epochs (no early stopping). Validation loss swings by a few hundredths
    #: from one epoch to the next, so the single epoch early stopping keeps is partly luck; the
    #: mean of the epochs along the decaying learning rate (stochastic weight averaging) does not
    #: depend on one epoch. None keeps the best epoch by validation loss.
    average_from: int | None = None
    batch_size: int = 32
    dropout: float = 0.2
    #: Share of each target spread evenly over the classes. The sources disagree on some faces by
    #: convention (a mask under the nose is with_mask in the close-ups, worn wrong in scene
    #: photos); hard targets push the model to be sure of both sides.
    label_smoothing: float = 0.0
    patience: int = 3
    seed: int = 42
    #: A soup (training.soup): no training, the mean of the weights of the runs of the recipe
    #: `soup_of` at each of `soup_seeds`, then calibrated and evaluated like a trained run. Its
    #: JSON names only these, its name and description; the rest is the recipe's.
    soup_of: str | None = None
    soup_seeds: tuple[int, ...] = ()

    def recipe(self) -> ViewRecipe:
        """How this scenario's augmented views are cut and roughened."""
        rough = 0.5 if self.resolution_aug else 0.0
        return ViewRecipe(
            shift=self.jitter_shift,
            scale=self.jitter_scale,
            lowres=0.7 if self.resolution_aug else 0.0,
            jpeg=rough,
            blur=rough * 0.6,
            light=rough,
            grey=self.night_views,
            dark=self.night_views,
            jpeg_quality=(self.jpeg_min_quality, 90),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def shrunk(self, epochs: int, views: int = 1) -> Scenario:
        """A tiny version for smoke runs (CI, notebook smoke mode)."""
        return Scenario(
            **{
                **self.to_dict(),
                "head_epochs": min(self.head_epochs, epochs),
                "finetune_epochs": min(self.finetune_epochs, epochs),
                "views": min(self.views, views),
                "average_from": self.average_from and min(self.average_from, epochs),
            }
        )

    def reseeded(self, seed: int) -> Scenario:
        """The same recipe with another random seed (initial head weights, views, batch order),
        named apart so it never overwrites or competes with the scenario itself."""
        return Scenario(**{**self.to_dict(), "name": f"{self.name}_seed{seed}", "seed": seed})


#: Recipes tried and not adopted, loaded as `tried/NAME`: kept so their runs can be repeated,
#: never trained by `train --scenario all` nor shipped.
TRIED_DIR = SCENARIOS_DIR / "tried"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.json"))


def tried_names() -> list[str]:
    return sorted(f"{TRIED_DIR.name}/{p.stem}" for p in TRIED_DIR.glob("*.json"))


def _soup_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A soup's fields: its recipe's, then its own name, description and seeds."""
    recipe = load_scenario(fields["soup_of"])
    seeds = tuple(int(s) for s in fields.get("soup_seeds", ()))
    if recipe.soup_of or len(seeds) < 2 or len(set(seeds)) < len(seeds):
        raise ValueError("a soup names a recipe that trains and two or more distinct seeds")
    return {**recipe.to_dict(), **fields, "soup_seeds": seeds}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (a file in training/scenarios/) or by path to a JSON file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIOS_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise MaskDetectorError(
            f"unknown scenario {name_or_path!r}: choose one of {', '.join(scenario_names())} "
            f"(tried, not adopted: {', '.join(tried_names())}) or give the path of a JSON file"
        )
    try:
        fields = json.loads(path.read_text())
        if fields.get("soup_of"):
            fields = _soup_fields(fields)
        scenario = Scenario(**fields)
    except (TypeError, ValueError) as exc:
        raise MaskDetectorError(f"{path}: not a valid scenario ({exc})") from None
    if scenario.average_from is not None and not (
        scenario.finetune_from and 1 <= scenario.average_from <= scenario.finetune_epochs
    ):
        raise MaskDetectorError(
            f"{path}: average_from must name a fine-tuning epoch (1 to finetune_epochs)"
        )
    if scenario.augment not in ("light", "none") or scenario.class_weight not in CLASS_WEIGHTS:
        raise MaskDetectorError(
            f"{path}: augment must be 'light' or 'none', class_weight one of "
            + ", ".join(CLASS_WEIGHTS)
        )
    if not 0.0 <= scenario.label_smoothing < 1.0:
        raise MaskDetectorError(f"{path}: label_smoothing must be in [0, 1)")
    if not 0.0 <= scenario.night_views <= 1.0:
        raise MaskDetectorError(f"{path}: night_views must be in [0, 1]")
    if not 1 <= scenario.jpeg_min_quality <= 90:
        raise MaskDetectorError(f"{path}: jpeg_min_quality must be 1 to 90")
    if scenario.closeup_repeats < 1:
        raise MaskDetectorError(f"{path}: closeup_repeats must be 1 or more")
    if scenario.drop_doubted and not scenario.scene_faces:
        raise MaskDetectorError(f"{path}: drop_doubted leaves out scene faces: needs scene_faces")
    return scenario
