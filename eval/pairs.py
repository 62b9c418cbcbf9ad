"""Labelled proposal pairs built from real Indonesian text by documented, seeded transformations,
with a fixed dev/test split by source document, and their evaluation.

Real text: the 30 source documents and the dev cases of the Indonesian plagiarism corpus, the five
seed news articles, the sample archive (corpus/sample/archive.jsonl) and the Indonesian STS sentences.
Case kinds (a = the new proposal, b = the earlier document):

- verbatim: 3-5 consecutive sentences of b copied unchanged into unrelated host text in a.
- reorder: the same, sentences shuffled.
- insert_delete: the same, each word deleted with p=0.12 and a random STS word inserted after it with p=0.12.
- word_variation: the corpus's own "semantic-variation" cases (words replaced by synonyms, made by its
  authors): no offline Indonesian thesaurus is installable from PyPI (checked: nlp-id, indoNLP ship
  lemma/stop-word/slang lists only; wn/OMW download their data at run time), so these are the synonym cases.
- paraphrase: the corpus's "simulated" cases (passages rewritten by people).
- translated: English STS sentences in b, their Indonesian translations (STS-indo) in a.
- negative_topic: two different archive entries of the same klaster, or two seed articles (same topic).
- negative_template: two unrelated archive entries that both quote three of the declared `templates`
  (each side with its own wording around the citations).

Pair classes come from metadata around the texts: other_region (different instansi), same_instansi
(resubmission), declared_replication (a.replikasi_dari names b), template_only, unrelated.
Split: dev or test by a seeded hash of the source document id, so no source text is in both.
Detection mirrors the batch screening: shingle-Jaccard + dense candidates between a and b, alignment with
term weights (IDF) over all documents of the evaluated cases, as BatchScreener takes them over batch + archive.
"""

from __future__ import annotations

import csv
import hashlib
import html
import itertools
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.common import EVAL_DIR, REPO, data_dir, unwrap
from eval.measures import PRF, Annotation, PanScores, overlaps, pan_scores, pan_scores_by, prf
from models.embedder import Embedder
from models.text import clean_text, sentences
from screening.duplication import (
    CandidateIndex,
    PairMatch,
    TermWeights,
    align,
    boilerplate_shingles,
    candidate_pairs,
    classify_relation,
    is_reportable,
    term_weights,
)
from screening.features import DocFeatures, analyse
from screening.params import Parameters
from screening.pipeline import (
    NullProgress,
    declared_template_shingles,
    embed_features,
    exact_search,
    heading_terms,
)
from screening.proposal import Proposal, normalise_name

SEED = 20261
PAIRS_DIR = EVAL_DIR / "data"
KINDS_POSITIVE = ("verbatim", "reorder", "insert_delete", "word_variation", "paraphrase", "translated")
KINDS_NEGATIVE = ("negative_topic", "negative_template")
EXPECTED_MATCH = {
    "verbatim": "identical",
    "reorder": "edited",
    "insert_delete": "edited",
    "word_variation": "edited",
    "paraphrase": "paraphrase",
    "translated": "translated",
}
AGGREGATE_EXCLUDED: tuple[str, ...] = ()
"""Kinds left out of the per-type and per-class aggregates (none since the aligner finds translations)."""

_WS = re.compile(r"\s+")
_TITLES = (
    "SIGAP",
    "LAYAN CEPAT",
    "SAPA WARGA",
    "PINTU DESA",
    "SIMPEL",
    "JAGA NAGARI",
    "BERKAH",
    "SERASI",
    "TUNTAS",
    "MANDIRI",
    "GERCEP",
    "RAMAH",
)
_INSTANSI = (
    "Pemerintah Kabupaten Sleman",
    "Pemerintah Kota Batu",
    "Pemerintah Kabupaten Banyuwangi",
    "Pemerintah Provinsi Jawa Barat",
    "Pemerintah Kota Makassar",
    "Pemerintah Kabupaten Sumedang",
    "Pemerintah Kota Pontianak",
    "Pemerintah Kabupaten Sidoarjo",
    "Pemerintah Provinsi Bali",
    "Pemerintah Kabupaten Bone",
    "Pemerintah Kota Jayapura",
    "Pemerintah Kabupaten Agam",
)


