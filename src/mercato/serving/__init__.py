"""The HTTP API: ``create_app(settings)`` builds it, ``mercato serve`` runs it on uvicorn."""

from mercato.serving.app import create_app

__all__ = ["create_app"]
