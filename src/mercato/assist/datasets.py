"""The intent benchmark datasets: bitext-support (seeded stratified 80/20 split) and CLINC150.

Both come as an ``IntentData``: train / val / test texts and labels, with out-of-scope examples
labelled ``OOS``. The validation part is what the out-of-scope threshold is chosen on; test is
only ever scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mercato.errors import InvalidInput, NotFound

OOS = "oos"


@dataclass(frozen=True)
class IntentData:
    name: str
    train_texts: list[str]
    train_labels: list[str]
    val_texts: list[str]
    val_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]

    def summary(self) -> dict:
        return {
            "dataset": self.name,
            "train": len(self.train_texts),
            "val": len(self.val_texts),
            "test": len(self.test_texts),
            "intents": len(set(self.train_labels) - {OOS}),
            "oos_train": self.train_labels.count(OOS),
            "oos_val": self.val_labels.count(OOS),
            "oos_test": self.test_labels.count(OOS),
        }


def _folder(data_dir: Path | None, name: str) -> Path:
    if data_dir is None:
        raise InvalidInput(f"dataset {name} needs --data-dir (the folder holding {name}/)", field="data_dir")
    path = Path(data_dir) / name
    if not path.is_dir():
        raise NotFound(f"dataset folder {path} does not exist; pass the folder holding {name}/ as --data-dir")
    return path


def load_bitext(data_dir: Path | None, *, seed: int = 0, test_size: float = 0.2, val_size: float = 0.1) -> IntentData:
    """Bitext customer support: a seeded stratified 80/20 train/test split; ``val_size`` of the
    80 % (stratified too) is held out of training as validation. No out-of-scope examples."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    path = _folder(data_dir, "bitext-support") / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    frame = pd.read_csv(path, usecols=["instruction", "intent"]).dropna()
    texts = frame["instruction"].astype(str).str.strip().tolist()
    labels = frame["intent"].astype(str).tolist()
    train_t, test_t, train_l, test_l = train_test_split(texts, labels, test_size=test_size, random_state=seed, stratify=labels)
    fit_t, val_t, fit_l, val_l = train_test_split(train_t, train_l, test_size=val_size, random_state=seed, stratify=train_l)
    return IntentData("bitext-support", fit_t, fit_l, val_t, val_l, test_t, test_l)


def load_clinc150(data_dir: Path | None) -> IntentData:
    """CLINC150 ``data_full.json``: its own train / val / test with the oos_* parts added as ``oos``."""
    path = _folder(data_dir, "clinc150") / "data_full.json"
    data = json.loads(path.read_text())

    def part(name: str) -> tuple[list[str], list[str]]:
        rows = data[name] + data[f"oos_{name}"]
        return [text for text, _ in rows], [OOS if label == "oos" else label for _, label in rows]

    train, val, test = part("train"), part("val"), part("test")
    return IntentData("clinc150", *train, *val, *test)


DATASETS = {"bitext-support": load_bitext, "clinc150": load_clinc150}


def load_dataset(name: str, data_dir: Path | None, *, seed: int = 0) -> IntentData:
    if name == "bitext-support":
        return load_bitext(data_dir, seed=seed)
    if name == "clinc150":
        return load_clinc150(data_dir)
    raise InvalidInput(f"unknown intent dataset {name!r}; choose one of {sorted(DATASETS)}", field="dataset")
