"""The one YAML loader: lines by path, duplicate keys, merge keys, exact decimals, located schema errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from kpiflow.yamlsource import YamlSyntaxError, load_located, schema_problems

FILE = Path("card.yml")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    filter: str | None = None


class Card(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: list[Input | str]
    weights: dict[str, Decimal] = {}


def test_lines_of_keys_and_items_and_nearest_ancestor():
    source = load_located(FILE, "inputs:\n  - a\n  - name: b\n    filter: x\n")
    assert source.data == {"inputs": ["a", {"name": "b", "filter": "x"}]}
    assert source.line_of(("inputs",)) == 1
    assert source.line_of(("inputs", 1, "filter")) == 4
    assert source.line_of(("inputs", 1, "not_there")) == 3


def test_a_key_written_twice_is_an_error_naming_both_lines():
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(FILE, "base:\n  unit: a\n  other: 1\n  unit: b\n")
    assert (caught.value.line, caught.value.message) == (4, "duplicate key 'unit' (first at line 2); keep one")


def test_a_key_overriding_a_merged_anchor_is_not_a_duplicate():
    text = "defaults: &d {unit: a, owner: o}\nkpi:\n  <<: *d\n  unit: b\n"
    source = load_located(FILE, text)
    assert source.data["kpi"] == {"unit": "b", "owner": "o"}
    assert source.line_of(("kpi", "unit")) == 4


def test_floats_can_be_read_exactly_as_decimals():
    assert load_located(FILE, "w: 0.1\n", exact_decimals=True).data == {"w": Decimal("0.1")}
    assert load_located(FILE, "w: 0.1\n").data == {"w": 0.1}


def test_syntax_errors_name_their_line():
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(FILE, "a: 1\nb: [\n")
    assert caught.value.message.startswith("YAML syntax:") and caught.value.line >= 2


def test_schema_problems_drop_union_tags_and_suggest_field_names():
    source = load_located(FILE, "inputs:\n  - name: b\n    filtr: x\nweights: {a: half}\n")
    with pytest.raises(ValidationError) as caught:
        Card.model_validate(source.data)
    found = {(p.field, p.line, p.text()) for p in schema_problems(source, caught.value, Card)}
    assert ("inputs[0].filtr", 3, "unknown field 'filtr' Did you mean 'filter'?") in found
    assert ("weights.a", 4, "Input should be a valid decimal") in found


def test_a_missing_field_is_named_at_its_parent_line():
    source = load_located(FILE, "inputs:\n  - filter: x\n")
    with pytest.raises(ValidationError) as caught:
        Card.model_validate(source.data)
    problems = schema_problems(source, caught.value, Card)
    assert [(p.field, p.line) for p in problems if p.kind == "missing"] == [("inputs[0].name", 2)]


def test_a_broken_dbt_model_file_is_a_user_error_naming_its_line(tmp_path):
    from kpiflow.compiler.dbt_models import load_dbt_models
    from kpiflow.errors import UserInputError

    (tmp_path / "dbt_project.yml").write_text("name: p\nmodels: {p: {staging: {+schema: staging}}}\n")
    (tmp_path / "models" / "staging").mkdir(parents=True)
    schema = tmp_path / "models" / "staging" / "_staging.yml"
    schema.write_text("models:\n  - name: stg_a\n    columns: [{name: id}]\n    columns: []\n")
    with pytest.raises(UserInputError, match=r"_staging.yml:4: duplicate key 'columns' \(first at line 3\)"):
        load_dbt_models(tmp_path)
    schema.write_text("models:\n  - name: stg_a\n    columns: [{name: id}\n")
    with pytest.raises(UserInputError, match=r"_staging.yml:\d+: YAML syntax"):
        load_dbt_models(tmp_path)
    schema.write_text("models:\n  - name: stg_a\n    columns: [{name: id, data_type: integer}]\n")
    assert load_dbt_models(tmp_path)["stg_a"].columns == {"id": "integer"}
    assert load_dbt_models(tmp_path)["stg_a"].schema == "staging"
