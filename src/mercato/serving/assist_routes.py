"""``POST /v1/assist/chat``: one turn of the customer-service assistant; and the human handoff
queue: ``GET /v1/assist/handoffs``, ``GET`` and ``POST /v1/assist/handoffs/{id}``.

The assistant (intent model, embedder, docs, catalog) is opened on the first request, not at
start-up, so a server without a trained assistant still serves everything else; until
``mercato assist train`` has run, the endpoint answers 404 naming that command. Bad input is
422 naming the field, through the common error mapping. The handoff queue reads the transcript
file on its own connection, so agents can work the queue whether or not the assistant is loaded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from mercato.serving.lazy import Lazy
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


# SQLite integers are 64-bit: a larger id is a 422, not an overflow deep in the driver.
HandoffId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class Handoff(BaseModel):
    handoff_id: int
    session_id: str
    user_id: str | None
    at: str
    reason: str = Field(description="requested | low_confidence | repeated_out_of_scope")
    summary: str = Field(description="for the agent: the customer, the intents so far, what was asked (redacted)")
    status: Literal["pending", "claimed", "closed"]


class HandoffWithTurns(Handoff):
    turns: list[dict] = Field(description="the conversation so far, oldest first, redacted")


class HandoffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "claimed", "closed"] = Field(
        description="claimed: an agent took it; pending: released back to the queue; closed: done (final)")


class AssistantHolder:
    """The assistant and the handoff queue, each opened on first use."""

    def __init__(self, settings: Settings) -> None:
        def assistant():
            from mercato.assist.runtime import open_assistant  # the assistant's imports wait for its first use

            return open_assistant(settings)

        def queue():
            from mercato.storage.transcripts import TranscriptStore

            return TranscriptStore(settings.assist_transcripts_path)

        self.assistant = Lazy(assistant)
        self.queue = Lazy(queue)

    def close(self) -> None:
        self.assistant.close()
        self.queue.close()


def assist_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1/assist", tags=["assist"])
    holder = AssistantHolder(settings)
    router.holder = holder  # the app's lifespan closes it

    @router.post("/chat", response_model=ChatResponse)
    async def chat(request: ChatRequest) -> dict:
        def answer() -> dict:
            return holder.assistant.get().chat(request.session_id, request.message, request.user_id).to_dict()

        return await run_in_threadpool(answer)

    @router.get("/handoffs", response_model=list[Handoff])
    async def list_handoffs(
        status: Annotated[Literal["pending", "claimed", "closed", "all"], Query()] = "pending",
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[dict]:
        """The human queue, oldest first: conversations the assistant handed over."""
        return await run_in_threadpool(lambda: holder.queue.get().handoffs(None if status == "all" else status, limit=limit))

    @router.get("/handoffs/{handoff_id}", response_model=HandoffWithTurns)
    async def get_handoff(handoff_id: HandoffId) -> dict:
        """One handoff with its conversation, for the agent who takes it."""
        def read() -> dict:
            queue = holder.queue.get()
            handoff = queue.handoff(handoff_id)
            return {**handoff, "turns": queue.turns(handoff["session_id"])}

        return await run_in_threadpool(read)

    @router.post("/handoffs/{handoff_id}", response_model=Handoff)
    async def update_handoff(handoff_id: HandoffId, update: HandoffUpdate) -> dict:
        """Claim, release or close a handoff; 409 if it is closed already (or moved meanwhile)."""
        return await run_in_threadpool(lambda: holder.queue.get().set_handoff_status(handoff_id, update.status))

    return router
