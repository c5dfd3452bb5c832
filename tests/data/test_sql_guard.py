"""The statement classifier alone: what it accepts and the reason it gives for what it refuses."""

from __future__ import annotations

import pytest

from mcpcloud.packs.sql.guard import RefusedStatement, check_read_only

ACCEPTED = [
    ("SELECT 1", "SELECT 1"),
    ("select a from t -- trailing comment", "select a from t"),
    ("SELECT 1;", "SELECT 1"),
    ("SELECT 1; -- done", "SELECT 1"),
    ("WITH x AS (SELECT 1 AS a) SELECT a FROM x", None),
    ("SELECT 1 UNION ALL SELECT 2", None),
    ("VALUES (1), (2)", None),
    ("SELECT upper(name), count(*) FROM t GROUP BY 1", None),
    ("SELECT * FROM t WHERE id = %s AND name = %(n)s", None),
]


@pytest.mark.parametrize(("sql", "kept"), ACCEPTED)
def test_accepts_one_read_statement(sql: str, kept: str | None) -> None:
    statement = check_read_only(sql, "postgres")
    assert statement.sql == (kept or sql)


REFUSED = [
    ("", "the SQL is empty"),
    ("   ", "the SQL is empty"),
    ("SELEC 1 FROM", "cannot parse the SQL"),
    ("INSERT INTO t VALUES (1)", "INSERT is not a read-only statement"),
    ("UPDATE t SET a = 1", "UPDATE is not a read-only statement"),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "not a read-only statement"),
    ("TRUNCATE t", "not a read-only statement"),
    ("CREATE TABLE x (a int)", "CREATE is not a read-only statement"),
    ("GRANT ALL ON t TO public", "not a read-only statement"),
    ("SELECT pg_read_file('/etc/passwd')", "function pg_read_file() is not allowed"),
    ("SELECT PG_TERMINATE_BACKEND(1)", "function pg_terminate_backend() is not allowed"),
    ("SELECT * FROM dblink('host=x', 'DELETE FROM t') AS r(a int)", "function dblink() is not allowed"),
    ("SELECT lo_import('/etc/passwd')", "function lo_import() is not allowed"),
    ("SELECT 1 FROM t FOR SHARE", "row locks"),
    ("(SELECT 1) UNION (SELECT id FROM (DELETE FROM t RETURNING id) d)", None),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED)
def test_refuses_with_a_reason(sql: str, reason: str | None) -> None:
    with pytest.raises(RefusedStatement) as refused:
        check_read_only(sql, "postgres")
    if reason:
        assert reason in str(refused.value)
