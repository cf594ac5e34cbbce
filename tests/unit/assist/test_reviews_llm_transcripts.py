"""Review snippets (and their absence), the optional LLM writer against a fake local server, the transcript store."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mercato.assist.llm import LLMWriter
from mercato.assist.reviews import ReviewSnippets
from mercato.assist.testing import write_reviews
from mercato.errors import Conflict, InvalidInput, NotFound
from mercato.storage.transcripts import TranscriptStore


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    return ReviewSnippets.load(write_reviews(tmp_path_factory.mktemp("r") / "reviews.parquet"))


def test_fit_verdict_by_clothing_id(reviews):
    result = reviews.fit("does it run small?", clothing_id=1078)
    assert result.status == "found"
    assert result.facts["counts"] == {"runs_small": 3, "runs_large": 0, "true_to_size": 1}
    assert result.facts["verdict"] == "runs_small" and result.facts["reviews"] == 4  # the empty review is dropped
    # The most helpful review is quoted first, by the sentence that carries the verdict.
    assert result.facts["snippets"][0] == "It runs small, order a size up." and result.sources[0]["id"] == "review:0"


def test_fit_by_class_named_in_the_message(reviews):
    result = reviews.fit("do your jeans fit true to size?")
    assert result.facts["scope"] == "jeans" and result.facts["verdict"] == "true_to_size"
    assert reviews.fit("does it run small?").status == "no_product"


def test_missing_reviews_file_degrades_to_unavailable(tmp_path):
    for missing in (None, tmp_path / "absent.parquet"):
        snippets = ReviewSnippets.load(missing)
        assert not snippets.available and snippets.fit("does it run small", clothing_id=1078).status == "unavailable"


class FakeLLM(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeLLM.received.append((self.path, self.headers.get("Authorization"), body))
        if "break" in body["messages"][-1]["content"]:
            self.send_response(500)
            self.end_headers()
            return
        reply = {"choices": [{"message": {"role": "assistant", "content": " Reworded: " + body["messages"][-1]["content"][-12:]}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def llm_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_llm_writer_posts_openai_chat_completions(llm_url):
    FakeLLM.received.clear()
    writer = LLMWriter(llm_url, model="tiny", api_key="k", timeout_s=5)
    assert writer.write("where is it", "draft", ["[shipping.md#x] Parcels take 3 days."]) == "Reworded: \nwhere is it"
    path, auth, body = FakeLLM.received[0]
    assert path == "/v1/chat/completions" and auth == "Bearer k" and body["model"] == "tiny"
    assert "Parcels take 3 days." in body["messages"][1]["content"]


def test_llm_failure_returns_none_so_the_template_stands(llm_url):
    assert LLMWriter(llm_url).write("please break", "draft", ["ctx"]) is None
    assert LLMWriter("http://127.0.0.1:9/v1", timeout_s=0.5).write("hi", "draft", ["ctx"]) is None  # nothing listens on 9


def test_transcripts_are_durable_and_the_queue_moves(tmp_path):
    path = tmp_path / "t.db"
    store = TranscriptStore(path)
    store.add_turn("s", "u", "hello", "hi!", "greeting", 0.9, False, [{"id": "a", "title": "A", "kind": "doc"}])
    handoff = store.add_handoff("s", "u", "requested", "summary text")
    store.close()
    reopened = TranscriptStore(f"sqlite:///{path}")
    assert reopened.turns("s")[0]["sources"] == [{"id": "a", "title": "A", "kind": "doc"}]
    assert [h["handoff_id"] for h in reopened.handoffs()] == [handoff]
    reopened.set_handoff_status(handoff, "claimed")
    assert reopened.handoffs() == [] and reopened.handoffs("claimed")[0]["summary"] == "summary text"
    with pytest.raises(NotFound):
        reopened.set_handoff_status(999, "closed")
    with pytest.raises(InvalidInput):
        reopened.handoffs("lost")
    reopened.close()


def test_handoff_status_moves_forward_and_a_closed_one_stays_closed(tmp_path):
    store = TranscriptStore(tmp_path / "t.db")
    first, second = store.add_handoff("a", None, "requested", "one"), store.add_handoff("b", None, "low_confidence", "two")
    assert [h["handoff_id"] for h in store.handoffs(limit=1)] == [first]
    assert store.set_handoff_status(first, "claimed")["status"] == "claimed"
    assert store.set_handoff_status(first, "pending")["status"] == "pending"  # a claim can be released
    assert store.set_handoff_status(first, "closed")["status"] == "closed"
    with pytest.raises(Conflict):
        store.set_handoff_status(first, "claimed")
    assert store.set_handoff_status(first, "closed")["status"] == "closed"  # repeating the last move is harmless
    assert [h["handoff_id"] for h in store.handoffs(None)] == [first, second]
    assert store.handoff(second) == {"handoff_id": second, "session_id": "b", "user_id": None, "at": store.handoff(second)["at"],
                                     "reason": "low_confidence", "summary": "two", "status": "pending"}
    with pytest.raises(NotFound):
        store.handoff(999)
    store.close()
