"""Reader roles on a PostgreSQL warehouse: a BI role that reads `marts`, a payroll role that reads `payroll`.

Both are NOLOGIN group roles (people get a login role of their own and membership: `GRANT kpiflow_bi TO alice`),
so no password is ever created, stored or printed here. Neither role reads raw, staging, intermediate, kpi or seeds.
The statements are psycopg compositions (names are identifiers, never text pasted into SQL), idempotent (roles are
created only if missing, grants and revokes can be repeated), and the same list is printed by `kpiflow grants`,
applied by `kpiflow grants --apply` and shown in docs/postgres.md.

Tables the build recreates later stay readable through default privileges set FOR ROLE the build user (the owner
of what dbt and the publish create). Default privileges are keyed by schema: a publish that swaps in a *new*
schema named `marts` must run these statements again in its transaction (they are safe to repeat).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from kpiflow.config import PG_ENV_DEFAULTS
from kpiflow.errors import RunFailed, UserInputError

if TYPE_CHECKING:
    from psycopg import sql

    from kpiflow.config import PostgresConnection

BI_ROLE_VAR = "KPIFLOW_PG_BI_ROLE"
PAYROLL_ROLE_VAR = "KPIFLOW_PG_PAYROLL_ROLE"
DEFAULT_ROLES = {BI_ROLE_VAR: "kpiflow_bi", PAYROLL_ROLE_VAR: "kpiflow_payroll"}
BI_SCHEMA = "marts"
PAYROLL_SCHEMA = "payroll"
# What the build reads and writes on the way to the published schemas (dbt_project.yml's schemas, `main` the pg
# target's own): no reader role and not PUBLIC may use them.
INTERNAL_SCHEMAS: tuple[str, ...] = ("raw", "staging", "intermediate", "kpi", "seeds", "main")
_MAX_NAME_BYTES = 63  # PostgreSQL truncates longer names silently
_DO_TAG = "$kpiflow_grants$"


@dataclass(frozen=True)
class ReaderRoles:
    """The two reader roles, the build user that owns the schemas, and the database they are granted on."""

    bi: str
    payroll: str
    build_user: str
    dbname: str

    @classmethod
    def from_env(cls) -> ReaderRoles:
        """KPIFLOW_PG_BI_ROLE / KPIFLOW_PG_PAYROLL_ROLE (defaults kpiflow_bi, kpiflow_payroll), KPIFLOW_PG_USER and
        KPIFLOW_PG_DBNAME: the SQL needs no password, so printing it needs none either."""
        return cls.from_env_for()

    @classmethod
    def from_env_for(cls, connection: PostgresConnection | None = None) -> ReaderRoles:
        """As `from_env`, with the build user and database of `connection` when given (the publish's own)."""
        given = {"KPIFLOW_PG_USER": connection.user, "KPIFLOW_PG_DBNAME": connection.dbname} if connection else {}
        values = {}
        for var in (BI_ROLE_VAR, PAYROLL_ROLE_VAR, "KPIFLOW_PG_USER", "KPIFLOW_PG_DBNAME"):
            value = given.get(var) or os.environ.get(var) or DEFAULT_ROLES.get(var) or PG_ENV_DEFAULTS.get(var, "")
            if not value:
                raise UserInputError(f"{var} is not set: the build user that owns the schemas (as for the pg target)")
            if len(value.encode()) > _MAX_NAME_BYTES:
                raise UserInputError(f"{var}={value!r}: PostgreSQL names are at most {_MAX_NAME_BYTES} bytes")
            values[var] = value
        roles = cls(
            bi=values[BI_ROLE_VAR],
            payroll=values[PAYROLL_ROLE_VAR],
            build_user=values["KPIFLOW_PG_USER"],
            dbname=values["KPIFLOW_PG_DBNAME"],
        )
        if len({roles.bi, roles.payroll, roles.build_user}) < 3:
            raise UserInputError(
                f"{BI_ROLE_VAR}={roles.bi!r}, {PAYROLL_ROLE_VAR}={roles.payroll!r} and KPIFLOW_PG_USER="
                f"{roles.build_user!r} must be three different roles: each reads a different part of the warehouse"
            )
        return roles


def grant_statements(roles: ReaderRoles) -> list[sql.Composed]:
    """Every statement, in order: create the roles if missing, then per published schema revoke, grant, default."""
    from psycopg import sql

    bi, payroll, build = (sql.Identifier(name) for name in (roles.bi, roles.payroll, roles.build_user))
    statements = [_create_role_if_missing(roles.bi), _create_role_if_missing(roles.payroll)]
    statements.append(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(sql.Identifier(roles.dbname), bi, payroll)
    )
    for schema_name, reader, other in ((BI_SCHEMA, bi, payroll), (PAYROLL_SCHEMA, payroll, bi)):
        schema = sql.Identifier(schema_name)
        statements += [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema),
            sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC, {}").format(schema, other),
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM PUBLIC, {}").format(schema, other),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, reader),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, reader),
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                build, schema, reader
            ),
        ]
    statements.append(_revoke_internal_schemas(roles))
    return statements


