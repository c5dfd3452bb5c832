"""Is this SQL one statement that may run here? The parser's part of the sql pack's defences;
the others are the protocol (one statement per call), the read-only transaction, clean pooled
connections and the database role (docs/DATA.md says which stops what).

Parsing (not prefix matching) defeats the classic bypasses of MCP SQL servers: a comment
before `DELETE`, a second statement after `;`, `COMMIT;` to leave the read-only
transaction, a data-modifying CTE, `SELECT ... INTO`, row locks, `COPY ... TO PROGRAM`.
`query` calls only allow-listed functions (allowed.py); `execute` takes data and ordinary
schema statements only, and no function that reaches outside the database.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from mcpcloud.packs.sql.allowed import BY_DIALECT

# sqlglot warns on stderr when it falls back to a raw Command; we refuse those anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

READ_STATEMENTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)
WRITE_NODES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Copy, exp.Command)

# `execute` may write, so sequences and the like are fine there; these reach outside the database
# (files, programs, other servers) or change server-wide state (settings, other sessions,
# replication, backups, statistics). `query` does not use this list: it has an allow-list (allowed.py).
DENIED_IN_WRITES = frozenset(
    {
        "set_config", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
        "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir",
        "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_from_bytea", "lo_put",
        "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
        "pg_switch_wal", "pg_create_restore_point", "pg_logical_emit_message", "pg_notify",
        "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
        "pg_create_physical_replication_slot", "pg_create_logical_replication_slot", "pg_drop_replication_slot",
        "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot", "pg_replication_slot_advance",
        "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup",
        "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters",
        "pg_stat_reset_single_function_counters", "pg_stat_reset_slru", "pg_stat_reset_replication_slot",
        "pg_stat_statements_reset", "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_log_backend_memory_contexts",
        "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query",
        "query_to_xml", "query_to_xml_and_xmlschema", "cursor_to_xml",
        "load_extension", "writefile", "readfile", "edit", "fts3_tokenizer",
    }
)  # fmt: skip

# What `execute` is for: data changes and ordinary schema. Anything else (DO blocks, functions,
# procedures, triggers, rules, extensions, roles, ALTER SYSTEM, foreign servers, ...) installs code
# or changes the server, and sqlglot's raw `Command` fallback is refused because it cannot be checked.
WRITE_STATEMENTS = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable, exp.Comment)
SCHEMA_STATEMENTS = (exp.Create, exp.Drop, exp.Alter)
SCHEMA_KINDS = frozenset({"TABLE", "INDEX", "VIEW", "SCHEMA", "SEQUENCE", "TYPE"})


DEFAULT_SECTION = "[pack.sql.databases.<name>]"


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
        tree = [
            node
            for node in sqlglot.parse(sql, read=dialect)
            if node is not None and not isinstance(node, exp.Semicolon)
        ]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        raise RefusedStatement(f"cannot parse the SQL ({dialect}): {first}") from None
    if len(tree) != 1:
        raise RefusedStatement(
            f"exactly one statement is accepted, got {len(tree)} "
            f"({', '.join(_kind(node) for node in tree) or 'none'}); remove the ';'-separated extras"
        )
    return Statement(sql=_without_trailer(sql, dialect), kind=_kind(tree[0])), tree[0]


def check_write(
    sql: str, dialect: str, allowed_functions: frozenset[str] = frozenset(), section: str = DEFAULT_SECTION
) -> Statement:
    """Accept one data or schema statement for `execute`, but nothing that installs code, changes the
    server, or reaches server files, programs or other servers."""
    statement, node = parse_single(sql, dialect)
    for inner in node.walk():
        if isinstance(inner, exp.Copy):
            raise RefusedStatement("COPY reads or writes server files or runs programs; load data with INSERT")
        if isinstance(inner, (exp.Attach, exp.Detach)):
            raise RefusedStatement("ATTACH/DETACH opens other database files; configure each database instead")
        if isinstance(inner, exp.Func) and (name := _function_name(inner, dialect)) in DENIED_IN_WRITES:
            raise RefusedStatement(
                f"function {name}() is not allowed: it reaches outside the database or changes server-wide state; "
                "that is a database administrator's job, outside mcpcloud"
            )
    _check_write_kind(statement, node)
    if isinstance(node, exp.Create) and isinstance(node.expression, READ_STATEMENTS):
        # A view (or CREATE TABLE AS) runs its query later, for readers too: the read allow-list applies.
        for inner in node.expression.walk():
            _check_allowed_function(inner, dialect, allowed_functions, section)
    return statement


def _check_write_kind(statement: Statement, node: exp.Expression) -> None:
    if isinstance(node, WRITE_STATEMENTS):
        return
    if isinstance(node, SCHEMA_STATEMENTS):
        kind = str(node.args.get("kind") or "").upper()
        if kind in SCHEMA_KINDS:
            return
        what = f"{statement.kind} {kind}".strip()
        raise RefusedStatement(
            f"{what} is not allowed: execute changes data and ordinary schema "
            f"({', '.join(sorted(SCHEMA_KINDS))}); functions, procedures, triggers, extensions and roles "
            "are installed by a database administrator"
        )
    if isinstance(node, READ_STATEMENTS):
        raise RefusedStatement(f"{statement.kind} only reads: use the query tool")
    leading = " ".join(statement.sql.split()[:2]).upper()
    raise RefusedStatement(
        f"{leading} is not allowed: execute runs INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COMMENT and "
        f"CREATE/ALTER/DROP of {', '.join(sorted(SCHEMA_KINDS))}; DO blocks, ALTER SYSTEM, CREATE EXTENSION, "
        "roles, SET and other commands are refused"
    )


def check_read_only(
    sql: str, dialect: str, allowed_functions: frozenset[str] = frozenset(), section: str = DEFAULT_SECTION
) -> Statement:
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
        _check_allowed_function(inner, dialect, allowed_functions, section)
    return statement


def _check_allowed_function(node: exp.Expression, dialect: str, extra: frozenset[str], section: str) -> None:
    if not isinstance(node, exp.Func):
        return
    name = _function_name(node, dialect)
    if name is None or name in BY_DIALECT[dialect] or name in extra:
        return  # None: an operator or keyword form (CASE, ->>, @>, AND), which only computes a value
    raise RefusedStatement(
        f"function {name}() is not allowed: query calls only functions known to be free of side effects; "
        f'if {name}() is, add "{name}" to allowed_functions in {section}'
    )


_CALL_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_$]*)\s*(?:\(|$)")


def _function_name(node: exp.Func, dialect: str) -> str | None:
    """The function's name as the database sees it, or None for operator and keyword forms.

    Typed nodes are rendered back in the dialect (sqlglot parses `now()` as CurrentTimestamp,
    `string_agg` as GroupConcat ...); a schema other than pg_catalog stays in the name, so
    `public.lower(x)` is a user function, not the built-in.
    """
    if isinstance(node, exp.Anonymous):
        name = str(node.name).lower()
    else:
        match = _CALL_HEAD.match(node.sql(dialect))
        if match is None:
            return None
        name = match.group(1).lower()
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        schema = parent.this.sql(dialect).strip('"').lower()
        if schema != "pg_catalog":
            return f"{schema}.{name}"
    return name


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper()


def _without_trailer(sql: str, dialect: str) -> str:
    """Cut after the last real token, so the statement can be wrapped in a sub-select."""
    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    meaningful = [token for token in tokens if token.token_type != sqlglot.TokenType.SEMICOLON]
    return sql[: meaningful[-1].end + 1] if meaningful else sql
