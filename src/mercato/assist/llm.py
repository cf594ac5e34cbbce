"""An optional LLM answer writer behind an OpenAI-compatible ``/chat/completions`` endpoint.

Only the wording changes: the LLM gets the template answer and the retrieved passages, and is
told to use nothing else; the sources stay those of the grounding. Any failure (unreachable,
timeout, non-200, malformed reply) falls back to the template answer, so the assistant never
depends on the LLM being up. Standard library HTTP only: the server needs no client package.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are the customer-service assistant of an online shop. Answer the customer's message using ONLY the facts in "
    "the context. Keep it short and friendly. Do not invent order details, prices, dates or policies. If the context "
    "does not answer the question, say so."
)


class LLMWriter:
    def __init__(self, url: str, *, model: str = "default", api_key: str | None = None, timeout_s: float = 10.0) -> None:
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s

    def write(self, message: str, draft: str, context: list[str]) -> str | None:
        """The LLM's answer, or None when it cannot be had (the caller keeps ``draft``)."""
        grounding = "\n".join(context) or draft
        payload = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Context:\n{grounding}\n\nDraft answer:\n{draft}\n\nCustomer message:\n{message}"},
            ],
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.endpoint, data=json.dumps(payload).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = json.loads(response.read())
            text = body["choices"][0]["message"]["content"]
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("LLM endpoint %s failed (%s); using the template answer", self.endpoint, type(exc).__name__)
            return None
        return text.strip() if isinstance(text, str) and text.strip() else None
