"""A check reads each rule's id, name and severity without the YAML parser: it must read them
exactly as the parser does, and leave every other form of YAML to the parser."""
from __future__ import annotations

import pytest

from migrasafe.rules import registry


def test_headers_match_the_full_documents():
    registry._headers.cache_clear()
    headers = registry._headers()
    docs = registry._rules()
    assert set(headers) == set(docs)
    for rule_id, doc in docs.items():
        assert (headers[rule_id].name, headers[rule_id].severity) == (doc.name, doc.severity), rule_id


def test_lookup_by_name_or_id_agrees():
    for doc in registry.all_rules():
        assert registry.find_rule(doc.name).id == doc.id
        assert registry.find_rule(doc.id.lower()).name == doc.name
    assert registry.find_rule("no-such-rule") is None


@pytest.mark.parametrize("text", [
    "id: MS001\nname: 'quoted-name'\nseverity: error\n",
    "id: MS001\nname: x\nseverity: error  # trailing comment\n",
    "id: MS001\nname: >\n  folded\nseverity: error\n",
    "id: MS001\nseverity: error\n",  # no name
    "id: MS001\n  name: nested\nseverity: error\n",
])
def test_anything_but_plain_top_level_scalars_is_left_to_yaml(text):
    assert registry.read_header(text) is None


def test_plain_header_is_read():
    text = "id: MS001\nname: index-without-concurrently\nseverity: error\nsummary: |\n  id: not this\n"
    assert registry.read_header(text) == {"id": "MS001", "name": "index-without-concurrently", "severity": "error"}
