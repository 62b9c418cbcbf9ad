"""Loading the versioned parameters file: a wrong value is refused with a message that names it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from screening.params import DEFAULT_PARAMS_PATH, ParametersError, load_parameters


def _with(tmp_path: Path, **duplication: object) -> Path:
    raw = yaml.safe_load(DEFAULT_PARAMS_PATH.read_text(encoding="utf-8"))
    raw["duplication"].update(duplication)
    path = tmp_path / "parameters.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_the_bundled_file_loads(tmp_path: Path) -> None:
    assert load_parameters(_with(tmp_path)).duplication.chain_lexical_chunks == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"chain_lexical_chunks": 1}, "chain_lexical_chunks must be 0 (off) or at least 2"),
        ({"report_max_name_share": 1.5}, "duplication.report_max_name_share"),
    ],
)
def test_a_wrong_value_is_refused_by_name(tmp_path: Path, values: dict[str, object], message: str) -> None:
    with pytest.raises(ParametersError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_parameters(_with(tmp_path, **values))
