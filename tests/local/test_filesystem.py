"""The filesystem pack over stdio with the SDK client: the tools behave like the reference server's,
and the known escapes fail. After every test nothing outside the root has changed and no canary
text from outside came back."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess

import pytest
from local_helpers import Sandbox, flipping, no_approval, text_of
from mcp import Client
from tests.conftest import MCPCLOUD, server_env

from mcpcloud.packs.conformance.media import red_pixel_png
from mcpcloud.packs.filesystem.edits import unified_diff

REFERENCE_TOOLS = {
    "read_text_file": {"path", "head", "tail"},
    "read_media_file": {"path"},
    "read_multiple_files": {"paths"},
    "write_file": {"path", "content"},
    "edit_file": {"path", "edits", "dryRun"},
    "create_directory": {"path"},
    "list_directory": {"path"},
    "list_directory_with_sizes": {"path", "sortBy"},
    "directory_tree": {"path", "excludePatterns"},
    "move_file": {"source", "destination"},
    "search_files": {"path", "pattern", "excludePatterns"},
    "get_file_info": {"path"},
    "list_allowed_directories": set(),
}
WRITES = no_approval(MCPCLOUD_PACK__FILESYSTEM__ALLOW_WRITES="true")


async def call(client: Client, tool: str, **arguments: object) -> tuple[bool, str]:
    result = await client.call_tool(tool, arguments)
    return result.is_error, text_of(result)


async def test_same_tools_and_arguments_as_the_reference_server(sandbox: Sandbox) -> None:
    async with Client(sandbox.params(**WRITES)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        for name, arguments in REFERENCE_TOOLS.items():
            assert set(tools[name].input_schema.get("properties", {})) == arguments, name
        edit_item = tools["edit_file"].input_schema
        assert "oldText" in json.dumps(edit_item) and "newText" in json.dumps(edit_item)
        error, text = await call(client, "read_text_file", path="hello.txt")
        assert (error, text) == (False, "hello\n")
        error, listed = await call(client, "list_allowed_directories")
        assert str(sandbox.root.resolve()) in listed


def test_read_only_unless_allowed_and_writes_need_the_write_scope(sandbox: Sandbox) -> None:
    def tools(**env: str) -> dict[str, list[str]]:
        env = {"MCPCLOUD_PACK__FILESYSTEM__ROOTS": json.dumps([str(sandbox.root)]), **env}
        listed = subprocess.run(
            [MCPCLOUD, "tools", "--json", "--packs", "filesystem"],
            env=server_env(**env),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {tool["name"]: tool["scopes"] for tool in json.loads(listed)}

    read_only = tools()
    assert "write_file" not in read_only and "edit_file" not in read_only and "move_file" not in read_only
    assert read_only["read_text_file"] == ["filesystem:read"]
    writable = tools(MCPCLOUD_PACK__FILESYSTEM__ALLOW_WRITES="true")
    for tool in ("write_file", "edit_file", "create_directory", "move_file"):
        assert writable[tool] == ["filesystem:write"]
    sandbox.assert_untouched()


async def test_prefix_siblings_dot_dot_and_absolute_paths_stay_outside(sandbox: Sandbox) -> None:
    texts = []
    attempts = [
        str(sandbox.sibling / "secret.txt"),  # /…/root_x shares the prefix /…/root
        "../root_x/secret.txt",
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        str(sandbox.outside / "secret.txt"),
        f"{sandbox.root}/../outside/secret.txt",
        "/etc/passwd",
        "~/.bashrc",
    ]
    async with Client(sandbox.params(**WRITES)) as client:
        for path in attempts:
            error, text = await call(client, "read_text_file", path=path)
            assert error and "outside the allowed directories" in text, path
            texts.append(text)
        for tool, arguments in [
            ("list_directory", {"path": ".."}),
            ("directory_tree", {"path": str(sandbox.sibling)}),
            ("search_files", {"path": "..", "pattern": "*secret*"}),
            ("get_file_info", {"path": "../outside/secret.txt"}),
            ("write_file", {"path": "../outside/secret.txt", "content": "owned"}),
            ("write_file", {"path": str(sandbox.sibling / "new.txt"), "content": "owned"}),
            ("create_directory", {"path": "../outside/made"}),
            ("move_file", {"source": "hello.txt", "destination": "../outside/hello.txt"}),
            ("move_file", {"source": "../outside/secret.txt", "destination": "stolen.txt"}),
        ]:
            error, text = await call(client, tool, **arguments)
            assert error and "outside the allowed directories" in text, tool
            texts.append(text)
        _, multiple = await call(client, "read_multiple_files", paths=["hello.txt", "../outside/secret.txt"])
        assert "hello" in multiple and "outside the allowed directories" in multiple
        texts.append(multiple)
    assert not (sandbox.root / "stolen.txt").exists()
    sandbox.assert_untouched(*texts)


async def test_symlinks_pointing_out_are_neither_read_listed_nor_written(sandbox: Sandbox) -> None:
    (sandbox.root / "link.txt").symlink_to(sandbox.outside / "secret.txt")
    (sandbox.root / "linkdir").symlink_to(sandbox.outside)
    (sandbox.root / "inner.txt").symlink_to(sandbox.root / "hello.txt")  # inside -> inside: fine
    texts = []
    async with Client(sandbox.params(**WRITES)) as client:
        for tool, arguments in [
            ("read_text_file", {"path": "link.txt"}),
            ("read_media_file", {"path": "link.txt"}),
            ("read_text_file", {"path": "linkdir/secret.txt"}),
            ("list_directory", {"path": "linkdir"}),
            ("get_file_info", {"path": "linkdir/secret.txt"}),
            ("write_file", {"path": "link.txt", "content": "owned"}),
            ("write_file", {"path": "linkdir/new.txt", "content": "owned"}),
            ("edit_file", {"path": "link.txt", "edits": [{"oldText": "CANARY", "newText": "x"}]}),
            ("create_directory", {"path": "linkdir/made"}),
            ("move_file", {"source": "hello.txt", "destination": "linkdir/hello.txt"}),
        ]:
            error, text = await call(client, tool, **arguments)
            assert error and "outside the allowed directories" in text, (tool, text)
            texts.append(text)
        assert await call(client, "read_text_file", path="inner.txt") == (False, "hello\n")
        _, tree = await call(client, "directory_tree", path=".")
        linkdir = next(node for node in json.loads(tree) if node["name"] == "linkdir")
        assert linkdir == {"name": "linkdir", "type": "symlink"}, "a linked directory is not descended into"
        _, found = await call(client, "search_files", path=".", pattern="*secret*")
        assert found == "No matches found"
        _, listed = await call(client, "list_directory", path=".")
        assert "[LINK] linkdir" in listed
        texts += [tree, found, listed]
    sandbox.assert_untouched(*texts)


async def test_a_symlink_swapped_in_between_check_and_use_is_refused(sandbox: Sandbox) -> None:
    flip = sandbox.root / "flip"
    flip.mkdir()
    (flip / "secret.txt").write_text("inside\n")
    texts, outcomes = [], set()
    async with Client(sandbox.params(**WRITES)) as client:
        with flipping(flip, sandbox.outside):
            for n in range(150):
                error, text = await call(client, "read_text_file", path="flip/secret.txt")
                texts.append(text)
                outcomes.add("refused" if error else text)
                error, text = await call(client, "write_file", path=f"flip/written-{n}.txt", content="x")
                texts.append(text)
    assert outcomes <= {"inside\n", "refused"}
    assert not list(sandbox.outside.glob("written-*")), "a write followed the swapped-in link"
    sandbox.assert_untouched(*texts)


async def test_nul_bytes_and_overlong_names_are_refused_clearly(sandbox: Sandbox) -> None:
    async with Client(sandbox.params(**WRITES)) as client:
        error, text = await call(client, "read_text_file", path="hello.txt\x00../../outside/secret.txt")
        assert error and "NUL byte" in text
        error, text = await call(client, "write_file", path="n\x00.txt", content="x")
        assert error and "NUL byte" in text
        error, text = await call(client, "write_file", path="a" * 300, content="x")
        assert error and "limited to 255" in text
        error, text = await call(client, "read_text_file", path="d/" * 2100 + "f")
        assert error and "the limit is 4096" in text
        (sandbox.root / "loop").symlink_to(sandbox.root / "loop")
        error, text = await call(client, "read_text_file", path="loop")
        assert error
        assert await call(client, "read_text_file", path="hello.txt") == (False, "hello\n"), "still healthy"
    assert sorted(p.name for p in sandbox.root.iterdir()) == ["hello.txt", "loop"]
    sandbox.assert_untouched(text)


async def test_fifos_sockets_and_devices_are_refused_without_hanging(sandbox: Sandbox) -> None:
    os.mkfifo(sandbox.root / "fifo")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sandbox.root / "sock"))
    try:
        os.mknod(sandbox.root / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # like /dev/zero
        devices = ["zero"]
    except PermissionError:
        devices = []  # not root: device files cannot be made here; FIFOs and sockets still are
    try:
        async with Client(sandbox.params(**WRITES)) as client:
            for name, kind in [("fifo", "a FIFO"), ("sock", "a socket")] + [(d, "a device file") for d in devices]:
                for tool in ("read_text_file", "read_media_file"):
                    error, text = await call(client, tool, path=name)
                    assert error and f"is {kind}, not a regular file" in text, (tool, text)
                error, text = await call(client, "write_file", path=name, content="x")
                assert error and f"is {kind}; only regular files are replaced" in text
            assert stat.S_ISFIFO((sandbox.root / "fifo").lstat().st_mode), "the FIFO was not replaced"
    finally:
        listener.close()
    sandbox.assert_untouched()


async def test_size_caps_and_binary_detection(sandbox: Sandbox) -> None:
    (sandbox.root / "big.txt").write_text("".join(f"line {n}\n" for n in range(200)))
    (sandbox.root / "blob 1%.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (sandbox.root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    for name in ("one.txt", "two.txt"):
        (sandbox.root / name).write_text("y" * 150)
    env = {
        **WRITES,
        "MCPCLOUD_PACK__FILESYSTEM__MAX_READ_BYTES": "200",
        "MCPCLOUD_PACK__FILESYSTEM__MAX_WRITE_BYTES": "100",
        "MCPCLOUD_PACK__FILESYSTEM__MAX_ENTRIES": "3",
    }
    async with Client(sandbox.params(**env)) as client:
        error, text = await call(client, "read_text_file", path="big.txt")
        assert error and "max_read_bytes" in text
        assert await call(client, "read_text_file", path="big.txt", head=2) == (False, "line 0\nline 1\n")
        assert await call(client, "read_text_file", path="big.txt", tail=2) == (False, "line 198\nline 199\n")
        error, text = await call(client, "read_text_file", path="big.txt", head=1, tail=1)
        assert error and "not both" in text
        error, text = await call(client, "read_text_file", path="blob 1%.bin")
        assert error and "looks binary" in text and "read_media_file" in text
        error, text = await call(client, "read_text_file", path="latin1.txt")
        assert error and "not UTF-8" in text
        error, text = await call(client, "write_file", path="large.txt", content="x" * 101)
        assert error and "max_write_bytes" in text
        _, both = await call(client, "read_multiple_files", paths=["one.txt", "two.txt"])
        assert "y" * 150 in both and "two.txt: skipped - the combined read cap of 200 bytes was reached" in both
        _, tree = await call(client, "directory_tree", path=".")
        assert "[truncated: more than 3 entries" in tree
        _, found = await call(client, "search_files", path=".", pattern="*.txt")
        assert "[truncated: stopped after 3 entries" in found
        media = (await client.call_tool("read_media_file", {"path": "blob 1%.bin"})).content[0]
        assert media.type == "resource" and media.resource.mime_type == "application/octet-stream"
        assert str(media.resource.uri).endswith("/root/blob%201%25.bin")
        (sandbox.root / "pixel.png").write_bytes(red_pixel_png())
        image = (await client.call_tool("read_media_file", {"path": "pixel.png"})).content[0]
        assert image.type == "image" and image.mime_type == "image/png"
        assert base64.b64decode(image.data) == red_pixel_png()
    assert not (sandbox.root / "large.txt").exists()
    sandbox.assert_untouched()


async def test_writes_are_atomic_keep_permissions_and_leave_no_temporary_files(sandbox: Sandbox) -> None:
    target = sandbox.root / "hello.txt"
    target.chmod(0o640)
    original = target.open("rb")  # a reader holding the old file: an atomic replace leaves it whole
    async with Client(sandbox.params(**WRITES)) as client:
        assert (await call(client, "write_file", path="hello.txt", content="replaced\n"))[0] is False
        error, diff = await call(
            client, "edit_file", path="hello.txt", edits=[{"oldText": "replaced", "newText": "edited"}], dryRun=True
        )
        assert not error and "-replaced" in diff and "+edited" in diff
        assert target.read_text() == "replaced\n", "a dry run writes nothing"
        error, text = await call(client, "edit_file", path="hello.txt", edits=[{"oldText": "e", "newText": "E"}])
        assert error and "occurs 2 times" in text
        error, text = await call(client, "edit_file", path="hello.txt", edits=[{"oldText": "absent", "newText": "x"}])
        assert error and "not found" in text
        assert (
            await call(client, "edit_file", path="hello.txt", edits=[{"oldText": "replaced", "newText": "edited"}])
        )[0] is False
        assert (await call(client, "create_directory", path="a/b/c"))[0] is False
        assert (await call(client, "move_file", source="hello.txt", destination="a/b/c/moved.txt"))[0] is False
        error, text = await call(client, "move_file", source="a/b/c/moved.txt", destination="a")
        assert error and "already exists" in text
        (sandbox.root / ".git").mkdir()
        error, text = await call(
            client, "write_file", path=".git/config", content="[core]\n\tfsmonitor = touch MARKER\n"
        )
        assert error and "inside a .git directory" in text
    moved = sandbox.root / "a/b/c/moved.txt"
    assert moved.read_text() == "edited\n"
    assert stat.S_IMODE(moved.stat().st_mode) == 0o640
    with original:
        assert original.read() == b"hello\n", "the old file was replaced, not rewritten in place"
    assert not [p for p in sandbox.root.rglob("*") if p.name.endswith(".tmp")]
    assert not (sandbox.root / ".git/config").exists()
    sandbox.assert_untouched()


@pytest.mark.parametrize(
    "roots,message",
    [
        (None, "pack.filesystem.roots: Field required"),
        ("/no/such/directory", "root '/no/such/directory' is not an existing directory"),
        ("[]", "pack.filesystem.roots: Value should have at least 1 item"),
    ],
)
def test_roots_must_be_given_and_exist(roots: str | None, message: str) -> None:
    env = server_env(**({"MCPCLOUD_PACK__FILESYSTEM__ROOTS": roots} if roots is not None else {}))
    done = subprocess.run(
        [MCPCLOUD, "tools", "--packs", "filesystem"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_large_changes_are_summarised_instead_of_diffed() -> None:
    summary = unified_diff("a\n" * 300_000, "b\n", "/r/big.txt")
    assert summary.startswith("/r/big.txt: 600000 characters before, 2 after; too large to show as a diff")
    assert unified_diff("a\n", "b\n", "/r/f").splitlines()[-3:] == ["-a", "+b", "```"]
