"""Hybrid retrieval and documents: known passages for known questions, rank diagnostics, RRF arithmetic."""

import pytest

from mercato.assist.documents import load_docs, parse_markdown
from mercato.assist.embedder import HashingEmbedder
from mercato.assist.retrieval import RRF_K, HybridRetriever
from mercato.errors import NotFound

MARKDOWN = """# Help

## Returns

Return any item within 30 days for a refund.

## Shipping

Parcels arrive in 3 days. Express arrives tomorrow.

## Payment

We accept cards and PayPal.
"""


@pytest.fixture(scope="module")
def retriever():
    return HybridRetriever(parse_markdown("help.md", MARKDOWN), HashingEmbedder())


def test_markdown_sections_become_cited_passages():
    passages = parse_markdown("help.md", MARKDOWN)
    assert [p.source for p in passages] == ["help.md#returns", "help.md#shipping", "help.md#payment"]
    assert passages[1].title == "Help — Shipping" and passages[1].sentences() == ["Parcels arrive in 3 days.", "Express arrives tomorrow."]


@pytest.mark.parametrize(("query", "expected"), [
    ("can I get a refund", "help.md#returns"),
    ("do you accept paypal", "help.md#payment"),
    ("when does my parcel arrive", "help.md#shipping"),
])
def test_known_question_finds_its_section(retriever, query, expected):
    hits = retriever.search(query, k=3)
    assert hits[0].passage.source == expected


def test_fused_score_is_reciprocal_rank_of_both_retrievers(retriever):
    top = retriever.search("refund", k=1)[0]
    assert top.bm25_rank == 1 and top.dense_rank == 1
    assert top.score == pytest.approx(2 / (RRF_K + 1))


def test_stopword_only_query_falls_back_to_embeddings(retriever):
    hits = retriever.search("the of and", k=2)
    assert len(hits) == 2 and all(h.bm25_rank is None for h in hits)


def test_bm25_only_retriever_and_empty_corpus():
    lexical = HybridRetriever(parse_markdown("help.md", MARKDOWN), HashingEmbedder(), dense=False)
    hit = lexical.search("paypal", k=1)[0]
    assert hit.passage.source == "help.md#payment" and hit.dense_rank is None
    assert HybridRetriever([], HashingEmbedder()).search("anything") == []


def test_bundled_docs_cover_the_shop_topics(tmp_path):
    sources = {p.source.split("#")[0] for p in load_docs(None)}
    assert {"returns.md", "shipping.md", "payment.md", "sizing.md", "account.md", "contact.md"} <= sources
    with pytest.raises(NotFound, match="assist_docs_dir"):
        load_docs(tmp_path / "missing")


def test_assist_imports_no_other_capability():
    import subprocess
    import sys

    code = ("import sys, mercato.assist.runtime, mercato.assist.commands, mercato.assist.testing; "
            "print(sorted(m for m in sys.modules if m.startswith(('mercato.recommend', 'mercato.risk', 'mercato.forecast'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
