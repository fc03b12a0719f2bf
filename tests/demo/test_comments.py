"""Comment templates: each theme's pattern finds its own comments and nobody else's."""

from __future__ import annotations

import json
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.demo import frame as fr
from journeykit.demo.comments import SETS, THEME_NAMES, THEMES, cores, make_texts, theme_of


def test_every_core_matches_exactly_its_own_theme():
    for (theme, _sentiment), texts in zip(SETS, cores(), strict=True):
        for text in texts:
            hits = [name for name, pattern in THEMES.items() if re.search(pattern, text.lower())]
            assert hits == ([] if theme == "general" else [theme]), text


def test_templates_need_no_json_escaping():
    for texts in cores():
        for text in texts:
            assert json.dumps(text) == f'"{text}"'


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), codes=st.lists(st.integers(0, len(SETS) - 1), max_size=60))
def test_generated_texts_carry_the_theme_they_were_drawn_for(seed, codes):
    sets = np.array(codes, dtype=np.int64)
    texts = make_texts(np.random.default_rng(seed), sets)
    assert len(texts) == len(codes)
    expected = [
        THEME_NAMES.index(SETS[c][0]) if SETS[c][0] in THEMES else len(THEME_NAMES) - 1
        for c in codes
    ]
    assert theme_of(texts).tolist() == expected
    # they also survive being written into a JSON object and read back
    props = fr.obj(len(codes), [("comment", fr.text(texts))]).to_pylist()
    assert [json.loads(p)["comment"] for p in props] == texts.to_pylist()


def test_texts_vary_and_repeat_for_a_seed():
    sets = np.arange(len(SETS)).repeat(200)
    a = make_texts(np.random.default_rng(5), sets).to_pylist()
    b = make_texts(np.random.default_rng(5), sets).to_pylist()
    assert a == b
    assert len(set(a)) > 1000
    assert any(t == t.lower() and t[0].isalpha() for t in a)  # some written all in lower case
    assert any(t[0].isupper() for t in a)
