"""One validated settings object, built once at the edge (the CLI, later the app factory).

Values come from keyword arguments, then ``MERCATO_*`` environment variables, then an
optional TOML file (``mercato.example.toml`` documents every key). Unknown keys are errors.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from mercato.errors import InvalidInput


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_", extra="forbid")

    store_url: str = "sqlite:///var/mercato.db"
    """Where events, items and users live: sqlite:///path.db or postgresql://user@host/db."""
    model_dir: Path = Path("var/models")
    """Folder for trained model artifacts, one sub-folder per model."""
    data_dir: Path | None = None
    """Folder of benchmark datasets laid out as <data_dir>/<dataset>/<files>; only for evaluation."""
    serve_host: str = "127.0.0.1"
    """Address `mercato serve` listens on (0.0.0.0 to accept connections from other machines)."""
    serve_port: int = Field(default=8000, ge=0, le=65535)
    """Port `mercato serve` listens on."""
    serve_model: str = "itemknn"
    """Recommender the server trains when its registry has no live version, and refits."""
    serve_model_params: dict[str, Any] = {}
    """Hyper-parameters of serve_model, e.g. {max_minutes = 5} for the sequential model."""
    refit_interval_s: float = Field(default=300.0, ge=0)
    """Seconds between refits of the served model on the store's events; 0 turns refits off."""
    refit_min_events: int = Field(default=1000, ge=1)
    """New interactions needed before a scheduled refit runs."""
    fine_tune_events: int = Field(default=256, ge=1)
    """New interactions per fine-tuning step of a model that learns incrementally (the sequential model)."""
    interaction_types: list[str] = ["view", "add_to_cart", "purchase"]
    """Event types the served model learns from."""
    history_length: int = Field(default=50, ge=1, le=1000)
    """Latest item events per user the server scores a personalized request with."""
    assist_embedding_model: str = "all-MiniLM-L6-v2"
    """Sentence embedder of the assistant: the bundled all-MiniLM-L6-v2, a sentence-transformers folder, or "hashing"."""
    assist_docs_dir: Path | None = None
    """Folder of the shop's Markdown FAQ/policy pages the assistant answers from (default: the bundled examples)."""
    assist_intents_path: Path | None = None
    """YAML of the assistant's intents and example utterances (default: the bundled shop intents)."""
    assist_reviews_path: Path | None = None
    """Women's Clothing E-Commerce Reviews parquet for fit questions; unset or absent: no review snippets."""
    assist_transcripts_path: Path = Path("var/assist/transcripts.db")
    """SQLite file of the assistant's redacted transcripts and its human handoff queue."""
    assist_cache_dir: Path = Path("var/assist/embeddings")
    """Folder caching embeddings of training texts, so re-training does not re-embed them."""
    assist_return_window_days: int = Field(default=30, ge=0)
    """Days after the order date within which an order can be returned (keep it in line with the returns page)."""
    assist_handoff_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    """A recognized intent below this probability hands the conversation to a person instead of answering."""
    assist_llm_url: str | None = None
    """Base URL of an OpenAI-compatible API (…/v1) that rewords answers; unset: template answers, no LLM."""
    assist_llm_model: str = "default"
    """Model name sent to the LLM endpoint."""
    assist_llm_api_key: str | None = None
    """Bearer token for the LLM endpoint, if it needs one."""
    assist_llm_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds to wait for the LLM before answering with the template."""
    risk_rules_file: Path | None = None
    """YAML/JSON rules file of POST /v1/risk/score (thresholds and rules); unset: the built-in rules."""
    risk_label_maturity_days: float = Field(default=60.0, gt=0)
    """Days after which a payment with no chargeback counts as legitimate when `mercato risk train` learns."""

    @classmethod
    def from_file(cls, path: str | Path, **overrides) -> Settings:
        path = Path(path)
        try:
            values = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise InvalidInput(f"settings file {path} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"settings file {path}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.build(**values)

    @classmethod
    def build(cls, **values) -> Settings:
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InvalidInput(f"invalid settings: {problems}") from None
