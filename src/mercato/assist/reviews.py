"""Review snippets about fit ("does it run small?") from the Women's Clothing E-Commerce Reviews.

Optional: with no reviews file configured, or the file absent, ``ReviewSnippets.unavailable()``
answers every question with status ``unavailable`` and the assistant falls back to the sizing
guide. Reviews are matched to an item by its ``clothing_id`` attribute, else by the product class
("Dresses", "Jeans", …) named in the item's category or the message. Each review gets one fit
verdict from phrases reviewers use (runs small / runs large / true to size); the answer reports
the counts and quotes the most helpful sentences of the majority verdict, citing each review.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from mercato.assist.tools import ToolResult

VERDICT_PATTERNS = {
    "runs_small": r"runs? small|ran small|size up|sized up|sizing up|too small|too tight|a bit small|little small|order(?:ed)? a size up|smaller than",
    "runs_large": r"runs? large|runs? big|ran large|ran big|size down|sized down|sizing down|too big|too large|too loose|a bit big|larger than|huge",
    "true_to_size": r"true to size|\btts\b|fits? perfect|perfect fit|fits? as expected|normal size|usual size",
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class ReviewSnippets:
    def __init__(self, frame=None) -> None:
        self.frame = frame
        self.classes: list[str] = sorted(frame["class_name"].dropna().unique().tolist()) if frame is not None else []

    @classmethod
    def unavailable(cls) -> ReviewSnippets:
        return cls(None)

    @classmethod
    def load(cls, path: str | Path | None) -> ReviewSnippets:
        if path is None or not Path(path).is_file():
            return cls.unavailable()
        import pandas as pd

        raw = pd.read_parquet(path, columns=["Clothing ID", "Review Text", "Rating", "Positive Feedback Count", "Class Name"])
        frame = raw.rename(columns={"Clothing ID": "clothing_id", "Review Text": "text", "Rating": "rating",
                                    "Positive Feedback Count": "helpful", "Class Name": "class_name"})
        frame = frame[frame["text"].notna()].reset_index(names="row")
        lower = frame["text"].str.lower()
        for verdict, pattern in VERDICT_PATTERNS.items():
            frame[verdict] = lower.str.contains(pattern, regex=True)
        return cls(frame)

    @property
    def available(self) -> bool:
        return self.frame is not None

    def _class_in(self, text: str) -> str | None:
        text = text.lower()
        for name in self.classes:
            stem = name.lower().rstrip("s")
            if re.search(rf"\b{re.escape(stem)}", text):
                return name
        return None

    def fit(self, message: str, *, clothing_id: int | None = None, context: str = "") -> ToolResult:
        if not self.available:
            return ToolResult("review_snippets", "unavailable")
        if clothing_id is not None:
            rows = self.frame[self.frame["clothing_id"] == int(clothing_id)]
            scope = f"item {clothing_id}"
        else:
            name = self._class_in(context) or self._class_in(message)
            if name is None:
                return ToolResult("review_snippets", "no_product", {"classes": self.classes})
            rows = self.frame[self.frame["class_name"] == name]
            scope = name.lower()
        counts = {verdict: int(rows[verdict].sum()) for verdict in VERDICT_PATTERNS}
        if not rows.size or not any(counts.values()):
            return ToolResult("review_snippets", "no_reviews", {"scope": scope, "reviews": len(rows)})
        majority = max(counts, key=counts.get)
        quoted = rows[rows[majority]].sort_values(["helpful", "row"], ascending=[False, True]).head(2)
        pattern = re.compile(VERDICT_PATTERNS[majority])
        snippets, sources = [], []
        for row in quoted.itertuples():
            sentence = next((s for s in _SENTENCE.split(row.text) if pattern.search(s.lower())), row.text)
            snippets.append(sentence.strip())
            sources.append({"id": f"review:{row.row}", "title": f"Review of {row.class_name} {row.clothing_id} ({row.rating}★)", "kind": "review"})
        facts = {"scope": scope, "reviews": int(len(rows)), "counts": counts, "verdict": majority, "snippets": snippets,
                 "mean_rating": float(np.round(rows["rating"].mean(), 2))}
        return ToolResult("review_snippets", "found", facts, sources)
