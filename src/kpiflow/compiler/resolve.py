"""Resolve group-by and filter names (`store__region`, `metric_time__month`, `store`) for one semantic model.

Joins go only from an entity to a semantic model where that entity is primary or unique (many-to-one), so a
dimension can never fan a measure out and double count it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlglot import exp

from kpiflow.compiler.expressions import qualified
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph, SemanticModel
from kpiflow.compiler.known_dates import typed_by
from kpiflow.compiler.spec import GRAINS, DimensionSpec, EntitySpec
from kpiflow.compiler.sqlbuild import aliased_table, cast, copy_tree, join_node
from kpiflow.compiler.sqltypes import DATE

BASE_ALIAS = "base"


class ResolutionError(ValueError):
    """A name that cannot be reached from a semantic model; `suggestion` lists close names."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True)
class Join:
    alias: str
    target: SemanticModel
    base_key: exp.Expression
    target_key: exp.Expression


@dataclass(frozen=True)
class ResolvedName:
    name: str
    expr: exp.Expression
    join: Join | None = None
    grain: str | None = None  # set for metric_time__<grain>


def from_model(
    select: exp.Select, relation: Callable[[str], exp.Table], model: SemanticModel, joins: Iterable[Join]
) -> exp.Select:
    """`FROM <model's table> AS base`, LEFT JOINed to each model a dimension is read from."""
    select = select.from_(aliased_table(relation(model.spec.model), BASE_ALIAS), copy=False)
    for join in joins:
        select = select.join(
            join_node(
                aliased_table(relation(join.target.spec.model), join.alias),
                on=exp.EQ(this=copy_tree(join.base_key), expression=copy_tree(join.target_key)),
                how="left",
            ),
            copy=False,
        )
    return select


def entity_expr(model: SemanticModel, entity: EntitySpec, alias: str) -> exp.Expression:
    return qualified(entity.expr or entity.name, alias)


def dimension_expr(model: SemanticModel, dim: DimensionSpec, alias: str) -> exp.Expression:
    """The dimension's column or expression over `alias`; a column the model's YAML declares a DATE is known as one."""
    return typed_by(qualified(dim.expr or dim.name, alias), model.dbt_model)


def truncate(expr: exp.Expression, grain: str) -> exp.Expression:
    """Start of the period containing `expr`, as a DATE, in every dialect."""
    if grain == "day":
        return cast(expr, DATE)
    return cast(exp.DateTrunc(this=expr, unit=exp.var(grain.upper())), DATE)


def time_column(model: SemanticModel, time_dim: str | None) -> exp.Expression:
    if time_dim is None:
        raise ResolutionError(f"semantic model '{model.name}' has no agg_time_dimension, so it has no metric_time")
    dim = model.dimension(time_dim)
    if dim is None or dim.type != "time":
        raise ResolutionError(f"'{time_dim}' is not a time dimension of semantic model '{model.name}'")
    return dimension_expr(model, dim, BASE_ALIAS)


class Resolver:
    """Looks up names for measures of one graph."""

    def __init__(self, graph: SemanticGraph) -> None:
        self.graph = graph
        self._resolved: dict[tuple[str, str, str | None], ResolvedName] = {}

    def resolve(self, model: SemanticModel, name: str, time_dim: str | None) -> ResolvedName:
        """Resolve once per (model, name, time dimension). Callers copy the trees they place in a query."""
        key = (model.name, name, time_dim)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(model, name, time_dim)
        return self._resolved[key]

    def resolve_all(
        self, model: SemanticModel, names: Iterable[str], time_dim: str | None, joins: dict[str, Join]
    ) -> list[tuple[str, exp.Expression]]:
        """(name, expression) for each of `names`; the joins they need are added to `joins` (by alias, once)."""
        resolved = []
        for name in names:
            item = self.resolve(model, name, time_dim)
            if item.join:
                joins.setdefault(item.join.alias, item.join)
            resolved.append((name, item.expr))
        return resolved

    def _resolve(self, model: SemanticModel, name: str, time_dim: str | None) -> ResolvedName:
        parts = name.split("__")
        if parts[0] == TIME_ENTITY:
            if len(parts) != 2 or parts[1] not in GRAINS:
                raise ResolutionError(
                    f"'{name}' is not a time grain",
                    f"Use one of {', '.join(TIME_ENTITY + '__' + g for g in GRAINS)}.",
                )
            return ResolvedName(name, truncate(time_column(model, time_dim), parts[1]), grain=parts[1])
        if len(parts) == 1:
            entity = model.entity(name)
            if entity is None:
                raise self._unknown(model, name)
            return ResolvedName(name, entity_expr(model, entity, BASE_ALIAS))
        if len(parts) != 2:
            raise self._unknown(model, name)
        entity_name, dim_name = parts
        own_entity = model.entity(entity_name)
        own_dim = model.dimension(dim_name)
        if own_entity is not None and own_entity.type in ("primary", "unique", "natural") and own_dim is not None:
            return ResolvedName(name, self._dim_value(model, own_dim, BASE_ALIAS))
        if own_entity is None:
            raise self._unknown(model, name)
        for target in self.graph.models.values():
            if target.name == model.name:
                continue
            target_entity = target.entity(entity_name)
            target_dim = target.dimension(dim_name)
            if target_entity is None or target_dim is None:
                continue
            if target_entity.type not in ("primary", "unique", "natural"):
                continue
            join = Join(
                alias=entity_name,
                target=target,
                base_key=entity_expr(model, own_entity, BASE_ALIAS),
                target_key=entity_expr(target, target_entity, entity_name),
            )
            return ResolvedName(name, self._dim_value(target, target_dim, entity_name), join=join)
        fanning = [
            t.name
            for t in self.graph.models.values()
            if t.name != model.name and t.entity(entity_name) is not None and t.dimension(dim_name) is not None
        ]
        if fanning:
            raise ResolutionError(
                f"'{name}' would join '{model.name}' to '{fanning[0]}' on entity '{entity_name}', which is not "
                f"primary or unique there: the join would fan out and double count",
                "Declare the entity as primary/unique in that semantic model, or add the column to "
                f"'{model.spec.model}'.",
            )
        raise self._unknown(model, name)

    def _dim_value(self, model: SemanticModel, dim: DimensionSpec, alias: str) -> exp.Expression:
        value = dimension_expr(model, dim, alias)
        return truncate(value, dim.time_granularity or "day") if dim.type == "time" else value

    def _unknown(self, model: SemanticModel, name: str) -> ResolutionError:
        from kpiflow.compiler.issues import closest

        reachable = self.reachable_names(model)
        return ResolutionError(
            f"'{name}' is not a dimension reachable from semantic model '{model.name}'",
            closest(name, reachable) or f"Reachable: {', '.join(reachable[:12])}.",
        )

    def reachable_names(self, model: SemanticModel) -> list[str]:
        names = {f"{TIME_ENTITY}__{g}" for g in GRAINS}
        for entity in model.spec.entities:
            names.add(entity.name)
            if entity.type in ("primary", "unique", "natural"):
                names.update(f"{entity.name}__{d.name}" for d in model.spec.dimensions)
            for target in self.graph.models.values():
                other = target.entity(entity.name)
                if target.name != model.name and other and other.type in ("primary", "unique", "natural"):
                    names.update(f"{entity.name}__{d.name}" for d in target.spec.dimensions)
        return sorted(names)
