"""Is this SQL one statement that only reads? The first of two locks; the database's own
read-only transaction is the second (see engines), so neither has to be perfect alone.

Parsing (not prefix matching) defeats the classic bypasses of MCP SQL servers: a comment
before `DELETE`, a second statement after `;`, `COMMIT;` to leave the read-only
transaction, a data-modifying CTE, `SELECT ... INTO`, row locks, `COPY ... TO PROGRAM`, and
functions that change settings or reach outside the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

# sqlglot warns on stderr when it falls back to a raw Command; we refuse those anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

READ_STATEMENTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)
WRITE_NODES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Copy, exp.Command)

# Functions that change server state, read server files, or talk to other servers. A user
# function that writes is caught by the read-only transaction instead.
DENIED_FUNCTIONS = frozenset(
    {
        "set_config", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
        "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_from_bytea", "lo_put",
        "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
        "pg_switch_wal", "pg_create_restore_point", "pg_logical_emit_message",
        "pg_advisory_lock", "pg_advisory_xact_lock", "pg_try_advisory_lock", "pg_try_advisory_xact_lock",
        "dblink", "dblink_exec", "dblink_connect", "dblink_send_query",
        "nextval", "setval", "query_to_xml", "query_to_xml_and_xmlschema", "cursor_to_xml",
        "load_extension", "writefile", "readfile", "edit", "fts3_tokenizer",
    }
)  # fmt: skip


class RefusedStatement(ValueError):
    """The statement is not allowed here; the message says why."""


@dataclass(frozen=True)
class Statement:
    sql: str
    """The statement as given, without a trailing `;` and comments after it."""
    kind: str
    """Upper-case statement type, e.g. SELECT, INSERT, UNION."""


def parse_single(sql: str, dialect: str) -> tuple[Statement, exp.Expression]:
    """The one statement in `sql`; refuses none or several."""
    if not sql.strip():
        raise RefusedStatement("the SQL is empty")
    try:
        tree = [node for node in sqlglot.parse(sql, read=dialect) if node is not None and not isinstance(node, exp.Semicolon)]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        raise RefusedStatement(f"cannot parse the SQL ({dialect}): {first}") from None
    if len(tree) != 1:
        raise RefusedStatement(
            f"exactly one statement is accepted, got {len(tree)} "
            f"({', '.join(_kind(node) for node in tree) or 'none'}); remove the ';'-separated extras"
        )
    return Statement(sql=_without_trailer(sql, dialect), kind=_kind(tree[0])), tree[0]


def check_write(sql: str, dialect: str) -> Statement:
    """Accept one statement for `execute`, but nothing that reaches server files, programs or other servers."""
    statement, node = parse_single(sql, dialect)
    for inner in node.walk():
        if isinstance(inner, exp.Copy):
            raise RefusedStatement("COPY reads or writes server files or runs programs; load data with INSERT")
        if isinstance(inner, (exp.Attach, exp.Detach)):
            raise RefusedStatement("ATTACH/DETACH opens other database files; configure each database instead")
        _check_function(inner)
    return statement


def check_read_only(sql: str, dialect: str) -> Statement:
    """Accept exactly one statement that only reads; raise `RefusedStatement` naming why not."""
    statement, node = parse_single(sql, dialect)
    if not isinstance(node, READ_STATEMENTS):
        raise RefusedStatement(
            f"{statement.kind} is not a read-only statement; query runs SELECT, WITH ... SELECT, VALUES "
            "or set operations only (writes go through the execute tool, where enabled)"
        )
    for inner in node.walk():
        if isinstance(inner, WRITE_NODES):
            raise RefusedStatement(f"the query contains a data-modifying {_kind(inner)} (e.g. inside a WITH clause)")
        if isinstance(inner, exp.Into):
            raise RefusedStatement("SELECT ... INTO creates a table; query only reads")
        if isinstance(inner, exp.Lock):
            raise RefusedStatement("row locks (FOR UPDATE / FOR SHARE) are not allowed in a read-only query")
        _check_function(inner)
    return statement


def _check_function(node: exp.Expression) -> None:
    if isinstance(node, exp.Func):
        name = _function_name(node)
        if name in DENIED_FUNCTIONS:
            raise RefusedStatement(f"function {name}() is not allowed: it can change server state or reach outside the database")


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper()


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


def _without_trailer(sql: str, dialect: str) -> str:
    """Cut after the last real token, so the statement can be wrapped in a sub-select."""
    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    meaningful = [token for token in tokens if token.token_type != sqlglot.TokenType.SEMICOLON]
    return sql[: meaningful[-1].end + 1] if meaningful else sql
