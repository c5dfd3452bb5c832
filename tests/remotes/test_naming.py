"""Local names of remote tools: legal, unique, deterministic."""

from __future__ import annotations

import re

from mcpcloud.remotes.naming import local_names, selected

LEGAL = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_prefix_is_added_and_illegal_characters_replaced() -> None:
    assert local_names("team", "team_", ["echo", "get.time"], ()) == {"echo": "team_echo", "get.time": "team_get_time"}


def test_collisions_and_long_names_are_shortened_deterministically() -> None:
    long = "x" * 80
    names = local_names("team", "team_", ["echo", "a.b", "a_b", long], taken={"team_echo"})
    assert all(LEGAL.match(name) for name in names.values())
    assert len(set(names.values())) == 4
    # A local tool keeps its name; both tools that would share `team_a_b` get hashed names.
    assert names["echo"] != "team_echo" and names["a.b"] != "team_a_b" and names["a_b"] != "team_a_b"
    # The same input gives the same names, in any order.
    again = local_names("team", "team_", [long, "a_b", "a.b", "echo"], taken={"team_echo"})
    assert again == names
    # The suffix depends on the remote too: two remotes never share a shortened name.
    assert local_names("ops", "team_", [long], ())[long] != names[long]


def test_filters_exclude_wins() -> None:
    assert selected("search_issues", ["search_*"], [])
    assert not selected("delete_repo", ["search_*"], [])
    assert not selected("search_secret", ["*"], ["*secret*"])
