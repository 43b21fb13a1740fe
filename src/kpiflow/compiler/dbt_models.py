"""What the compiler knows of the dbt project: each model's schema and its documented columns and types.

Semantic models may only reference columns that the dbt model documents, so expressions are checked against
real names and aggregations against real types, before any SQL runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kpiflow.config import GENERATED_FOLDER
from kpiflow.errors import UserInputError
from kpiflow.yamlsource import YamlSyntaxError, load_located

TIME_SPINE_MODEL = "metricflow_time_spine"  # the dbt model whose days fill periods without rows
TIME_SPINE_COLUMN = "date_day"

NUMERIC_TYPE_PREFIXES = (
    "int",
    "integer",
    "bigint",
    "smallint",
    "tinyint",
    "hugeint",
    "decimal",
    "numeric",
    "double",
    "float",
    "real",
    "number",
    "ubigint",
    "uinteger",
)


@dataclass(frozen=True)
class DbtModel:
    name: str
    schema: str
    columns: dict[str, str]  # column name -> declared data_type ('' when undeclared)
    file: Path | None = field(default=None, compare=False)  # the YAML file documenting it, for error messages
    column_lines: dict[str, int | None] = field(default_factory=dict, compare=False)  # column -> its type's line

    def declared_at(self, column: str) -> str:
        """`file:line` where `column` is documented (the file alone when its line is unknown), for messages."""
        line = self.column_lines.get(column)
        return f"{self.file}:{line}" if line is not None else str(self.file or f"the YAML of dbt model {self.name}")

    def is_numeric(self, column: str) -> bool | None:
        """True/False when the type is declared, None when unknown."""
        declared = self.columns.get(column, "").lower()
        if not declared:
            return None
        if declared.startswith("bool"):
            return False
        return declared.startswith(NUMERIC_TYPE_PREFIXES)


def _folder_schemas(project_dir: Path) -> dict[str, str]:
    config = load_located(project_dir / "dbt_project.yml").data
    name = config.get("name", "kpiflow")
    folders = (config.get("models") or {}).get(name, {}) or {}
    return {folder: str(cfg.get("+schema")) for folder, cfg in folders.items() if isinstance(cfg, dict)}


def load_dbt_models(project_dir: Path) -> dict[str, DbtModel]:
    """Every model documented in a .yml under models/, with the schema its folder builds into.

    models/generated is left out: it documents what the compiler writes from these models, so it is never an input
    (the compile cache's key leaves it out too), and reading it cost a third of a `kpiflow query`'s YAML time."""
    models_dir = project_dir / "models"
    schemas = _folder_schemas(project_dir)
    found: dict[str, DbtModel] = {}
    for yml in sorted(models_dir.rglob("*.yml")):
        folder = yml.relative_to(models_dir).parts[0]
        if folder == GENERATED_FOLDER:
            continue
        try:
            located = load_located(yml)
        except YamlSyntaxError as exc:
            raise UserInputError(f"{exc} (a dbt model YAML file the compiler reads)") from None
        for index, model in enumerate(located.data.get("models") or []):
            config = model.get("config") or {}
            schema = config.get("schema") or schemas.get(folder, "main")
            documented = [
                (position, col)
                for position, col in enumerate(model.get("columns") or [])
                if isinstance(col, dict) and "name" in col
            ]
            columns = {str(col["name"]): str(col.get("data_type") or "") for _, col in documented}
            lines = {  # of the column's data_type, else of its entry
                str(col["name"]): located.line_of(("models", index, "columns", position, "data_type"))
                for position, col in documented
            }
            found[model["name"]] = DbtModel(model["name"], schema, columns, yml, lines)
    return found
