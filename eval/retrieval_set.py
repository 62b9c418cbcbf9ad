"""A larger archive and query set for retrieval evaluation (eval only; built at run time, never shipped).

Archive (about 320 entries with the defaults):

- `sample`: the 27 bundled sample archive entries (KIPP-style, real Indonesian prose);
- `pan`: windows of 250-500 words (whole paragraphs) of the 30 source documents of the Indonesian
  plagiarism corpus (Wikipedia articles, Kompas news, blogs, reviews, novels), at most
  `PAN_WINDOWS` per document (every window holding a plagiarism case's source is kept);
- `synth`: seeded KIPP-form entries from eval/synth.py (Markov text trained on real Indonesian
  text), as same-form distractors.

Queries, each with graded relevant entries (2 = the same innovation / text, 1 = related):

- `judul` (easy, short): a sample entry's title;
- `shortened` (easy): a seeded shortening of an entry (sentences dropped and shuffled, words dropped);
- `paraphrase`: a sample entry's ringkasan and latar belakang rewritten with eval/synth.py's
  paraphraser (synonyms, clause and sentence order);
- `rewritten` (hard): the human rewrites of the plagiarism corpus (`simulated` cases): the rewritten
  passage finds the window(s) holding its source passage;
- `obfuscated`: the corpus's artificial cases (word shuffling, semantic word variation, POS-preserving);
- `related`: real related text (sample batch proposals written from an archive entry, the seed news
  articles the entries are based on; grade 1);
- `none`: text with nothing similar in the archive (passages of the suspicious documents outside any
  plagiarism case, and short off-topic questions): nothing should be listed.

Every query is in the dev or the test split by a seeded hash of its id (eval.pairs.split_of).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from eval.common import REPO, data_dir, pan_dir, unwrap
from eval.pairs import SEED, sentence_list, split_of
from eval.retrieval import BATCH_RELATED, SEED_RELATED, archive_entries, shortened
from eval.synth import _paraphrase, generate, load_sources
from models.text import clean_text
from screening.proposal import Proposal

PAN_WINDOWS = 8
"""Most windows taken from one plagiarism-corpus source document (beside those holding a case source)."""
SYNTH_ENTRIES = 130
QUICK_PAN_WINDOWS = 3
QUICK_SYNTH_ENTRIES = 30
WINDOW_WORDS = (250, 500)
KINDS: tuple[str, ...] = ("judul", "shortened", "paraphrase", "rewritten", "obfuscated", "related", "none")

OFF_TOPIC: tuple[str, ...] = (
    "resep kue lapis legit dengan mentega wijsman",
    "jadwal pertandingan sepak bola liga Inggris pekan ini",
    "cara merawat tanaman anggrek bulan di dalam rumah",
    "harga tiket konser musik rock di Jakarta",
    "sejarah kerajaan Majapahit dan Gajah Mada",
    "tips memilih kamera mirrorless untuk pemula",
    "pemeliharaan ikan koi di kolam kecil",
    "ulasan novel detektif terbaru",
    "perbedaan lensa kacamata minus dan silinder",
    "strategi bermain catur pembukaan Sisilia",
)


@dataclass
class Query:
    id: str
    kind: str
    text: str
    relevant: dict[str, int] = field(default_factory=dict)
    """Entry id -> grade (2 = same innovation or text, 1 = related)."""

    @property
    def split(self) -> str:
        return split_of(f"retrieval:{self.id}")


@dataclass
class RetrievalSet:
    entries: list[Proposal]
    queries: list[Query]
    origin: dict[str, str]
    """Entry id -> sample / pan / synth."""


def _paragraphs(text: str) -> list[tuple[int, int]]:
    out = []
    for m in re.finditer(r"\S(?:.*?\S)?(?=\n\s*\n|\s*$)", text, re.S):
        out.append((m.start(), m.end()))
    return out


def _windows(text: str) -> list[tuple[int, int]]:
    """Character spans of consecutive paragraphs of WINDOW_WORDS words (long paragraphs cut at sentences)."""
    lo, hi = WINDOW_WORDS
    pieces: list[tuple[int, int]] = []
    for a, b in _paragraphs(text):
        if len(text[a:b].split()) <= hi:
            pieces.append((a, b))
            continue
        start, words = a, 0
        for m in re.finditer(r"[^.!?]+[.!?]*\s*", text[a:b]):
            words += len(m.group().split())
            if words >= lo:
                pieces.append((start, a + m.end()))
                start, words = a + m.end(), 0
        if start < b:
            pieces.append((start, b))
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for a, b in pieces:
        cur = (a, b) if cur is None else (cur[0], b)
        if len(text[cur[0] : cur[1]].split()) >= lo:
            out.append(cur)
            cur = None
    if cur is not None:
        if out and len(text[cur[0] : cur[1]].split()) < lo // 2:
            out[-1] = (out[-1][0], cur[1])
        else:
            out.append(cur)
    return out


def _entry(eid: str, body: str, rng: random.Random) -> Proposal:
    sents = sentence_list(body) or [body]
    head = " ".join(sents[0].split()[:9]).rstrip(".,;:")
    split = max(1, len(sents) // 4)
    return Proposal(
        id=eid,
        judul=head,
        instansi=f"Instansi {eid}",
        klaster=rng.choice(["kabupaten", "kota", "provinsi", "kementerian"]),
        wilayah="",
        tahun=rng.randint(2019, 2024),
        tahun_implementasi=2018,
        status=rng.choices(["top45", "top99", "peserta"], [1, 2, 6])[0],
        bagian={"ringkasan": " ".join(sents[:split]), "latar_belakang": " ".join(sents[split:]) or sents[0]},
    )


def build(*, quick: bool = False, root: Path | None = None) -> RetrievalSet:
    """The archive and the queries (deterministic for a given SEED)."""
    from eval.pan import read_cases

    root = root or data_dir()
    rng = random.Random(f"{SEED}:retrieval-set")
    sample = archive_entries()
    entries: list[Proposal] = list(sample)
    origin = {e.id: "sample" for e in sample}
    queries: list[Query] = []

    # PAN source windows, and the cases whose source lies in them
    corpus = root / pan_dir().name
    sources = {
        p.name: unwrap(p.read_text(encoding="utf-8")) for p in sorted((corpus / "source-documents").glob("*.txt"))
    }
    cases = []
    for xml in sorted((corpus / "suspicious-documents").glob("*.xml")):
        susp = unwrap(xml.with_suffix(".txt").read_text(encoding="utf-8"))
        for c in read_cases(xml):
            cases.append((xml.stem, c, susp[c.this_offset : c.this_offset + c.this_length], susp))
    needed: dict[str, set[int]] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for name, text in sources.items():
        spans[name] = _windows(text)
    for _, c, _, _ in cases:
        ws = spans[c.source_reference]
        lo, hi = c.source_offset, c.source_offset + c.source_length
        for w, (a, b) in enumerate(ws):
            if min(b, hi) - max(a, lo) >= 0.3 * min(hi - lo, b - a):
                needed.setdefault(c.source_reference, set()).add(w)
    per_doc = QUICK_PAN_WINDOWS if quick else PAN_WINDOWS
    window_id: dict[tuple[str, int], str] = {}
    pan_ids: list[str] = []
    for d, (name, text) in enumerate(sources.items(), start=1):
        ws = spans[name]
        keep = set(needed.get(name, set()))
        rest = [w for w in range(len(ws)) if w not in keep]
        random.Random(f"{SEED}:windows:{name}").shuffle(rest)
        keep |= set(rest[: max(0, per_doc - len(keep))])
        for w in sorted(keep):
            eid = f"pan-{d:02d}-{w + 1:03d}"
            a, b = ws[w]
            entries.append(_entry(eid, " ".join(text[a:b].split()), rng))
            origin[eid] = "pan"
            window_id[(name, w)] = eid
            pan_ids.append(eid)

    for stem, c, passage, _ in cases:
        rel = {}
        ws = spans[c.source_reference]
        lo, hi = c.source_offset, c.source_offset + c.source_length
        for w, (a, b) in enumerate(ws):
            if min(b, hi) - max(a, lo) >= 0.3 * min(hi - lo, b - a):
                rel[window_id[(c.source_reference, w)]] = 2
        if not rel or len(passage.split()) < 25:
            continue
        if c.obfuscation == "simulated":
            kind = "rewritten"
        elif c.obfuscation in ("random-shuffling", "semantic-variation", "pos-preserving"):
            kind = "obfuscated"
        else:
            continue
        queries.append(Query(f"{kind}:{stem[-5:]}:{c.this_offset}", kind, " ".join(passage.split()), rel))

    # host text of the suspicious documents: outside every case, so nothing in the archive is its source
    by_doc: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for stem, c, _, susp in cases:
        by_doc.setdefault(stem, (susp, []))[1].append((c.this_offset, c.this_offset + c.this_length))
    for stem, (susp, taken) in sorted(by_doc.items()):
        free = [
            (a, b)
            for a, b in _paragraphs(susp)
            if all(min(b, y) <= max(a, x) for x, y in taken) and 60 <= len(susp[a:b].split()) <= 400
        ]
        for a, b in free[:2]:
            queries.append(Query(f"none:{stem[-5:]}:{a}", "none", " ".join(susp[a:b].split()), {}))
    queries += [Query(f"none:off-topic:{i:02d}", "none", t, {}) for i, t in enumerate(OFF_TOPIC)]

    # synthetic KIPP-form distractors
    synth = generate(0, QUICK_SYNTH_ENTRIES if quick else SYNTH_ENTRIES, seed=SEED, sources=load_sources())
    for e in synth.archive:
        entries.append(e)
        origin[e.id] = "synth"

    # easy queries and paraphrases of the sample (KIPP) entries, easy ones of a few others
    for e in sample:
        queries.append(Query(f"judul:{e.id}", "judul", e.judul, {e.id: 2}))
        queries.append(Query(f"shortened:{e.id}", "shortened", shortened(e), {e.id: 2}))
        para_rng = random.Random(f"{SEED}:paraphrase:{e.id}")
        body = e.bagian.get("ringkasan", "") + " " + e.bagian.get("latar_belakang", "")
        queries.append(Query(f"paraphrase:{e.id}", "paraphrase", _paraphrase(body, para_rng), {e.id: 2}))
    others = [e for e in entries if origin[e.id] != "sample"]
    for e in random.Random(f"{SEED}:easy").sample(others, k=min(len(others), 10 if quick else 30)):
        queries.append(Query(f"shortened:{e.id}", "shortened", _shorten_text(e), {e.id: 2}))

    # real related text
    batch = {
        p.id: p
        for p in (
            Proposal.model_validate_json(x)
            for x in (REPO / "corpus" / "sample" / "batch" / "proposals.jsonl").read_text(encoding="utf-8").splitlines()
            if x.strip()
        )
    }
    for pid, targets in BATCH_RELATED.items():
        if pid in batch:
            queries.append(Query(f"related:{pid}", "related", batch[pid].text, dict.fromkeys(targets, 1)))
    for path in sorted((root / "seeds").glob("*.txt")):
        seed_targets = SEED_RELATED.get(path.stem[:3])
        if seed_targets:
            text = clean_text(path.read_text(encoding="utf-8"))
            queries.append(Query(f"related:seed-{path.stem[:3]}", "related", text, dict.fromkeys(seed_targets, 1)))
    return RetrievalSet(entries=entries, queries=queries, origin=origin)


def _shorten_text(entry: Proposal) -> str:
    """`shortened` over the entry's whole text (entries without a kebaruan section)."""
    rng = random.Random(f"{SEED}:retrieval:{entry.id}")
    sents = sentence_list(entry.text)
    keep = [s for s in sents if rng.random() >= 0.6] or sents[:2]
    rng.shuffle(keep)
    return " ".join(" ".join(w for w in s.split() if rng.random() >= 0.1) for s in keep[:6])
