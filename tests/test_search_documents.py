"""The search document PostgreSQL stores for a text is what reading the text one token at a time gives:
every character and overlapping pair of a Chinese run and every ASCII word, at their positions, with
their weights, within PostgreSQL's limits."""

import pickle
import re

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.search_text import LONG, MAX_POSITION, MAX_POSITIONS_PER_TOKEN, document, fold

pytestmark = pytest.mark.django_db

WEIGHT_LETTERS = "ABD"
# Chinese, full-width and half-width letters and digits, and what separates words.
TEXT = st.text(alphabet="宁德时代茅台的股ABab12ＥＴＦ５ 。，,-_", max_size=60)


def one_token_at_a_time(*weighted_texts):
    """{token: [(position, weight)]} read character by character: the tokeniser's rules, plainly."""
    tokens = {}
    position = 1
    for text, weight in weighted_texts:
        if not text:
            continue
        for run in re.findall(r"[a-z0-9]+|[^\W_a-z0-9]+|[\W_]+", fold(text)):
            if re.fullmatch(r"[a-z0-9]+", run):
                parts = re.findall(r"[a-z]+|[0-9]+", run)
                for token in dict.fromkeys([run, *parts] if len(parts) > 1 else [run]):
                    tokens.setdefault(token, []).append((position, weight))
                position += 1
            elif re.fullmatch(r"[\W_]+", run):
                position += 1
            else:
                for offset, character in enumerate(run):
                    tokens.setdefault(character, []).append((position + offset, weight))
                for offset in range(len(run) - 1):
                    tokens.setdefault(run[offset : offset + 2], []).append((position + offset, weight))
                position += len(run)
        position += 1
    return {token: sorted(positions) for token, positions in tokens.items()}


def stored(built):
    """{token: [(position, weight)]} of the tsvector PostgreSQL makes of a document."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT lexeme, positions, weights FROM unnest(%s::tsvector)", [built])
        return {token: list(zip(positions or [], weights or [], strict=True)) for token, positions, weights in cursor}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.tuples(TEXT, st.sampled_from(WEIGHT_LETTERS)), max_size=4))
def test_postgresql_stores_every_token_at_its_positions_with_its_weight(texts):
    assert stored(document(*texts)) == one_token_at_a_time(*texts)


def test_positions_past_postgresqls_limit_are_dropped_and_their_tokens_kept(db):
    text = "行" * MAX_POSITION + "茅台"

    tokens = stored(document((text, "D")))

    assert tokens["茅台"] == [] and tokens["台"] == []
    assert tokens["行茅"] == [(MAX_POSITION, "D")]
    assert LONG in tokens


def test_a_token_past_its_share_of_positions_keeps_the_first_ones_and_marks_the_document(db):
    text = " ".join(["etf"] * (MAX_POSITIONS_PER_TOKEN + 10))

    tokens = stored(document((text, "B")))

    assert tokens["etf"] == [(2 * n + 1, "B") for n in range(MAX_POSITIONS_PER_TOKEN)]
    assert LONG in tokens


def test_an_ordinary_post_is_not_marked_long(db):
    assert LONG not in stored(document(("宁德时代发布公告", "A"), ("拟回购 ETF 份额", "D")))


def test_a_document_sent_by_a_parse_worker_is_written_as_it_was_built(db):
    built = document(("宁德时代", "A"), ("sh600519 涨停", "D"))

    assert stored(pickle.loads(pickle.dumps(built))) == stored(built)
