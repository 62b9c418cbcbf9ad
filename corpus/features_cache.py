"""The archive's analysed texts kept on disk, so a process that loads the archive does not run spaCy over
10,000 entries again (100 s on two cores) when neither the texts nor the analysis parameters changed.

One pickle file per data directory, written atomically, holding the analysis fingerprint and the
features without their vectors (those come from the embedding cache). A file with another fingerprint,
or one that cannot be read, is ignored: the features are then analysed again and the file rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

from screening.features import DocFeatures
from screening.params import Parameters

log = logging.getLogger("saring")

FORMAT = 1


def fingerprint(params: Parameters, *, code_version: str) -> str:
    """What the analysis of a text depends on besides the text: text parameters, shingle size, the code."""
    import spacy

    parts = {
        "format": FORMAT,
        "text": params.text.model_dump(mode="json"),
        "shingle_size": params.duplication.shingle_size,
        "code": code_version,
        "spacy": spacy.__version__,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def load_features(path: Path, *, fingerprint: str) -> dict[str, DocFeatures]:
    """The cached features by document key, or nothing when the file is missing, stale or unreadable."""
    try:
        with path.open("rb") as f:
            stored, feats = pickle.load(f)  # our own file, in the data directory
    except FileNotFoundError:
        return {}
    except Exception as e:  # a damaged cache costs one re-analysis, never the screening
        log.warning("archive features cache %s unreadable (%s); analysing again", path, e)
        return {}
    if stored != fingerprint or not isinstance(feats, dict):
        return {}
    return feats


def save_features(path: Path, feats: Mapping[str, DocFeatures], *, fingerprint: str) -> None:
    """Write the features (without vectors) atomically; a failure is logged, not raised."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # without vectors, and without the aligner's per-process caches (meta keys starting with "_")
        slim = {
            k: dataclasses.replace(d, vectors=None, meta={m: v for m, v in d.meta.items() if not m.startswith("_")})
            for k, d in feats.items()
        }
        with tmp.open("wb") as f:
            pickle.dump((fingerprint, slim), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as e:
        log.warning("archive features cache %s not written (%s)", path, e)
        tmp.unlink(missing_ok=True)
