"""Opening a warehouse for a command that only reads (query, scorecard, dashboard), on any engine.

One place for the sessions and the messages: the published marts (what BI tools see: `scorecard`, `dashboard`) or
the built warehouse (`query`: its semantic models are the built `intermediate` tables). Both sessions are read-only
(DuckDB attaches the file read-only, PostgreSQL sets `default_transaction_read_only`), so reading cannot write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from kpiflow.errors import UserInputError
from kpiflow.warehouse.interface import AccessDenied, Session, Warehouse, WarehouseError


def not_published(location: str) -> str:
    return (
        f"no published marts at {location}; run `kpiflow run` first "
        "(or point KPIFLOW_MARTS, or KPIFLOW_TARGET, at the published ones)"
    )


@contextmanager
def published_session(warehouse: Warehouse, reads: str) -> Iterator[Session]:
    """A read-only session on the published marts; UserInputError when nothing is published (published schemas
    holding no table, as `kpiflow grants` leaves them, count as nothing) or they cannot be opened or read.
    `reads` says what the command reads, for the message when a privilege is missing."""
    location = warehouse.published_location
    if not warehouse.is_published():
        raise UserInputError(not_published(location))
    with _read_only(warehouse.read_published, location, reads) as session:
        if not session.relations(("marts",)):
            raise UserInputError(not_published(location))
        yield session


@contextmanager
def built_session(warehouse: Warehouse, reads: str) -> Iterator[Session]:
    """A read-only session on the built warehouse (what `kpiflow run` built; not necessarily published)."""
    if not warehouse.exists():
        raise UserInputError(f"no warehouse at {warehouse.location}: run `make run` or `kpiflow run` first")
    with _read_only(lambda: warehouse.connect(read_only=True), warehouse.location, reads) as session:
        yield session


@contextmanager
def _read_only(
    open_session: Callable[[], AbstractContextManager[Session]], location: str, reads: str
) -> Iterator[Session]:
    with ExitStack() as stack:
        try:
            session = stack.enter_context(open_session())
        except WarehouseError as exc:
            raise UserInputError(f"cannot open {location} read-only: {exc}") from None
        try:
            yield session
        except AccessDenied as exc:
            raise UserInputError(
                f"cannot read {location}: {exc}. {reads}; connect as a user granted that "
                "(docs/postgres.md, 'Roles for BI tools and payroll')"
            ) from None
