"""``POST /v1/assist/chat``: one turn of the customer-service assistant.

The assistant (intent model, embedder, docs, catalog) is opened on the first request, not at
start-up, so a server without a trained assistant still serves everything else; until
``mercato assist train`` has run, the endpoint answers 404 naming that command. Bad input is
422 naming the field, through the common error mapping.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mercato.settings import Settings


class ChatRequest(BaseModel):
    session_id: Annotated[str, Field(min_length=1, max_length=200, description="conversation id chosen by the client")]
    message: Annotated[str, Field(min_length=1, max_length=2000, description="the customer's message")]
    user_id: Annotated[str | None, Field(default=None, min_length=1, max_length=200,
                                         description="signed-in customer; orders are only shown to their owner")] = None


class Source(BaseModel):
    id: str
    title: str
    kind: str


class ChatResponse(BaseModel):
    session_id: str
    answer: str
    intent: str
    confidence: float
    sources: list[Source]
    handoff: bool
    handoff_reason: str | None = None
    handoff_id: int | None = None
    tool: dict | None = None


class AssistantHolder:
    """Opens the assistant once, on first use; a failed open is retried on the next request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._assistant = None

    def get(self):
        from mercato.assist.runtime import open_assistant

        with self._lock:
            if self._assistant is None:
                self._assistant = open_assistant(self.settings)
            return self._assistant

    def close(self) -> None:
        with self._lock:
            if self._assistant is not None:
                self._assistant.close()
                self._assistant = None


def assist_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1/assist", tags=["assist"])
    holder = AssistantHolder(settings)
    router.holder = holder  # the app's lifespan closes it

    @router.post("/chat", response_model=ChatResponse)
    async def chat(request: ChatRequest) -> dict:
        def answer() -> dict:
            return holder.get().chat(request.session_id, request.message, request.user_id).to_dict()

        return await run_in_threadpool(answer)

    return router
