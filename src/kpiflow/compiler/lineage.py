"""Which hand-written dbt models read seeds, directly or through other models.

Seeds (plans, targets) may change for any past month, so a generated model that reads them cannot keep its old
periods: it is rebuilt in full every night while the models over event tables replace only their window. Only
`ref('...')` calls are read from the model files: the dbt graph, not the SQL.
"""

from __future__ import annotations

import re
from pathlib import Path

_REF = re.compile(r"""\bref\(\s*['"](\w+)['"]\s*\)""")


def seed_fed_models(project_dir: Path, skip: Path | None = None) -> frozenset[str]:
    """Names of seeds and of models under models/ (outside `skip`) that read a seed, transitively."""
    fed = {path.stem for path in (project_dir / "seeds").rglob("*.csv")}
    refs: dict[str, set[str]] = {}
    for path in (project_dir / "models").rglob("*.sql"):
        if skip is not None and skip in path.parents:
            continue
        refs[path.stem] = set(_REF.findall(path.read_text(encoding="utf-8")))
    changed = True
    while changed:
        changed = False
        for name, parents in refs.items():
            if name not in fed and parents & fed:
                fed.add(name)
                changed = True
    return frozenset(fed)
