"""Which hand-written dbt models read seeds or plans, directly or through other models.

Seeds (targets) and the raw plan tables (raw.sales_plans, raw.store_plans: reloaded whole, for any month) may
change for any past month, so a generated model that reads them cannot keep its old periods: it is rebuilt in
full every night while the models over event tables replace only their window. Only `ref('...')` and
`source('raw', '...')` calls are read from the model files: the dbt graph, not the SQL.
"""

from __future__ import annotations

import re
from pathlib import Path

from kpiflow.plans.loading import PLAN_OWNER_COLUMNS

_REF = re.compile(r"""\bref\(\s*['"](\w+)['"]\s*\)""")
_RAW_SOURCE = re.compile(r"""\bsource\(\s*['"]raw['"]\s*,\s*['"](\w+)['"]\s*\)""")


def seed_fed_models(project_dir: Path, skip: Path | None = None) -> frozenset[str]:
    """Names of seeds and of models under models/ (outside `skip`) that read a seed or a plan table, transitively."""
    fed = {path.stem for path in (project_dir / "seeds").rglob("*.csv")}
    plan_sources = {f"source:{table}" for table in PLAN_OWNER_COLUMNS}
    fed |= plan_sources
    refs: dict[str, set[str]] = {}
    for path in (project_dir / "models").rglob("*.sql"):
        if skip is not None and skip in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        refs[path.stem] = set(_REF.findall(text)) | {f"source:{table}" for table in _RAW_SOURCE.findall(text)}
    changed = True
    while changed:
        changed = False
        for name, parents in refs.items():
            if name not in fed and parents & fed:
                fed.add(name)
                changed = True
    return frozenset(fed - plan_sources)
