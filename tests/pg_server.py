"""A throwaway PostgreSQL 15 server for the test session, from the server binaries on the machine.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as an unprivileged system user
(created on first use); its data directory is a temporary folder owned by that user. It listens on 127.0.0.1 on a
free port with scram-sha-256 password authentication for one superuser, and is stopped and removed at the end. A
server that cannot start fails the tests that asked for it: a missing warehouse is never a skip.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_VERSION = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
PG_PACKAGE = f"postgresql-{PG_VERSION}"
SERVER_USER = "kpiflow-pg"  # the unprivileged system user the server runs as when the tests run as root
SUPERUSER = "kpiflow"


class PostgresUnavailable(RuntimeError):
    """The server could not be installed or started; the message says what to do."""


@dataclass(frozen=True)
class PostgresServer:
    """Where a running server listens and how to log in as its superuser."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def conninfo(self, dbname: str | None = None, user: str | None = None, password: str | None = None) -> str:
        """A libpq connection string (for psycopg.connect)."""
        return (
            f"host={self.host} port={self.port} dbname={dbname or self.dbname} "
            f"user={user or self.user} password={password or self.password}"
        )

    def env(self, dbname: str | None = None) -> dict[str, str]:
        """The KPIFLOW_PG_* variables the `pg` dbt target and kpiflow read."""
        return {
            "KPIFLOW_PG_HOST": self.host,
            "KPIFLOW_PG_PORT": str(self.port),
            "KPIFLOW_PG_USER": self.user,
            "KPIFLOW_PG_PASSWORD": self.password,
            "KPIFLOW_PG_DBNAME": dbname or self.dbname,
        }

    def create_database(self, name: str) -> str:
        """A fresh empty database (dropped first if it exists), so tests do not share tables."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name


def ensure_binaries() -> None:
    """The PostgreSQL 15 server binaries, installed from the distribution's package where missing (needs root)."""
    if (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists():
        return
    if os.geteuid() != 0:
        raise PostgresUnavailable(
            f"no PostgreSQL {PG_VERSION} in {PG_BIN}: install it with `apt-get install {PG_PACKAGE}`"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", PG_PACKAGE]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(f"`{' '.join(command)}` failed:\n{done.stderr[-2000:]}")


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None (this process's own) unless we are root, when it is SERVER_USER."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    done = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    try:  # another test session may have created it meanwhile: useradd then fails, and the user is there
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(f"cannot create the system user {SERVER_USER}: {done.stderr.strip()}") from None


def _as_account(command: list[str], account: pwd.struct_passwd | None) -> list[str]:
    if account is None:
        return command
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", "--", *command]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], env: Mapping[str, str], what: str) -> None:
    done = subprocess.run(command, env=dict(env), capture_output=True, text=True, check=False, cwd="/")
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{what} failed ({' '.join(command[-6:])}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


@contextmanager
def running_server(password: str | None = None) -> Iterator[PostgresServer]:
    """A PostgreSQL server for the duration of the block; its data directory is removed afterwards."""
    ensure_binaries()
    account = _server_account()
    password = password or secrets.token_urlsafe(18)
    root = Path(tempfile.mkdtemp(prefix="kpiflow-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    password_file = root / "superuser-password"
    password_file.write_text(password + "\n")
    os.chmod(root, 0o700)
    if account is not None:
        for path in (root, sockets, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    port = _free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(password_file)]
    initdb += ["--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions"]
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} -c fsync=off"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60"]
    try:
        _run(_as_account(initdb, account), env, "initdb")
        password_file.unlink()
        _run(_as_account([*pg_ctl, "-o", options, "start"], account), env, "starting PostgreSQL")
        yield PostgresServer("127.0.0.1", port, SUPERUSER, password, "postgres")
    finally:
        subprocess.run(_as_account([*pg_ctl, "-m", "fast", "stop"], account), env=env, capture_output=True, cwd="/")
        shutil.rmtree(root, ignore_errors=True)