def _norm(s: str) -> str:
    return _WS.sub(" ", s).strip()


def split_of(source_id: str) -> str:
    """dev or test, by a seeded hash of the source document id (fixed for a given SEED)."""
    h = hashlib.sha256(f"{SEED}:{source_id}".encode()).digest()
    return "dev" if h[0] % 2 == 0 else "test"


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256(":".join(map(str, (SEED, *parts))).encode()).hexdigest())


def sentence_list(text: str) -> list[str]:
    """Sentences of a text, whitespace collapsed, at least four words each."""
    out = [_norm(text[s.start : s.end]) for s in sentences(text)]
    return [s for s in out if len(s.split()) >= 4]


def _join(pieces: Sequence[tuple[str, bool]]) -> tuple[str, tuple[int, int]]:
    """Join text pieces with spaces; the span of the pieces flagged True (contiguous)."""
    out: list[str] = []
    pos, lo, hi = 0, -1, -1
    for text, gold in pieces:
        if not text:
            continue
        if out:
            out.append(" ")
            pos += 1
        if gold and lo < 0:
            lo = pos
        out.append(text)
        pos += len(text)
        if gold:
            hi = pos
    return "".join(out), (lo, hi)


# ---------------------------------------------------------------- real text


@dataclass
class Sources:
    """Real Indonesian text the cases are built from."""

    pan: dict[str, str]
    pan_cases: list[tuple[Annotation, str, str]]
    seeds: dict[str, str]
    archive: list[Proposal]
    sts: list[tuple[str, str, str]]
    words: list[str] = field(default_factory=list)


