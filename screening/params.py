"""Algorithm parameters: loaded from a versioned YAML file and validated before any work starts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PARAMS_PATH = Path(__file__).with_name("parameters.yaml")

INPUT_KEYS: tuple[str, ...] = (
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
    "kontribusi_tpb",
    "inspirasi",
    "proses_replikasi",
    "faktor_pembeda",
)
"""Section keys of the input formats (JSON `bagian`, CSV/XLSX columns), in canonical text order."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextParams(_Strict):
    min_chunk_words: int = Field(8, ge=1)
    max_chunk_words: int = Field(96, ge=8, le=400)
    use_lemmas: bool = True


class DuplicationParams(_Strict):
    shingle_size: int = Field(3, ge=1, le=10)
    candidate_jaccard: float = Field(0.3, gt=0, le=1)
    dense_candidates_k: int = Field(5, ge=0, le=100)
    candidate_cosine: float = Field(0.88, ge=-1, le=1)
    candidate_shared_cosine: float = Field(0.86, ge=-1, le=1)
    max_gap: int = Field(8, ge=0, le=100)
    min_passage_words: int = Field(12, ge=1)
    paraphrase_cosine: float = Field(0.9, ge=-1, le=1)
    paraphrase_min_words: int = Field(8, ge=1)
    paraphrase_min_passage_words: int = Field(40, ge=1)
    paraphrase_strong_cosine: float = Field(0.97, ge=0, le=1)
    paraphrase_min_overlap: float = Field(0.2, ge=0, le=1)
    paraphrase_strong_overlap: float = Field(0.5, ge=0, le=1)
    boilerplate_df: float = Field(0.3, gt=0, le=1)
    boilerplate_min_docs: int = Field(4, ge=2)
    report_min_share: float = Field(0.05, ge=0, le=1)
    report_min_passage_words: int = Field(25, ge=1)
    report_max_name_share: float = Field(0.65, ge=0, le=1)
    template_pairs_listed: int = Field(10, ge=0)
    # Aligner stages (screening/alignment.py): seeds, extension, merging, filtering.
    seed_min_words: int = Field(12, ge=1)
    sentence_cosine: float = Field(0.4, ge=0, le=1)
    sentence_dice: float = Field(0.4, ge=0, le=1)
    sentence_min_terms: int = Field(3, ge=1)
    sentence_isf: bool = True
    ignore_heading_words: bool = True
    sentence_strong_cosine: float = Field(0.6, ge=0, le=1)
    translated_cosine: float = Field(0.86, ge=-1, le=1)
    extend_gap_chars: int = Field(600, ge=0)
    extend_max_ratio: float = Field(2.0, ge=1)
    summary_ratio: float = Field(3.0, ge=1)
    cluster_min_units: int = Field(2, ge=1)
    cluster_close_units: int = Field(2, ge=1)
    cluster_min_chars: int = Field(150, ge=0)
    cluster_min_density: float = Field(0.52, ge=0, le=1)
    merge_gap_chars: int = Field(1100, ge=0)
    merge_other_gap_chars: int = Field(4000, ge=0)
    chain_min_chunks: int = Field(4, ge=2)
    chain_cosine: float = Field(0.86, ge=-1, le=1)
    chain_mean_cosine: float = Field(0.9, ge=-1, le=1)
    chain_max_step: int = Field(2, ge=0)
    chain_lexical_chunks: int = Field(3, ge=0)
    chain_lexical_cosine: float = Field(0.34, ge=0, le=1)

    @model_validator(mode="after")
    def _chains(self) -> DuplicationParams:
        if self.chain_lexical_chunks == 1:
            raise ValueError(
                "duplication.chain_lexical_chunks must be 0 (off) or at least 2: one sentence is not a chain"
            )
        return self


class SimilarityParams(_Strict):
    top_k: int = Field(5, ge=1, le=100)
    rrf_k: int = Field(60, ge=1)
    candidates_per_retriever: int = Field(50, ge=1)
    novelty_floor_cosine: float = Field(0.75, ge=-1, le=1)
    novelty_ceiling_cosine: float = Field(0.95, ge=-1, le=1)
    novelty_min_words: int = Field(300, ge=0)
    top_statuses: list[str] = Field(default_factory=lambda: ["top99", "top45"])
    # The readable score 0-100: 100 * sigmoid(score_bias + score_dense_weight * (cosine - the archive's median
    # cosine to the same text) + score_lexical_weight * tf-idf cosine); levels and the listing cut-off on it.
    ranking: Literal["score", "rrf"] = "score"
    score_bias: float = -4.0
    score_dense_weight: float = Field(100.0, ge=0)
    score_lexical_weight: float = Field(10.0, ge=0)
    level_same: float = Field(80.0, ge=0, le=100)
    level_related: float = Field(50.0, ge=0, le=100)
    cutoff: float = Field(30.0, ge=0, le=100)
    reason_terms: int = Field(5, ge=0, le=20)

    @model_validator(mode="after")
    def _band(self) -> SimilarityParams:
        if self.novelty_floor_cosine >= self.novelty_ceiling_cosine:
            raise ValueError("similarity.novelty_floor_cosine must be below similarity.novelty_ceiling_cosine")
        if not self.cutoff <= self.level_related <= self.level_same:
            raise ValueError(
                "similarity: need cutoff <= level_related <= level_same "
                f"(got {self.cutoff}, {self.level_related}, {self.level_same})"
            )
        return self


