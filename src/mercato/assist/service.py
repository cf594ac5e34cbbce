"""The assistant: one chat turn from message to grounded answer, with handoff and a redacted log.

A turn embeds the message once (the vector serves the intent classifier, retrieval and sentence
extraction), classifies it, runs the tool or retrieval its intent calls for, composes the answer
(templates + extractive, optionally reworded by an LLM), decides on a handoff, and stores the turn
with personal data redacted.

Handoff happens on an explicit request (intent ``human_agent``), on a recognized intent whose
confidence is below ``handoff_confidence``, and on a second out-of-scope message in a row — the
customer is evidently not being helped, so a person takes over rather than a third "sorry".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

from mercato.assist import composer
from mercato.assist.composer import Composed, Extractor
from mercato.assist.documents import Passage, item_passage
from mercato.assist.embedder import Embedder
from mercato.assist.intents import OOS, IntentClassifier
from mercato.assist.redact import redact
from mercato.assist.retrieval import HybridRetriever
from mercato.assist.reviews import ReviewSnippets
from mercato.assist.tools import OrderTools, ProductTools, order_ids_in
from mercato.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
MAX_ID_CHARS = 200
RETURN_TAIL = "Tell me your order number and I will check whether it can still be returned."


@dataclass
class ChatAnswer:
    session_id: str
    answer: str
    intent: str
    confidence: float
    sources: list[dict]
    handoff: bool
    handoff_reason: str | None = None
    handoff_id: int | None = None
    tool: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _check_id(value, name: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-empty string", field=name)
    if len(value) > MAX_ID_CHARS:
        raise InvalidInput(f"{name} must be at most {MAX_ID_CHARS} characters", field=name)
    return value.strip()


class Assistant:
    def __init__(
        self,
        *,
        classifier: IntentClassifier,
        embedder: Embedder,
        intent_embedder: Embedder | None = None,
        docs: list[Passage],
        orders: OrderTools,
        products: ProductTools,
        reviews: ReviewSnippets,
        transcripts,
        llm=None,
        handoff_confidence: float = 0.3,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.classifier = classifier
        self.embedder = embedder
        self.intent_embedder = intent_embedder or embedder  # fine-tuned top layers, when trained with them
        self.docs = HybridRetriever(docs, embedder)
        self.extractor = Extractor(docs, embedder)
        self.orders = orders
        self.products = products
        self.catalog = HybridRetriever([item_passage(i) for i in products.items.values()], embedder, dense=False)
        self.reviews = reviews
        self.transcripts = transcripts
        self.llm = llm
        self.handoff_confidence = handoff_confidence
        self.clock = clock or (lambda: datetime.now(UTC))

    # ---- one turn ------------------------------------------------------------------------------
    def chat(self, session_id: str, message: str, user_id: str | None = None) -> ChatAnswer:
        session_id = _check_id(session_id, "session_id", required=True)
        user_id = _check_id(user_id, "user_id", required=False)
        if not isinstance(message, str) or not message.strip():
            raise InvalidInput("message must be a non-empty string", field="message")
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidInput(f"message must be at most {MAX_MESSAGE_CHARS} characters", field="message")
        message = message.strip()
        now = self.clock()

        vector = self.intent_embedder.encode([message])  # (1, D)
        prediction = self.classifier.predict([message], vector)[0]
        intent, confidence = prediction.intent, prediction.confidence

        reason = None
        if intent == "human_agent":
            reason = "requested"
        elif intent == OOS:
            previous = self.transcripts.turns(session_id, limit=1)
            if previous and previous[-1]["intent"] == OOS:
                reason = "repeated_out_of_scope"
        elif confidence < self.handoff_confidence:
            reason = "low_confidence"

        tool = None
        if reason is not None:
            composed = composer.handoff(reason)
        elif intent == OOS:
            composed = composer.out_of_scope()
        else:
            composed, tool = self._answer(intent, message, user_id, vector[0], now)
            if self.llm is not None and composed.context:
                composed.text = self.llm.write(message, composed.text, composed.context) or composed.text

        handoff_id = None
        safe_message, safe_answer = redact(message), redact(composed.text)
        if reason is not None:
            summary = self._summary(session_id, user_id, safe_message, intent, prediction.top_intent, reason)
            handoff_id = self.transcripts.add_handoff(session_id, user_id, reason, summary, at=now)
        self.transcripts.add_turn(session_id, user_id, safe_message, safe_answer, intent, confidence, reason is not None,
                                  composed.sources, at=now)
        log.info("assist session=%s intent=%s confidence=%.3f handoff=%s message=%r", session_id, intent, confidence, reason, safe_message)
        return ChatAnswer(session_id, composed.text, intent, round(confidence, 4), composed.sources, reason is not None,
                          reason, handoff_id, tool)

    def _answer(self, intent: str, message: str, user_id: str | None, vector: np.ndarray, now: datetime) -> tuple[Composed, dict | None]:
        if intent == "greeting":
            return composer.greeting(), None
        if intent == "order_status":
            result = self.orders.order_status(user_id, message)
            return composer.order_status(result), {"name": result.name, "status": result.status}
        if intent == "return_request" and order_ids_in(message):
            result = self.orders.return_eligibility(user_id, message, now)
            return composer.return_eligibility(result), {"name": result.name, "status": result.status}
        if intent in ("product_info", "fit_and_size"):
            item = self.products.item_named_in(message) or self._catalog_match(message)
            if intent == "fit_and_size":
                clothing_id = item.attributes.get("clothing_id") if item is not None else None
                context = " ".join([item.title, *item.category]) if item is not None else ""
                result = self.reviews.fit(message, clothing_id=clothing_id, context=context)
                if result.status == "found":
                    composed = composer.review_fit(result)
                    if item is not None:
                        composed.sources.insert(0, self.products.facts(item).sources[0])
                    return composed, {"name": result.name, "status": result.status}
            if item is not None and intent == "product_info":
                result = self.products.facts(item, message)
                return composer.product_facts(result), {"name": result.name, "status": result.status}
        tail = RETURN_TAIL if intent == "return_request" else ""
        hits = self.docs.search(message, k=3, query_vector=vector, kind="doc")
        return composer.from_documents(self.extractor, hits, vector, tail=tail), None

    def _catalog_match(self, message: str):
        hits = self.catalog.search(message, k=1)
        if hits and hits[0].bm25_rank is not None:
            return self.products.items[hits[0].passage.source.removeprefix("item:")]
        return None

    def _summary(self, session_id: str, user_id: str | None, safe_message: str, intent: str, top_intent: str, reason: str) -> str:
        earlier = self.transcripts.turns(session_id, limit=5)
        asked = [turn["message"] for turn in earlier] + [safe_message]
        intents = [turn["intent"] for turn in earlier] + [intent]
        orders = sorted({o for text in asked for o in order_ids_in(text)})
        why = {"requested": "customer asked for a person", "low_confidence": f"unsure of the request (best guess: {top_intent})",
               "repeated_out_of_scope": "two messages in a row were outside what the assistant handles"}[reason]
        lines = [f"Handoff: {why}.", f"Customer: {user_id or 'not signed in'}.", f"Intents so far: {', '.join(intents)}."]
        if orders:
            lines.append(f"Orders mentioned: {', '.join(orders)}.")
        lines.append("Recent messages: " + " | ".join(asked[-4:]))
        return " ".join(lines)

    def close(self) -> None:
        self.transcripts.close()
        close = getattr(self.orders.store, "close", None)
        if close is not None:
            close()
