"""``open_assistant(settings)``: the assistant built from the settings — model, embedder, docs,
catalog, reviews, transcripts and the optional LLM. Used by the HTTP routes and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from mercato.assist.documents import load_docs
from mercato.assist.embedder import Embedder, SentenceEmbedder, embedder_for
from mercato.assist.finetune import ENCODER_FILE
from mercato.assist.intents import IntentClassifier
from mercato.assist.llm import LLMWriter
from mercato.assist.reviews import ReviewSnippets
from mercato.assist.service import Assistant
from mercato.assist.tools import OrderTools, ProductTools
from mercato.errors import Conflict


def model_dir(settings) -> Path:
    return Path(settings.model_dir) / "assist"


def open_assistant(settings, *, embedder: Embedder | None = None, clock: Callable[[], datetime] | None = None) -> Assistant:
    from mercato.storage import open_store
    from mercato.storage.confined import ThreadConfinedStore
    from mercato.storage.transcripts import TranscriptStore

    classifier = IntentClassifier.load(model_dir(settings))  # NotFound: "run `mercato assist train` first"
    embedder = embedder or embedder_for(settings.assist_embedding_model)
    intent_embedder = embedder
    tuned = model_dir(settings) / ENCODER_FILE
    if tuned.is_file() and isinstance(embedder, SentenceEmbedder):
        # Intents were learned on fine-tuned top layers; retrieval keeps the base model.
        intent_embedder = SentenceEmbedder(embedder.model_path, threads=embedder.threads, top_layers=tuned)
    if classifier.embedding_model != intent_embedder.model_id:
        raise Conflict(f"the assistant's intent model was trained with embedder {classifier.embedding_model!r} but "
                       f"assist_embedding_model gives {intent_embedder.model_id!r}; run `mercato assist train` again")
    # Tools answer on the server's worker threads; a confined store serializes calls on one connection.
    store = ThreadConfinedStore(lambda: open_store(settings.store_url))
    try:
        items = store.read_items()
        transcripts = TranscriptStore(settings.assist_transcripts_path)
    except BaseException:
        store.close()
        raise
    llm = None
    if settings.assist_llm_url:
        llm = LLMWriter(settings.assist_llm_url, model=settings.assist_llm_model, api_key=settings.assist_llm_api_key,
                        timeout_s=settings.assist_llm_timeout_s)
    return Assistant(
        classifier=classifier,
        embedder=embedder,
        intent_embedder=intent_embedder,
        docs=load_docs(settings.assist_docs_dir),
        orders=OrderTools(store, return_window_days=settings.assist_return_window_days),
        products=ProductTools(items),
        reviews=ReviewSnippets.load(settings.assist_reviews_path),
        transcripts=transcripts,
        llm=llm,
        handoff_confidence=settings.assist_handoff_confidence,
        clock=clock,
    )
