"""The guides stay true: their runnable blocks run, their cluster blocks render offline, their
Mermaid diagrams parse with the parser GitHub uses, their links resolve, and the troubleshooting
table quotes messages mcpcloud really prints. The block convention is in tests/doc_blocks.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conformance_suite import node_program, npm_ci
from tests.conftest import free_port, server_env
from tests.doc_blocks import DOC_PORT, ROOT, Block, anchors, blocks, documents, links, section

DOCS = documents()
RUNNABLE = [doc for doc in DOCS if any(b.kind in ("run", "serve") for b in blocks(doc))]
BIN = Path(sys.executable).parent
MERMAID_PINNED = Path(__file__).resolve().parent / "mermaid"
MERMAID_DIR = ROOT / ".mermaid"
DOC_TIMEOUT_SECONDS = 300

PRELUDE = r"""
set -euo pipefail
set -a  # a variable a block sets is there for the next ones and for the servers, as in a reader's shell
__server=""
__stop() { if [[ -n "$__server" ]]; then kill -TERM -- "-$__server" 2>/dev/null || true; wait "$__server" 2>/dev/null || true; __server=""; fi; }
trap __stop EXIT
__serve() {  # $1: log file, $2: the block's text
  __stop
  setsid bash -c "$2" >"$1" 2>&1 &
  __server=$!
  if ! "$__python" -c "$__wait_ready" "$__port" "$__server"; then cat "$1" >&2; exit 1; fi
}
__expect_exit() {  # $1: status, $2: where, $3: the block's text
  local status=0
  bash -c "$3" || status=$?
  if [[ "$status" != "$1" ]]; then echo "$2: expected exit status $1, got $status" >&2; exit 1; fi
}
"""

WAIT_READY = """
import os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(f"the served block exited before answering on port {port}")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"nothing answered http://127.0.0.1:{port}/readyz within 60 s")
"""


def with_port(text: str, port: int) -> str:
    return re.sub(rf"\b{DOC_PORT}\b", str(port), text)


def script_for(doc: Path, port: int, workdir: Path) -> str:
    """One bash script that does what a reader of `doc` types, block after block."""
    parts = [PRELUDE]
    for block in blocks(doc):
        text = with_port(block.text, port)
        if block.kind == "file":
            target = workdir / block.tags["file"]
            parts.append(f"mkdir -p {shlex.quote(str(target.parent))}")
            parts.append(f"cat > {shlex.quote(str(target))} <<'__MCPCLOUD_DOC_EOF__'\n{text}__MCPCLOUD_DOC_EOF__")
        elif block.kind == "run" and "exit" in block.tags:
            parts.append(f"echo '--- {block.where}' >&2")
            parts.append(f"__expect_exit {block.tags['exit']} {shlex.quote(block.where)} {shlex.quote(text)}")
        elif block.kind == "run":
            parts.append(f"echo '--- {block.where}' >&2")
            parts.append(text)
        elif block.kind == "serve":
            parts.append(f"echo '--- {block.where} (served)' >&2")
            parts.append(f"__serve {shlex.quote(str(workdir / f'serve-{block.line}.log'))} {shlex.quote(text)}")
    return "\n".join(parts) + "\n"


@pytest.mark.parametrize("doc", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_runnable_blocks_run(doc: Path, tmp_path: Path) -> None:
    port = free_port()
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    env = {k: v for k, v in server_env().items() if k not in ("PYTHONPATH", "XDG_CONFIG_HOME")}
    env.update(
        HOME=str(home),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        MCPCLOUD_LOG__FORMAT="console",
        __python=sys.executable,
        __port=str(port),
        __wait_ready=WAIT_READY,
    )
    script = workdir / "reader.sh"
    script.write_text(script_for(doc, port, workdir))
    process = subprocess.Popen(
        ["bash", str(script)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=DOC_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{doc.name}: the blocks did not finish within {DOC_TIMEOUT_SECONDS} s:\n{output[-6000:]}")
    assert process.returncode == 0, f"{doc.name}: a block failed (the last '---' line names it):\n{output[-6000:]}"


CLUSTER_BLOCKS = [block for doc in DOCS for block in blocks(doc) if block.kind == "cluster"]
KUSTOMIZE_PATH = re.compile(r"(?:kubectl\s+(?:apply|diff|delete)\s+-k|kubectl\s+kustomize|kustomize\s+build)\s+(\S+)")
SCRIPT_PATH = re.compile(r"(?<![\w/])(deploy/scripts/[\w.-]+\.sh)\b")


@pytest.mark.parametrize("block", CLUSTER_BLOCKS, ids=lambda b: b.where)
def test_cluster_blocks_name_overlays_that_render_and_scripts_that_exist(block: Block) -> None:
    overlays = KUSTOMIZE_PATH.findall(block.text)
    scripts = SCRIPT_PATH.findall(block.text)
    assert overlays or scripts or "kubectl" in block.text, f"{block.where}: a cluster block with nothing to check"
    for script in scripts:
        done = subprocess.run(
            ["bash", script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{block.where}: {script} --help exited {done.returncode}: {done.stderr}"
    kubectl = shutil.which("kubectl")
    for overlay in overlays:
        assert (ROOT / overlay / "kustomization.yaml").is_file(), f"{block.where}: {overlay} is not a kustomization"
        if kubectl:
            done = subprocess.run(
                [kubectl, "kustomize", overlay], cwd=ROOT, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, f"{block.where}: kubectl kustomize {overlay}: {done.stderr}"


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for doc in DOCS:
        for line, target in links(doc):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            path_part, _, anchor = target.partition("#")
            destination = (doc.parent / path_part).resolve() if path_part else doc
            where = f"{doc.relative_to(ROOT)}:{line}"
            if not destination.exists():
                broken.append(f"{where}: {target} (no such file)")
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                broken.append(f"{where}: {target} (no heading with that anchor)")
    assert not broken, "\n".join(broken)


def test_mermaid_diagrams_parse_as_github_renders_them() -> None:
    diagrams = [block for doc in DOCS for block in blocks(doc) if block.lang == "mermaid"]
    assert diagrams, "the guides have Mermaid diagrams; none were found"
    parser = MERMAID_DIR / "parse.mjs"
    npm_ci(MERMAID_PINNED, MERMAID_DIR, MERMAID_DIR / "node_modules" / "mermaid" / "package.json", "the Mermaid parser")
    shutil.copyfile(MERMAID_PINNED / "parse.mjs", parser)
    done = subprocess.run(
        [node_program("node"), str(parser)],
        input=json.dumps([b.text for b in diagrams]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    failures = [
        f"{b.where}: {r['error']}" for b, r in zip(diagrams, json.loads(done.stdout), strict=True) if not r["ok"]
    ]
    assert not failures, "\n".join(failures)


def test_a_broken_diagram_is_caught(tmp_path: Path) -> None:
    """The parser check can fail: a flowchart with an unclosed node is refused."""
    npm_ci(MERMAID_PINNED, MERMAID_DIR, MERMAID_DIR / "node_modules" / "mermaid" / "package.json", "the Mermaid parser")
    shutil.copyfile(MERMAID_PINNED / "parse.mjs", MERMAID_DIR / "parse.mjs")
    done = subprocess.run(
        [node_program("node"), str(MERMAID_DIR / "parse.mjs")],
        input=json.dumps(["flowchart TD\n  A[open --> B"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(done.stdout)[0]["ok"] is False


def source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "mcpcloud").rglob("*.py"))


def test_troubleshooting_table_quotes_real_messages() -> None:
    """Each row's message (the first cell's code, `…` where values vary) appears in mcpcloud's source."""
    rows = [line for line in section(ROOT / "docs" / "PLAYBOOK.md", "Troubleshooting") if line.startswith("| `")]
    assert len(rows) >= 10, "the troubleshooting table lost its rows"
    source = source_text()
    missing = []
    for row in rows:
        message = re.match(r"\| `(?P<m>[^`]+)`", row)["m"]  # type: ignore[index]
        for piece in filter(None, (p.strip() for p in message.split("…"))):
            if piece not in source:
                missing.append(f"{piece!r} (row: {message})")
    assert not missing, "messages not printed by mcpcloud any more:\n" + "\n".join(missing)


def test_the_block_convention_is_read_as_documented(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Title\n\n"
        "```` ```sh run ```` is inline code, not a fence\n\n"
        "```sh run exit=2\nfalse\n```\n\n"
        "~~~toml file=conf/app.toml\nport = 1\n~~~\n\n"
        "```sh\necho shown\n```\n\n"
        "## A `code` heading, with [a link](x.md)\n"
    )
    found = [(b.line, b.lang, b.kind, b.tags, b.text) for b in blocks(doc)]
    assert found == [
        (5, "sh", "run", {"run": "", "exit": "2"}, "false\n"),
        (9, "toml", "file", {"file": "conf/app.toml"}, "port = 1\n"),
        (13, "sh", None, {}, "echo shown\n"),
    ]
    assert anchors(doc) == {"title", "a-code-heading-with-a-link"}
    assert links(doc) == [(17, "x.md")]
