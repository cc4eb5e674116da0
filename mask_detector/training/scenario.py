"""Training scenarios: small JSON files naming what differs between the runs we compare."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import SCENARIOS_DIR
from ..errors import MaskDetectorError


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    #: "light" or "strong": which augmentation pipeline makes the training views.
    augment: str = "light"
    #: Augmented views cached per training image; each epoch sees one view of every image.
    views: int = 3
    head_epochs: int = 12
    head_lr: float = 1e-3
    #: First backbone layer to unfreeze for fine-tuning; None trains the head only.
    finetune_from: str | None = None
    finetune_epochs: int = 0
    finetune_lr: float = 1e-5
    batch_size: int = 32
    dropout: float = 0.2
    patience: int = 3
    seed: int = 42

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
            }
        )


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.json"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (a file in training/scenarios/) or by path to a JSON file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIOS_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise MaskDetectorError(
            f"unknown scenario {name_or_path!r}: choose one of {', '.join(scenario_names())} "
            "or give the path of a JSON file"
        )
    try:
        return Scenario(**json.loads(path.read_text()))
    except (TypeError, ValueError) as exc:
        raise MaskDetectorError(f"{path}: not a valid scenario ({exc})") from None