class RecommendationParams(_Strict):
    duplicate_share: float = Field(0.2, gt=0, le=1)
    duplicate_passage_words: int = Field(80, ge=1)
    resubmission_share: float = Field(0.5, gt=0, le=1)
    low_novelty: float = Field(0.2, ge=0, le=1)


class CompletenessParams(_Strict):
    default_min_words: int = Field(30, ge=0)
    instruction_share: float = Field(0.5, gt=0, le=1)
    ineligible_statuses: list[str] = Field(default_factory=lambda: ["top45"])
    klaster: list[str]
    earliest_year: int = 1945
    video_pattern: str


class SectionSpec(_Strict):
    key: str
    heading: str
    synonyms: list[str] = Field(default_factory=list)
    input_keys: list[str]
    max_words: int | None = Field(None, ge=1)
    min_words: int | None = Field(None, ge=0)
    weight: float = 0
    required: bool = True
    instructions: str = ""

    @model_validator(mode="after")
    def _keys(self) -> SectionSpec:
        unknown = [k for k in self.input_keys if k not in INPUT_KEYS]
        if unknown:
            raise ValueError(f"section {self.key!r}: unknown input key(s) {unknown}; use keys from {list(INPUT_KEYS)}")
        return self


class FormSpec(_Strict):
    label: str
    min_years_in_operation: int = Field(1, ge=0)
    requires_video: bool = False
    requires_sk: bool = False
    sections: list[SectionSpec] = Field(min_length=1)


class FormRule(_Strict):
    form: str
    replikasi: bool | None = None
    max_tahun: int | None = None
    min_tahun: int | None = None


class Parameters(_Strict):
    version: str
    text: TextParams = TextParams()
    duplication: DuplicationParams = DuplicationParams()
    similarity: SimilarityParams = SimilarityParams()
    recommendation: RecommendationParams = RecommendationParams()
    completeness: CompletenessParams
    templates: list[str] = Field(default_factory=list)
    form_rules: list[FormRule] = Field(min_length=1)
    forms: dict[str, FormSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules_name_forms(self) -> Parameters:
        missing = [r.form for r in self.form_rules if r.form not in self.forms]
        if missing:
            raise ValueError(f"form_rules name form(s) {missing} not defined under `forms` ({list(self.forms)})")
        return self

    def form_for(self, *, tahun: int | None, replikasi: bool) -> tuple[str, FormSpec]:
        """The form version that applies to a proposal of year `tahun` (first matching rule)."""
        for rule in self.form_rules:
            if rule.replikasi is not None and rule.replikasi != replikasi:
                continue
            if rule.max_tahun is not None and (tahun is None or tahun > rule.max_tahun):
                continue
            if rule.min_tahun is not None and (tahun is None or tahun < rule.min_tahun):
                continue
            return rule.form, self.forms[rule.form]
        last = self.form_rules[-1].form
        return last, self.forms[last]

    def echo(self) -> dict[str, Any]:
        """The parameters as plain data, for echoing in reports."""
        return self.model_dump(mode="json")


class ParametersError(ValueError):
    """The parameters file cannot be used; the message says what to change."""


def load_parameters(path: str | Path | None = None) -> Parameters:
    """Load and validate a parameters file (the bundled default when `path` is None)."""
    p = Path(path) if path else DEFAULT_PARAMS_PATH
    if not p.is_file():
        raise ParametersError(f"parameters file {p} does not exist; set SARING_PARAMS to a readable YAML file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParametersError(f"parameters file {p} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ParametersError(f"parameters file {p} must hold a mapping at the top level")
    try:
        return Parameters.model_validate(raw)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ParametersError(f"parameters file {p} is invalid:\n" + "\n".join(lines)) from exc


@lru_cache(maxsize=1)
def default_parameters() -> Parameters:
    """The bundled parameters, loaded once."""
    return load_parameters(None)
