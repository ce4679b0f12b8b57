"""docs/protocol.md documents every topic and shows every valid golden example, as they are."""

from pathlib import Path

import golden
from protocol import topics
from tools import protocol_docs


def test_documented_examples_are_the_golden_ones():
    text = protocol_docs.DOC.read_text()
    assert protocol_docs.render(text) == text, "run: python -m tools.protocol_docs"


def test_every_golden_example_and_every_topic_is_documented():
    text = protocol_docs.DOC.read_text()
    for doc in golden.load("valid"):
        assert f"<!-- example: {Path(doc['name']).stem} -->" in text, doc["name"]
    for kind in topics.KINDS:
        assert f"## `{kind}`" in text, kind
