"""The archive's analysed texts kept on disk, so a process that loads the archive does not run spaCy over
10,000 entries again (100 s on two cores) when neither the texts nor the analysis parameters changed.

One pickle file per data directory, written atomically, holding the analysis fingerprint and the
features without their vectors (those come from the embedding cache). A file with another fingerprint,
or one that cannot be read, is ignored: the features are then analysed again and the file rewritten.

`dump_features` / `load_text_features` serialise one text's analysis without pickle, for the store's
`text_features` table, where the workers of a batch split into blocks share what each analysed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from models.text import Span
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


def dump_features(d: DocFeatures) -> bytes:
    """One text's analysis as bytes for the store (arrays as .npy, the rest as JSON; never a pickle, so
    reading a row runs no code). The text and the vectors are not kept: the text is the caller's, the
    vectors are in the embedding cache."""
    header = {
        "n": d.n,
        "content_norms": d.content_norms,
        "chunks": [[c.start, c.end, c.words] for c in d.chunks],
        "chunk_hashes": d.chunk_hashes,
        "chunk_shingles": [list(r) for r in d.chunk_shingles],
    }
    buf = io.BytesIO()
    np.savez(
        buf,
        header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        tok_start=d.tok_start,
        tok_end=d.tok_end,
        content_pos=d.content_pos,
        shingles=d.shingles,
    )
    return buf.getvalue()


def load_text_features(data: bytes, *, key: str, text: str) -> DocFeatures:
    """The analysis stored by `dump_features`, for the document `key` whose text is `text`."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes().decode("utf-8"))
        return DocFeatures(
            key=key,
            text=text,
            tok_start=z["tok_start"],
            tok_end=z["tok_end"],
            content_pos=z["content_pos"],
            content_norms=list(header["content_norms"]),
            shingles=z["shingles"],
            n=int(header["n"]),
            chunks=[Span(int(s), int(e), int(w)) for s, e, w in header["chunks"]],
            chunk_hashes=list(header["chunk_hashes"]),
            chunk_shingles=[(int(a), int(b)) for a, b in header["chunk_shingles"]],
        )
