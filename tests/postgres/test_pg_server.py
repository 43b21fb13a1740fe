"""The test session's PostgreSQL server: real, unprivileged, password-protected, on 127.0.0.1, and gone afterwards."""

from __future__ import annotations

import os
import socket

import psycopg
import pytest
from pg_server import PG_VERSION, SERVER_USER, PostgresServer, running_server


def test_the_superuser_logs_in_with_its_password_over_tcp(pg_server: PostgresServer) -> None:
    with psycopg.connect(pg_server.conninfo()) as connection:
        version = connection.execute("show server_version_num").fetchone()
        address = connection.execute("select inet_server_addr()::text").fetchone()
        is_superuser = connection.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
        method = connection.execute("show password_encryption").fetchone()
    assert version is not None and version[0].startswith(PG_VERSION)
    assert address == ("127.0.0.1/32",)
    assert is_superuser == (True,)
    assert method == ("scram-sha-256",)


def test_a_wrong_password_is_refused(pg_server: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.conninfo(password="not-the-password"))


def test_the_server_process_is_not_root(pg_server: PostgresServer) -> None:
    with psycopg.connect(pg_server.conninfo()) as connection:  # the backend exits when the connection closes
        row = connection.execute("select pg_backend_pid()").fetchone()
        assert row is not None
        owner = os.stat(f"/proc/{row[0]}").st_uid
    assert owner != 0
    if os.geteuid() == 0:
        import pwd

        assert pwd.getpwuid(owner).pw_name == SERVER_USER


def test_the_server_and_its_data_are_removed_when_done() -> None:
    with running_server(password="only-for-this-test") as server:
        with psycopg.connect(server.conninfo()) as connection:
            row = connection.execute("select current_setting('data_directory')").fetchone()
        assert row is not None
        data_directory = row[0]
        assert os.path.isdir(data_directory)
    assert not os.path.exists(data_directory)
    with socket.socket() as probe, pytest.raises(OSError):
        probe.connect((server.host, server.port))
