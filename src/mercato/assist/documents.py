"""The shop's knowledge: Markdown FAQ/policy documents split into sections, and catalog items.

A shop provides a folder of ``*.md`` files (setting ``assist_docs_dir``; the bundled example set
is used otherwise). Each ``##`` section becomes one passage, cited as ``file.md#section-slug``;
catalog items become passages cited as ``item:<item_id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mercato.errors import InvalidInput, NotFound
from mercato.events.schema import Item

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Passage:
    source: str  # citation id: "returns.md#return-window" or "item:85123A"
    title: str
    text: str
    kind: str  # "doc" or "item"

    def sentences(self) -> list[str]:
        return [s.strip() for s in _SENTENCE.split(self.text) if s.strip()]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def bundled_docs_dir() -> Path:
    return Path(str(resources.files("mercato") / "data" / "assist_docs"))


def parse_markdown(name: str, markdown: str) -> list[Passage]:
    """One passage per ``##`` section (text under the ``#`` title alone becomes a passage too)."""
    doc_title = name
    passages: list[Passage] = []
    heading, lines = "", []

    def flush() -> None:
        text = " ".join(line.strip() for line in lines if line.strip())
        if text:
            anchor = f"#{slug(heading)}" if heading else ""
            title = f"{doc_title} — {heading}" if heading else doc_title
            passages.append(Passage(f"{name}{anchor}", title, text, "doc"))

    for line in markdown.splitlines():
        if line.startswith("# "):
            doc_title = line[2:].strip()
        elif line.startswith("## "):
            flush()
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    flush()
    return passages


def load_docs(folder: str | Path | None) -> list[Passage]:
    folder = Path(folder) if folder else bundled_docs_dir()
    if not folder.is_dir():
        raise NotFound(f"assist docs folder {folder} does not exist; set assist_docs_dir to a folder of .md files")
    passages = []
    for path in sorted(folder.glob("*.md")):
        passages.extend(parse_markdown(path.name, path.read_text(encoding="utf-8")))
    if not passages:
        raise InvalidInput(f"assist docs folder {folder} holds no Markdown sections (*.md)", field="assist_docs_dir")
    return passages


def item_passage(item: Item) -> Passage:
    facts = [item.title] if item.title else []
    if item.category:
        facts.append("Category: " + " > ".join(item.category) + ".")
    if item.brand:
        facts.append(f"Brand: {item.brand}.")
    facts.extend(f"{key.replace('_', ' ').capitalize()}: {value}." for key, value in sorted(item.attributes.items()))
    return Passage(f"item:{item.item_id}", item.title or item.item_id, " ".join(facts), "item")