def load_sources(root: Path | None = None) -> Sources:
    """Read the plagiarism corpus (dev part), seeds, sample archive and STS sentences."""
    from eval.pan import read_cases

    root = root or data_dir()
    corpus = root / "korpus-plagiarisme-indonesia"
    pan = {p.stem: unwrap(p.read_text(encoding="utf-8")) for p in sorted((corpus / "source-documents").glob("*.txt"))}
    pan_cases: list[tuple[Annotation, str, str]] = []
    for xml in sorted((corpus / "suspicious-documents").glob("*.xml")):
        susp = unwrap(xml.with_suffix(".txt").read_text(encoding="utf-8"))
        for c in read_cases(xml):
            if c.obfuscation in ("simulated", "semantic-variation"):
                pan_cases.append((c, _norm(susp[c.this_offset : c.this_end]), pan[Path(c.source_reference).stem]))
    seeds = {p.stem[:3]: clean_text(p.read_text(encoding="utf-8")) for p in sorted((root / "seeds").glob("*.txt"))}
    archive = [
        Proposal.model_validate_json(line)
        for line in (REPO / "corpus" / "sample" / "archive.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    sts: list[tuple[str, str, str]] = []
    with (root / "sts-indo" / "test.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            en = html.unescape((row.get("text1") or "").strip().strip('"'))
            ind = html.unescape((row.get("text1_id") or "").strip().strip('"'))
            if en and ind and len(ind.split()) >= 6:
                sts.append((row.get("source") or "", _norm(en), _norm(ind)))
    words = sorted({w.lower() for _, _, t in sts for w in re.findall(r"[^\W\d_]{3,}", t)})
    return Sources(pan=pan, pan_cases=pan_cases, seeds=seeds, archive=archive, sts=sts, words=words)


# ---------------------------------------------------------------- cases


def _transform(kind: str, sents: list[str], rng: random.Random, words: Sequence[str]) -> str:
    if kind == "verbatim":
        return " ".join(sents)
    if kind == "reorder":
        order = list(range(len(sents)))
        while order == sorted(order):
            rng.shuffle(order)
        return " ".join(sents[i] for i in order)
    if kind == "insert_delete":
        out: list[str] = []
        for w in " ".join(sents).split():
            if rng.random() >= 0.12:
                out.append(w)
            if rng.random() < 0.12:
                out.append(rng.choice(words))
        return " ".join(out)
    raise ValueError(kind)


def _pick_passage(sents: list[str], rng: random.Random) -> tuple[int, int]:
    """3-5 consecutive sentences of 40-130 words, away from the text's edges where possible."""
    for _ in range(200):
        n = rng.randint(3, 5)
        lo = rng.randint(0, max(0, len(sents) - n))
        words = sum(len(s.split()) for s in sents[lo : lo + n])
        if 40 <= words <= 130:
            return lo, lo + n
    return 0, min(len(sents), 3)


def _host(
    hosts: dict[str, list[str]], exclude: str, rng: random.Random, words: int = 160
) -> tuple[list[str], list[str]]:
    """Unrelated host text (a fixed window of another document), split at a sentence boundary."""
    key = rng.choice(sorted(k for k in hosts if k != exclude))
    window: list[str] = []
    for s in hosts[key]:
        window.append(s)
        if sum(len(x.split()) for x in window) >= words:
            break
    cut = rng.randint(1, max(1, len(window) - 1))
    return window[:cut], window[cut:]


def _meta(
    case_id: str, pair_class: str, rng: random.Random, b_meta: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Proposal metadata for a and b that realises a pair class."""
    names = rng.sample(_INSTANSI, 2)
    b = b_meta or {"id": f"{case_id}-b", "judul": f"{rng.choice(_TITLES)} {case_id[-4:]}", "instansi": names[0]}
    b = {**b, "id": b.get("id", f"{case_id}-b")}
    a: dict[str, Any] = {"id": f"{case_id}-a", "judul": f"{rng.choice(_TITLES)} Baru {case_id[-4:]}"}
    other = next(n for n in names if n != b["instansi"])
    a["instansi"] = b["instansi"] if pair_class == "same_instansi" else other
    if pair_class == "declared_replication":
        a["replikasi_dari"] = f"{b['judul']}, {b['instansi']}"
    return a, b


def _positive_class(rng: random.Random) -> str:
    return rng.choices(["other_region", "same_instansi", "declared_replication"], weights=[3, 1, 1])[0]


def _make_case(
    case_id: str,
    source_id: str,
    kind: str,
    pair_class: str,
    a: dict[str, Any],
    b: dict[str, Any],
    gold: list[list[int]],
) -> dict[str, Any]:
    pa, pb = Proposal.model_validate(a), Proposal.model_validate(b)
    return {
        "id": case_id,
        "split": split_of(source_id),
        "source_id": source_id,
        "kind": kind,
        "pair_class": pair_class,
        "expected_match": EXPECTED_MATCH.get(kind),
        "expected_relation": {"template_only": "boilerplate", "unrelated": None}.get(pair_class, pair_class),
        "a": pa.model_dump(exclude_none=True, exclude_defaults=True),
        "b": pb.model_dump(exclude_none=True, exclude_defaults=True),
        "gold": gold,
    }


def _body_case(
    case_id: str,
    source_id: str,
    kind: str,
    rng: random.Random,
    *,
    a_pieces: list[tuple[str, bool]],
    b_pieces: list[tuple[str, bool]],
) -> dict[str, Any]:
    """A case whose texts live in one section (`latar_belakang`) of each proposal."""
    a_body, (a0, a1) = _join(a_pieces)
    b_body, (b0, b1) = _join(b_pieces)
    pair_class = _positive_class(rng)
    a, b = _meta(case_id, pair_class, rng)
    a["bagian"] = {"latar_belakang": a_body}
    b["bagian"] = {"latar_belakang": b_body}
    ca, cb = Proposal.model_validate(a).composed, Proposal.model_validate(b).composed
    sa, sb = ca.spans["latar_belakang"][0], cb.spans["latar_belakang"][0]
    return _make_case(case_id, source_id, kind, pair_class, a, b, [[sa + a0, sa + a1, sb + b0, sb + b1]])


def generate(src: Sources) -> list[dict[str, Any]]:
    """All cases, deterministic for a given SEED and input text."""
    cases: list[dict[str, Any]] = []
    pan_sents = {k: sentence_list(t) for k, t in src.pan.items()}
    seed_sents = {f"seed:{k}": sentence_list(t) for k, t in src.seeds.items()}
    hosts = {**{f"pan:{k}": v for k, v in pan_sents.items()}, **seed_sents}
    docs = {**{f"pan:{k}": v for k, v in pan_sents.items()}, **seed_sents}
    # 1. transformations of passages of the corpus's source documents and the seed articles
    for doc_id, sents in sorted(docs.items()):
        if len(sents) < 8:
            continue
        for kind in ("verbatim", "reorder", "insert_delete"):
            cid = f"{kind}-{doc_id.replace(':', '-')}"
            rng = _rng(cid)
            lo, hi = _pick_passage(sents, rng)
            passage = _transform(kind, sents[lo:hi], rng, src.words)
            h1, h2 = _host(hosts, doc_id, rng)
            a_pieces = [(" ".join(h1), False), (passage, True), (" ".join(h2), False)]
            b_pieces = [(" ".join(sents[max(0, lo - 5) : lo]), False), (" ".join(sents[lo:hi]), True)]
            b_pieces.append((" ".join(sents[hi : hi + 5]), False))
            cases.append(_body_case(cid, doc_id, kind, rng, a_pieces=a_pieces, b_pieces=b_pieces))
    # 2. the corpus's own rewritten cases (human paraphrase, semantic word variation)
    for i, (c, susp_text, src_text) in enumerate(src.pan_cases):
        kind = "paraphrase" if c.obfuscation == "simulated" else "word_variation"
        doc_id = f"pan:{Path(c.source_reference).stem}"
        cid = f"{kind}-{i:03d}-{Path(c.this_reference).stem[-5:]}"
        rng = _rng(cid)
        before = src_text[max(0, c.source_offset - 700) : c.source_offset]
        before = before[before.find(". ") + 2 :] if ". " in before else ""
        after = src_text[c.source_end : c.source_end + 700]
        after = after[: after.rfind(". ") + 1] if ". " in after else ""
        h1, h2 = _host(hosts, doc_id, rng)
        a_pieces = [(" ".join(h1), False), (susp_text, True), (" ".join(h2), False)]
        b_pieces = [
            (_norm(before), False),
            (_norm(src_text[c.source_offset : c.source_end]), True),
            (_norm(after), False),
        ]
        cases.append(_body_case(cid, doc_id, kind, rng, a_pieces=a_pieces, b_pieces=b_pieces))
    # 3. the same transformations on archive entries: one section of b copied into a, whose other
    #    sections are another archive entry's (realistic proposals; b keeps its real metadata)
    for entry in src.archive:
        for kind in ("verbatim", "reorder", "insert_delete"):
            cid = f"{kind}-arsip-{entry.id}"
            rng = _rng(cid)
            key = rng.choice(
                [k for k in ("latar_belakang", "kebaruan", "implementasi", "signifikansi") if k in entry.bagian]
            )
            sents = sentence_list(entry.bagian[key])
            passage = _transform(kind, sents, rng, src.words) if len(sents) > 1 or kind != "reorder" else sents[0]
            host = rng.choice([e for e in src.archive if e.id != entry.id])
            pair_class = _positive_class(rng)
            b_meta = {"id": entry.id, "judul": entry.judul, "instansi": entry.instansi}
            a, b = _meta(cid, pair_class, rng, b_meta)
            b = entry.model_dump(exclude_none=True)
            a["bagian"] = {**host.bagian, key: passage}
            ca, cb = Proposal.model_validate(a).composed, Proposal.model_validate(b).composed
            (a0, a1), (b0, b1) = ca.spans[key], cb.spans[key]
            cases.append(_make_case(cid, f"arsip:{entry.id}", kind, pair_class, a, b, [[a0, a1, b0, b1]]))
    # 4. translated: English STS sentences (b) and their Indonesian translations copied into a
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for source, en, ind in src.sts:
        groups[source].append((en, ind))
    for source, rows in sorted(groups.items()):
        for g in range(1):
            block = rows[g * 8 : g * 8 + 8]
            if len(block) < 8:
                continue
            doc_id = f"sts:{source}:{g}"
            cid = f"translated-{source.split('.')[1]}-{source[:4]}-{g}"
            rng = _rng(cid)
            eng = [x if x[-1] in ".!?" else x + "." for x, _ in block]
            idn = [x if x[-1] in ".!?" else x + "." for _, x in block]
            h1, h2 = _host(hosts, "", rng)
            a_pieces = [(" ".join(h1), False), (" ".join(idn[2:6]), True), (" ".join(h2), False)]
            b_pieces = [(" ".join(eng[:2]), False), (" ".join(eng[2:6]), True), (" ".join(eng[6:]), False)]
            cases.append(_body_case(cid, doc_id, "translated", rng, a_pieces=a_pieces, b_pieces=b_pieces))
    # 5. negatives: same-topic unrelated pairs, and template-only overlap
    by_klaster: dict[str, list[Proposal]] = defaultdict(list)
    for e in src.archive:
        by_klaster[e.klaster].append(e)
    for _, entries in sorted(by_klaster.items()):
        for x, y in itertools.pairwise(entries):
            cid = f"negative_topic-{x.id}-{y.id}"
            cases.append(_make_case(cid, f"arsip:{x.id}", "negative_topic", "unrelated", _as_a(x, cid), _as_b(y), []))
    seed_ids = sorted(src.seeds)
    for i, sx in enumerate(seed_ids):
        for sy in seed_ids[i + 1 :]:
            cid = f"negative_topic-seed{sx}-seed{sy}"
            a = {
                "id": f"{cid}-a",
                "judul": "Berita KIPP",
                "instansi": _INSTANSI[i],
                "bagian": {"latar_belakang": src.seeds[sx]},
            }
            b = {
                "id": f"{cid}-b",
                "judul": "Berita KIPP",
                "instansi": _INSTANSI[-1 - i],
                "bagian": {"latar_belakang": src.seeds[sy]},
            }
            cases.append(_make_case(cid, f"seed:{sx}", "negative_topic", "unrelated", a, b, []))
    templates = _templates()
    for i, x in enumerate(src.archive):
        rng = _rng("template", x.id)
        y = src.archive[(i + 7) % len(src.archive)]
        cid = f"negative_template-{x.id}-{y.id}"
        a, b = _as_a(x, cid), _as_b(y)
        for side, wrap in ((a, "Dasar hukumnya ialah {}."), (b, "Kegiatan tersebut mengacu pada {}.")):
            quoted = " ".join(t if t.endswith(".") else wrap.format(t) for t in rng.sample(templates, 3))
            side["bagian"] = {
                **side["bagian"],
                "latar_belakang": side["bagian"].get("latar_belakang", "") + " " + quoted,
            }
        cases.append(_make_case(cid, f"arsip:{x.id}", "negative_template", "template_only", a, b, []))
    return cases


def _templates() -> list[str]:
    from screening.params import default_parameters

    return list(default_parameters().templates)


def _as_a(p: Proposal, cid: str) -> dict[str, Any]:
    d = p.model_dump(exclude_none=True)
    return {**d, "id": f"{cid}-a", "status": None}


def _as_b(p: Proposal) -> dict[str, Any]:
    return p.model_dump(exclude_none=True)


def write_pairs(out_dir: Path = PAIRS_DIR, root: Path | None = None) -> dict[str, int]:
    """Generate the cases and write pairs-dev.jsonl and pairs-test.jsonl; returns counts per split."""
    cases = generate(load_sources(root))
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for split in ("dev", "test"):
        rows = [c for c in cases if c["split"] == split]
        counts[split] = len(rows)
        text = "".join(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n" for c in rows)
        (out_dir / f"pairs-{split}.jsonl").write_text(text, encoding="utf-8")
    return counts


def load_pairs(split: str, path: Path | None = None) -> list[dict[str, Any]]:
    p = path or PAIRS_DIR / f"pairs-{split}.jsonl"
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def quick_cases(cases: Sequence[dict[str, Any]], per_kind: int = 5) -> list[dict[str, Any]]:
    """A fixed small subset: the first `per_kind` cases of each kind (by id)."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in sorted(cases, key=lambda c: c["id"]):
        by_kind[c["kind"]].append(c)
    return [c for kind in sorted(by_kind) for c in by_kind[kind][:per_kind]]


# ---------------------------------------------------------------- evaluation


@dataclass
class Prepared:
    """A case with both proposals analysed and embedded (what threshold sweeps reuse)."""

    case: dict[str, Any]
    a: Proposal
    b: Proposal
    da: DocFeatures
    db: DocFeatures


def prepare(cases: Iterable[dict[str, Any]], *, params: Parameters, embedder: Embedder | None) -> list[Prepared]:
    out: list[Prepared] = []
    for c in cases:
        a, b = Proposal.model_validate(c["a"]), Proposal.model_validate(c["b"])
        out.append(Prepared(c, a, b, analyse(f"a:{c['id']}", a.text, params), analyse(f"b:{c['id']}", b.text, params)))
    if embedder is not None:
        embed_features([d for p in out for d in (p.da, p.db)], embedder, NullProgress())
    return out


@dataclass
class Outcome:
    """What saring said about one case."""

    case: dict[str, Any]
    candidate: bool
    reported: bool
    on_target: bool
    match: str | None
    relation: str | None
    match_obj: PairMatch


def detect_case(p: Prepared, params: Parameters, boiler: AbstractSet[int], weights: TermWeights) -> Outcome:
    """Candidate retrieval (shingle Jaccard + dense) between a and b, then alignment when a candidate."""
    dp = params.duplication
    index = CandidateIndex.build([p.da, p.db], params=dp, boiler=boiler)
    neighbours = None
    if p.db.vectors is not None and len(p.db.chunks):
        neighbours = exact_search(p.db.vectors, [(p.db.key, i) for i in range(len(p.db.chunks))])
    candidate = (p.da.key, p.db.key) in candidate_pairs(
        [p.da], index=index, params=dp, boiler=boiler, neighbours=neighbours, docs={p.db.key: p.db}
    )
    m = align(p.da, p.db, params=dp, boiler=boiler, weights=weights)
    reported = candidate and is_reportable(m, dp)
    gold = [_gold_ann(p.case, g) for g in p.case["gold"]]
    dets = _detections(p.case, m) if reported else []
    on_target = any(overlaps(g, d) for g in gold for d in dets)
    relation: str | None = None
    if reported:
        relation = classify_relation(p.a, p.b, m)
    elif m.template_passages and not (m.passages and is_reportable(m, dp)):
        relation = "boilerplate"
    match = m.match_type() if reported else None
    return Outcome(p.case, candidate, reported, on_target, match, relation, m)


def _gold_ann(case: dict[str, Any], g: Sequence[int]) -> Annotation:
    return Annotation(
        f"{case['id']}:a", g[0], g[1] - g[0], f"{case['id']}:b", g[2], g[3] - g[2], case["kind"], case["kind"]
    )


def _detections(case: dict[str, Any], m: PairMatch) -> list[Annotation]:
    return [
        Annotation(
            f"{case['id']}:a",
            x.start,
            x.end - x.start,
            f"{case['id']}:b",
            x.other_start,
            x.other_end - x.other_start,
            x.match_type,
            "detection",
        )
        for x in m.passages
    ]


def _distinct_docs(prepared: Sequence[Prepared]) -> list[DocFeatures]:
    seen: dict[str, DocFeatures] = {}
    for p in prepared:
        for d in (p.da, p.db):
            seen.setdefault(d.text, d)
    return list(seen.values())


def batch_boiler(prepared: Sequence[Prepared], params: Parameters) -> AbstractSet[int]:
    """Template shingles over all distinct documents of the cases taken as one batch."""
    return boilerplate_shingles(
        _distinct_docs(prepared), params=params.duplication, declared=declared_template_shingles(params)
    )


@dataclass
class PairResult:
    """Case-level and passage-level measures over a set of cases."""

    outcomes: list[Outcome]
    detection: PRF
    by_match: dict[str, PRF]
    by_relation: dict[str, PRF]
    by_kind: dict[str, tuple[int, int]]
    passages: PanScores
    passages_by_kind: dict[str, PanScores]

    def to_json(self) -> dict[str, Any]:
        def p(x: PRF) -> dict[str, Any]:
            return {"tp": x.tp, "fp": x.fp, "fn": x.fn, "precision": x.precision, "recall": x.recall, "f1": x.f1}

        def s(x: PanScores) -> dict[str, Any]:
            return {"precision": x.precision, "recall": x.recall, "granularity": x.granularity, "plagdet": x.plagdet}

        return {
            "cases": len(self.outcomes),
            "detection": p(self.detection),
            "by_match": {k: p(v) for k, v in self.by_match.items()},
            "by_relation": {k: p(v) for k, v in self.by_relation.items()},
            "by_kind": {k: {"hits": v[0], "cases": v[1]} for k, v in self.by_kind.items()},
            "passages": s(self.passages),
            "passages_by_kind": {k: s(v) for k, v in self.passages_by_kind.items()},
        }


def evaluate(prepared: Sequence[Prepared], params: Parameters, *, batch: bool = False) -> PairResult:
    """Detect every case (pairwise; `batch` takes template shingles over all the cases' documents)."""
    boiler = batch_boiler(prepared, params) if batch else declared_template_shingles(params)
    weights = term_weights(_distinct_docs(prepared), ignored=heading_terms(params))
    outs = [detect_case(p, params, boiler, weights) for p in prepared]
    return summarise(outs)


def summarise(outs: Sequence[Outcome]) -> PairResult:
    agg = [o for o in outs if o.case["kind"] not in AGGREGATE_EXCLUDED]
    positive = [o.case["kind"] in KINDS_POSITIVE for o in agg]
    tp = sum(1 for o, pos in zip(agg, positive, strict=True) if pos and o.on_target)
    fp = sum(1 for o, pos in zip(agg, positive, strict=True) if o.reported and not (pos and o.on_target))
    fn = sum(1 for o, pos in zip(agg, positive, strict=True) if pos and not o.on_target)
    gold_match = [o.case["expected_match"] for o in agg]
    pred_match = [o.match if (o.on_target or o.case["kind"] not in KINDS_POSITIVE) else None for o in agg]
    by_match = {t: prf(gold_match, pred_match, t) for t in ("identical", "edited", "paraphrase", "translated")}
    gold_rel = [o.case["expected_relation"] for o in agg]
    pred_rel = [o.relation if (o.on_target or o.case["kind"] not in KINDS_POSITIVE) else None for o in agg]
    by_rel = {
        r: prf(gold_rel, pred_rel, r) for r in ("other_region", "same_instansi", "declared_replication", "boilerplate")
    }
    by_kind: dict[str, tuple[int, int]] = {}
    for kind in (*KINDS_POSITIVE, *KINDS_NEGATIVE):
        group = [o for o in outs if o.case["kind"] == kind]
        if group:
            hits = sum(o.on_target if kind in KINDS_POSITIVE else o.reported for o in group)
            by_kind[kind] = (hits, len(group))
    gold = [_gold_ann(o.case, g) for o in outs for g in o.case["gold"]]
    dets = [d for o in outs if o.reported for d in _detections(o.case, o.match_obj)]
    # per-kind passage measures; negatives add detections only (precision)
    return PairResult(
        outcomes=list(outs),
        detection=PRF(tp, fp, fn),
        by_match=by_match,
        by_relation=by_rel,
        by_kind=by_kind,
        passages=pan_scores(
            [g for g in gold if g.type not in AGGREGATE_EXCLUDED], [d for d in dets if not _excluded(d)]
        ),
        passages_by_kind=pan_scores_by(gold, dets, "obfuscation"),
    )


def _excluded(d: Annotation) -> bool:
    return any(d.this_reference.startswith(k) for k in AGGREGATE_EXCLUDED)


def cosine_pairs(prepared: Sequence[Prepared]) -> np.ndarray:
    """Document-level cosine of each case's two proposals (mean chunk vectors)."""
    from screening.similarity import doc_vector

    return np.array(
        [
            float(doc_vector(p.da.vectors) @ doc_vector(p.db.vectors))
            if p.da.vectors is not None and p.db.vectors is not None
            else float("nan")
            for p in prepared
        ]
    )


@dataclass
class SameForm:
    """The sample archive's entries, analysed and embedded once (what sweeps reuse)."""

    entries: list[Proposal]
    docs: list[DocFeatures]


def prepare_same_form(params: Parameters, embedder: Embedder | None) -> SameForm:
    entries = [
        Proposal.model_validate_json(line)
        for line in (REPO / "corpus" / "sample" / "archive.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    docs = [analyse(f"arsip:{e.id}", e.text, params) for e in entries]
    if embedder is not None:
        embed_features(docs, embedder, NullProgress())
    return SameForm(entries, docs)


def same_form_reports(sf: SameForm, params: Parameters) -> dict[str, Any]:
    """The sample archive screened against itself: every pair of its entries (distinct innovations of one
    form, many on the same topics) aligned as a batch would align them; a reported pair is a false claim
    unless the two entries are a resubmission (same instansi and same title): two different innovations of
    one ministry reported as `same_instansi` are a false claim too."""
    boiler = boilerplate_shingles(sf.docs, params=params.duplication, declared=declared_template_shingles(params))
    weights = term_weights(sf.docs, ignored=heading_terms(params))
    reported: list[str] = []
    pairs = 0
    for (e1, d1), (e2, d2) in itertools.combinations(zip(sf.entries, sf.docs, strict=True), 2):
        pairs += 1
        m = align(d1, d2, params=params.duplication, boiler=boiler, weights=weights)
        if not is_reportable(m, params.duplication):
            continue
        relation = classify_relation(e1, e2, m)
        if relation == "other_region" or (relation == "same_instansi" and not _same_title(e1, e2)):
            reported.append(f"{e1.id}–{e2.id} ({m.match_type()}, {relation}, {m.share():.0%})")
    return {
        "pairs": pairs,
        "reported": len(reported),
        "rate": len(reported) / pairs if pairs else 0.0,
        "examples": reported,
    }


def _same_title(a: Proposal, b: Proposal) -> bool:
    title = normalise_name(a.judul)
    return bool(title) and title == normalise_name(b.judul)


def same_form_false_reports(params: Parameters, embedder: Embedder | None) -> dict[str, Any]:
    """`same_form_reports` on the sample archive, prepared here."""
    return same_form_reports(prepare_same_form(params, embedder), params)
