"""The replication map (PKRI monitoring): for each past top innovation, the later proposals that declared it
as their source or share text with it, by region and year; and, for one proposal, where its idea came from.

Built from the findings the screening already stored (the same engine, the same evidence), never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from pydantic import BaseModel, Field

from screening.proposal import Proposal
from screening.results import MatchType, ProposalResult, Relation

SHARED_TEXT_RELATIONS: tuple[Relation, ...] = ("other_region", "same_instansi")
"""Relations that mean the proposal shares real (non-template) text with the past innovation."""


class ReplicationLink(BaseModel):
    """A later proposal linked to a past innovation, with the finding that links them."""

    proposal_id: str
    judul: str = ""
    instansi: str = ""
    wilayah: str = ""
    tahun: int | None = None
    relation: Relation
    match_type: MatchType
    share: float = Field(ge=0, le=1, description="Share of the proposal's text found in the past innovation.")


class ReplicationEntry(BaseModel):
    """One past top innovation and what followed it."""

    id: str
    judul: str = ""
    instansi: str = ""
    wilayah: str = ""
    tahun: int | None = None
    status: str | None = None
    declared: int = Field(0, description="Proposals that declared it as the source of their replication.")
    shared_text: int = Field(0, description="Proposals that share text with it without declaring it.")
    regions: list[str] = Field(default_factory=list, description="Regions (wilayah, else instansi) of the links.")
    years: list[int] = Field(default_factory=list)
    links: list[ReplicationLink] = Field(default_factory=list)


class ReplicationMap(BaseModel):
    statuses: list[str] = Field(description="Archive statuses counted as past top innovations.")
    entries: list[ReplicationEntry]


def replication_map(
    entries: Iterable[Proposal],
    links: Iterable[tuple[str, Proposal, str, str, float]],
    *,
    statuses: Sequence[str],
    only_linked: bool = False,
) -> ReplicationMap:
    """Each archive entry with one of `statuses`, with its linked proposals. `links`: (archive id, proposal,
    relation, match type, share) for every stored finding about an archive entry; template-only and
    unrelated findings are left out. Most followed innovations first, then the most recent."""
    wanted = set(statuses)
    by_id: dict[str, ReplicationEntry] = {
        e.id: ReplicationEntry(
            id=e.id, judul=e.judul, instansi=e.instansi, wilayah=e.wilayah, tahun=e.tahun, status=e.status
        )
        for e in entries
        if e.status in wanted
    }
    for entry_id, p, relation, match_type, share in links:
        target = by_id.get(entry_id)
        if target is None or relation not in ("declared_replication", *SHARED_TEXT_RELATIONS):
            continue
        target.links.append(
            ReplicationLink(
                proposal_id=p.id,
                judul=p.judul,
                instansi=p.instansi,
                wilayah=p.wilayah,
                tahun=p.tahun,
                relation=cast(Relation, relation),
                match_type=cast(MatchType, match_type),
                share=max(0.0, min(1.0, share)),
            )
        )
    out: list[ReplicationEntry] = []
    for e in by_id.values():
        e.links.sort(key=lambda x: (x.relation != "declared_replication", -(x.tahun or 0), x.proposal_id))
        e.declared = sum(1 for x in e.links if x.relation == "declared_replication")
        e.shared_text = len(e.links) - e.declared
        e.regions = sorted({x.wilayah or x.instansi for x in e.links if x.wilayah or x.instansi})
        e.years = sorted({x.tahun for x in e.links if x.tahun})
        if e.links or not only_linked:
            out.append(e)
    out.sort(key=lambda e: (-len(e.links), -(e.tahun or 0), e.id))
    return ReplicationMap(statuses=list(statuses), entries=out)


class Origin(BaseModel):
    """A past innovation a proposal comes from: declared, or sharing its text."""

    id: str
    judul: str = ""
    instansi: str = ""
    tahun: int | None = None
    relation: Relation
    match_type: MatchType | None = None
    share: float = 0.0
    declared: bool = False


def origins(p: ProposalResult) -> list[Origin]:
    """Where a proposal's idea came from: the archive entries it declares (`replikasi_dari`) or shares text
    with, from its own findings; the declared source first."""
    out: list[Origin] = []
    for d in p.duplicates:
        if d.other_source != "archive" or d.relation not in ("declared_replication", *SHARED_TEXT_RELATIONS):
            continue
        out.append(
            Origin(
                id=d.other_id,
                judul=d.other_judul,
                instansi=d.other_instansi,
                tahun=d.other_tahun,
                relation=d.relation,
                match_type=d.match_type if d.passages else None,
                share=d.share,
                declared=d.relation == "declared_replication",
            )
        )
    out.sort(key=lambda o: (not o.declared, -o.share, o.id))
    return out
