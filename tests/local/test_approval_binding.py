"""The approval binding on its own: it fits only its caller, tool and arguments, until it expires, once.

(Over the wire the SDK's sealed requestState refuses a replay with other arguments before this
check runs; these tests show the check holds by itself too.)"""

from __future__ import annotations

import time

from mcpcloud.approval.binding import Binding, SpentNonces, arguments_digest
from mcpcloud.packs.filesystem.edits import EditOperation


def test_a_binding_fits_only_its_own_call() -> None:
    digest = arguments_digest("write_file", {"path": "a.txt", "content": "x"})
    binding = Binding.decode(Binding.new("local", "write_file", digest, ttl=60).encode())
    assert binding is not None and binding.fits("local", "write_file", digest)
    assert not binding.fits("local", "write_file", arguments_digest("write_file", {"path": "b.txt", "content": "x"}))
    assert not binding.fits("local", "edit_file", digest)
    assert not binding.fits("key:other", "write_file", digest)
    expired = Binding("local", "write_file", digest, time.time() - 1, "n")
    assert not expired.fits("local", "write_file", digest)


def test_digests_cover_nested_arguments_and_ignore_key_order() -> None:
    one = arguments_digest("edit_file", {"path": "a", "edits": [EditOperation(oldText="a", newText="b")]})
    same = arguments_digest("edit_file", {"edits": [{"oldText": "a", "newText": "b"}], "path": "a"})
    other = arguments_digest("edit_file", {"path": "a", "edits": [EditOperation(oldText="a", newText="c")]})
    assert one == same and one != other


def test_garbage_state_decodes_to_nothing() -> None:
    for state in (None, "", "not json", '{"approval": {}}', '{"other": 1}', "[1]"):
        assert Binding.decode(state) is None


def test_a_nonce_is_spent_once() -> None:
    spent = SpentNonces()
    binding = Binding.new("local", "t", "d", ttl=60)
    assert spent.spend(binding) and not spent.spend(binding)
    assert spent.spend(Binding.new("local", "t", "d", ttl=60))