def render_grants(roles: ReaderRoles) -> str:
    """The statements as a psql-ready script (what `kpiflow grants` prints and docs/postgres.md shows)."""
    # no name in the comment: a name holding a line break would end the comment and become a statement
    header = (
        f"-- kpiflow grants: the BI role reads {BI_SCHEMA}, the payroll role reads {PAYROLL_SCHEMA}, nothing else\n"
    )
    return header + "".join(statement.as_string(None) + ";\n" for statement in grant_statements(roles))


def apply_grants(connection: PostgresConnection, roles: ReaderRoles) -> int:
    """Run every statement in one transaction (all or nothing); the number of statements run."""
    import psycopg

    statements = grant_statements(roles)
    with connection.connect() as target:
        try:
            with target.transaction():
                for statement in statements:
                    target.execute(statement)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RunFailed(
                f"granting reader roles on {connection.address} was refused: {str(exc).splitlines()[0]}. Creating "
                "roles needs CREATEROLE: run `kpiflow grants` and give its SQL to a database administrator, or "
                "run it as a user with CREATEROLE that owns the schemas"
            ) from None
        except psycopg.Error as exc:
            raise RunFailed(
                f"granting reader roles on {connection.address} failed, nothing changed: {str(exc).splitlines()[0]}"
            ) from None
    return len(statements)


def _create_role_if_missing(name: str) -> sql.Composed:
    """CREATE ROLE has no IF NOT EXISTS: a DO block that creates it only when pg_roles lacks it."""
    from psycopg import sql

    return _do_block(
        sql.SQL(
            "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN\n    CREATE ROLE {} NOLOGIN;\n  END IF;"
        ).format(sql.Literal(name), sql.Identifier(name))
    )


def _revoke_internal_schemas(roles: ReaderRoles) -> sql.Composed:
    """Revoke PUBLIC and both reader roles on the internal schemas that exist (none may exist before a build)."""
    from psycopg import sql

    body = sql.SQL(
        "FOR s IN SELECT nspname FROM pg_namespace WHERE nspname = ANY ({}) ORDER BY nspname LOOP\n"
        "    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC, %I, %I', s, {}, {});\n"
        "    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC, %I, %I', s, {}, {});\n"
        "  END LOOP;"
    ).format(
        sql.Literal(list(INTERNAL_SCHEMAS)),
        *(sql.Literal(name) for name in (roles.bi, roles.payroll) * 2),
    )
    return _do_block(body, declare=sql.SQL("DECLARE s name;\n"))


def _do_block(body: sql.Composed, declare: sql.SQL | None = None) -> sql.Composed:
    """An anonymous PL/pgSQL block. Names inside are quoted as identifiers or literals; one containing the block's
    dollar-quote tag could still end it early, so such a name is refused."""
    from psycopg import sql

    if _DO_TAG in body.as_string(None):
        raise UserInputError(f"a role name contains {_DO_TAG!r}: choose another name")
    return sql.SQL("DO {tag}\n{declare}BEGIN\n  {body}\nEND {tag}").format(
        tag=sql.SQL(_DO_TAG), declare=declare or sql.SQL(""), body=body
    )


def grants_command(
    apply: Annotated[
        bool, typer.Option("--apply", help="Run the statements on the KPIFLOW_TARGET warehouse (a PostgreSQL target).")
    ] = False,
) -> None:
    """Reader roles for PostgreSQL: a BI role reading marts, a payroll role reading payroll, neither reading the rest.

    Prints the SQL (nothing changes); --apply runs it in one transaction as KPIFLOW_PG_USER. Role names come from
    KPIFLOW_PG_BI_ROLE and KPIFLOW_PG_PAYROLL_ROLE; the roles cannot log in: `GRANT kpiflow_bi TO alice`.
    """
    roles = ReaderRoles.from_env()
    if not apply:
        typer.echo(render_grants(roles), nl=False)
        return
    from kpiflow.compiler.dialects import target_dialect
    from kpiflow.config import PostgresConnection, Settings

    settings = Settings.from_env()
    dialect = target_dialect(settings)
    if dialect != "postgres":
        raise UserInputError(
            f"kpiflow grants --apply needs a PostgreSQL target: KPIFLOW_TARGET={settings.target} is a {dialect} "
            "target (set KPIFLOW_TARGET=pg, or a postgres output of profiles/profiles.yml)"
        )
    connection = PostgresConnection.from_env()
    count = apply_grants(connection, roles)
    typer.echo(
        f"{count} statements applied on {connection.address}: {roles.bi} reads {BI_SCHEMA}, "
        f"{roles.payroll} reads {PAYROLL_SCHEMA}"
    )
