"""Answer composition without an LLM: templates for tool results, extractive sentences for documents.

Every answer carries the sources it was built from. The extractive part picks, from the best
retrieved passages, the sentences closest to the question (cosine of precomputed sentence
embeddings), so an answer quotes the shop's own policy text instead of paraphrasing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mercato.assist.documents import Passage
from mercato.assist.embedder import Embedder
from mercato.assist.retrieval import Hit
from mercato.assist.tools import ToolResult

SCOPE = "orders, returns, delivery, payment, sizing and our products"


@dataclass
class Composed:
    text: str
    sources: list[dict] = field(default_factory=list)
    context: list[str] = field(default_factory=list)  # grounding handed to an LLM, when one is used


def passage_source(passage: Passage) -> dict:
    return {"id": passage.source, "title": passage.title, "kind": passage.kind}


class Extractor:
    """Sentence embeddings of every passage, computed once."""

    def __init__(self, passages: list[Passage], embedder: Embedder) -> None:
        self.sentences: dict[str, list[str]] = {p.source: p.sentences() for p in passages}
        flat = [s for p in passages for s in self.sentences[p.source]]
        vectors = embedder.encode(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        self.vectors: dict[str, np.ndarray] = {}
        start = 0
        for p in passages:
            n = len(self.sentences[p.source])
            self.vectors[p.source] = vectors[start : start + n]  # (n, D)
            start += n

    def best_sentences(self, hits: list[Hit], query_vector: np.ndarray, *, n: int = 2) -> list[tuple[str, Passage]]:
        scored = []
        for rank, hit in enumerate(hits):
            sims = self.vectors[hit.passage.source] @ query_vector
            for i, sentence in enumerate(self.sentences[hit.passage.source]):
                # A small bonus for the better-ranked passage keeps the answer within one topic.
                scored.append((float(sims[i]) - 0.05 * rank, i, sentence, hit.passage))
        best = sorted(scored, key=lambda s: -s[0])[:n]
        order = {hit.passage.source: r for r, hit in enumerate(hits)}
        best.sort(key=lambda s: (order[s[3].source], s[1]))  # read in document order
        return [(sentence, passage) for _, _, sentence, passage in best]


def _cite(sources: list[dict]) -> list[dict]:
    return list({s["id"]: s for s in sources}.values())


def from_documents(extractor: Extractor, hits: list[Hit], query_vector: np.ndarray, *, lead: str = "", tail: str = "") -> Composed:
    if not hits:
        return Composed(f"I could not find that in our help pages. {tail}".strip())
    picked = extractor.best_sentences(hits, query_vector)
    text = " ".join(part for part in [lead, " ".join(s for s, _ in picked), tail] if part)
    sources = _cite([passage_source(p) for _, p in picked])
    return Composed(text, sources, [f"[{p.source}] {p.text}" for p in dict.fromkeys(h.passage for h in hits)])


def _money(facts: dict) -> str:
    if facts.get("total_minor") is None:
        return ""
    return f", total {facts['total_minor'] / 100:.2f} {facts.get('currency') or ''}".rstrip()


def _items(facts: dict) -> str:
    lines = facts.get("items", [])
    shown = ", ".join(f"{line['quantity']} × {line['item_id']}" for line in lines[:5])
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"{shown}{more}"


def order_status(result: ToolResult) -> Composed:
    facts = result.facts
    if result.status == "sign_in_required":
        return Composed("Please sign in first: I can only look up orders for the account you are signed in with.")
    if result.status == "need_order_id":
        return Composed("Which order do you mean? Please tell me the order number (you find it in the confirmation email).")
    if result.status == "not_found":
        return Composed(
            f"I cannot find order {facts['order_id']} among the orders of your account. Please check the number; "
            "for your privacy I can only show orders placed from the account you are signed in with."
        )
    returned = f" Returned items: {', '.join(facts['returned_items'])}." if facts["returned_items"] else ""
    text = (f"Order {facts['order_id']} was placed on {facts['placed_on']} ({_items(facts)}{_money(facts)}). "
            f"Its current status: {facts['status']}.{returned}")
    return Composed(text, result.sources, [text])


def return_eligibility(result: ToolResult) -> Composed:
    if result.status in ("sign_in_required", "need_order_id", "not_found"):
        return order_status(result)
    facts = result.facts
    window = facts["return_window_days"]
    if result.status == "eligible":
        text = (f"Yes, order {facts['order_id']} (placed on {facts['placed_on']}) can still be returned: our return window is "
                f"{window} days, so you have until {facts['return_deadline']}. Start the return from the Orders page of your account.")
    elif result.status == "already_returned":
        text = f"Order {facts['order_id']} has already been returned, so there is nothing left to return."
    else:
        text = (f"I'm sorry, order {facts['order_id']} was placed on {facts['placed_on']}, {facts['days_since_order']} days ago, "
                f"which is outside our {window}-day return window (it ended on {facts['return_deadline']}). "
                "If the item is damaged or faulty, ask for a human agent and we will look at it.")
    return Composed(text, result.sources, [text])


def product_facts(result: ToolResult) -> Composed:
    facts = result.facts
    parts = [f"{facts['title'] or facts['item_id']} (item {facts['item_id']})"]
    attributes = facts.get("attributes", {})
    asked = facts.get("asked_attributes") or []
    if asked:
        parts.append("; ".join(f"{key.replace('_', ' ')}: {attributes[key]}" for key in asked))
    else:
        for key in ("category", "brand", "price"):
            if facts.get(key):
                parts.append(f"{key}: {facts[key]}")
        parts.extend(f"{key.replace('_', ' ')}: {value}" for key, value in list(attributes.items())[:6])
    if "in_stock" in facts:
        parts.append("in stock" if facts["in_stock"] else "currently out of stock")
    text = " — ".join(parts[:1]) + (": " + "; ".join(parts[1:]) if len(parts) > 1 else "") + "."
    return Composed(text, result.sources, [text])


def review_fit(result: ToolResult) -> Composed:
    facts = result.facts
    counts = facts["counts"]
    verdict = {"runs_small": "runs small", "runs_large": "runs large", "true_to_size": "fits true to size"}[facts["verdict"]]
    quotes = " ".join(f"“{snippet}”" for snippet in facts["snippets"])
    text = (f"Of {facts['reviews']} reviews of {facts['scope']}, {counts['runs_small']} say it runs small, "
            f"{counts['runs_large']} that it runs large and {counts['true_to_size']} that it is true to size — "
            f"most reviewers think it {verdict}. {quotes}")
    return Composed(text.strip(), result.sources, [text])


def greeting() -> Composed:
    return Composed(f"Hello! I can help with {SCOPE}. What can I do for you?")


def out_of_scope() -> Composed:
    return Composed(f"Sorry, I can only help with questions about this shop: {SCOPE}. "
                    "Could you rephrase that, or ask for a human agent?")


def handoff(reason: str) -> Composed:
    lead = {"requested": "Of course.", "low_confidence": "I'm not sure I understood you correctly."}.get(reason, "")
    return Composed(f"{lead} I have passed our conversation, with a summary, to our customer service team; a person "
                    "will reply here as soon as possible (Monday to Friday 8 am–8 pm, Saturday 9 am–5 pm).".strip(),
                    [{"id": "contact.md#talking-to-a-person", "title": "Contact and customer service — Talking to a person", "kind": "doc"}])
