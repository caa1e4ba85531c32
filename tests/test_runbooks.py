"""Runbooks: one file per finding id, in the fixed section layout, with mtlslab commands the CLI accepts."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import re
import shlex
from pathlib import Path

import pytest

from mtlslab.cli import build_parser
from mtlslab.diagnose.findings import ERROR, FINDINGS, Finding
from mtlslab.lifecycle.certmanager import CertManagerPlan, check_timings

REPOSITORY = Path(__file__).resolve().parent.parent
RUNBOOKS = REPOSITORY / "runbooks"
INDEX = RUNBOOKS / "README.md"

# The ids that mtlslab.lifecycle.certmanager.check_timings emits besides those of FINDINGS.
TIMING_IDS = ("renewal-timing", "renew-before-exceeds-duration")
RUNBOOK_IDS = sorted(FINDINGS) + list(TIMING_IDS)

SECTIONS = ["Meaning", "Symptoms", "Impact", "Diagnosis", "Mitigation", "Verification"]

# cert-manager plans that make check_timings emit each of TIMING_IDS: renewal at a
# sixth of a 24-hour lifetime, and a renewBefore as long as the lifetime.
TIMING_PLANS = {
    "renewal-timing": CertManagerPlan(leaf_duration=dt.timedelta(hours=24), leaf_renew_before=dt.timedelta(hours=20)),
    "renew-before-exceeds-duration": CertManagerPlan(
        leaf_duration=dt.timedelta(hours=24), leaf_renew_before=dt.timedelta(hours=24)
    ),
}

# A placeholder such as TIME, DURATION or ROLE stands for a value the reader fills in.
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
PROMPT = re.compile(r"^\s*(?:\$\s+)?(mtlslab\s.*)$")
SHELL_OPERATORS = set("|&;<>()")


# Reading markdown.


def parse_markdown(text: str) -> tuple[list[tuple[int, str]], list[str]]:
    """Return the headings outside code fences as (level, title) and the text of each fenced code block."""
    headings: list[tuple[int, str]] = []
    blocks: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line):
            if block is None:
                block = []
            else:
                blocks.append("\n".join(block))
                block = None
            continue
        if block is not None:
            block.append(line)
            continue
        heading = HEADING.match(line)
        if heading:
            headings.append((len(heading.group(1)), heading.group(2)))
    if block is not None:
        blocks.append("\n".join(block))
    return headings, blocks


def mtlslab_commands(block: str) -> list[str]:
    """Return the mtlslab command lines of a code block, with backslash continuations joined.

    Output lines such as ``mtlslab: error: ...`` or ``runbook: runbooks/x.md`` are not commands.
    """
    joined: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    return [match.group(1).strip() for line in joined if (match := PROMPT.match(line))]


def command_arguments(command: str) -> list[str]:
    """Split a shell command line and return the mtlslab arguments before the first pipe or redirection."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    arguments = []
    for token in lexer:
        if set(token) <= SHELL_OPERATORS:
            break
        arguments.append(token)
    return arguments[1:]


# Parsing with the real command line.


class _ChoicesOrPlaceholder(list):
    """The choices of an option, extended to accept any placeholder."""

    def __contains__(self, value) -> bool:
        return (isinstance(value, str) and PLACEHOLDER.fullmatch(value) is not None) or super().__contains__(value)


def _accept_placeholders(parser: argparse.ArgumentParser) -> None:
    """Let every option of ``parser`` and its subcommands take a placeholder as its value."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _accept_placeholders(subparser)
            continue
        if action.choices is not None:
            action.choices = _ChoicesOrPlaceholder(action.choices)
        if callable(action.type):
            action.type = _placeholder_or(action.type)


def _placeholder_or(convert):
    def convert_unless_placeholder(text: str):
        return text if PLACEHOLDER.fullmatch(text) else convert(text)

    convert_unless_placeholder.__name__ = getattr(convert, "__name__", "value")
    return convert_unless_placeholder


def command_error(command: str) -> str | None:
    """Parse ``command`` with mtlslab's argument parser; return argparse's error message, or None when it parses."""
    parser = build_parser()
    _accept_placeholders(parser)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            parser.parse_args(command_arguments(command))
    except SystemExit:
        return stderr.getvalue().strip().splitlines()[-1] if stderr.getvalue().strip() else "argparse exited"
    return None


def read_runbook(finding_id: str) -> str:
    path = RUNBOOKS / f"{finding_id}.md"
    if not path.is_file():
        pytest.skip(f"runbooks/{finding_id}.md does not exist (test_runbook_exists fails for it)")
    return path.read_text(encoding="utf-8")


# The checks' own helpers, on small samples.

SAMPLE = """# sample: a runbook

Run mtlslab diagnose --outside-a-fence in prose; it is not a command.

```
$ mtlslab diagnose --cert CHAIN.pem \\
    --ca CA.pem --as server
mtlslab: error: an output line
  runbook: runbooks/sample.md
```

## Meaning

```bash
mtlslab explain "certificate has expired" --json | python -m json.tool
```
"""


def test_markdown_headings_skip_code():
    headings, _ = parse_markdown("# title\n```\n# comment\n```\n## Meaning\n")
    assert headings == [(1, "title"), (2, "Meaning")]


def test_commands_found_in_fences():
    _, blocks = parse_markdown(SAMPLE)
    commands = [command for block in blocks for command in mtlslab_commands(block)]
    assert commands == [
        "mtlslab diagnose --cert CHAIN.pem      --ca CA.pem --as server",
        'mtlslab explain "certificate has expired" --json | python -m json.tool',
    ]


def test_command_arguments_stop_at_pipe():
    arguments = command_arguments('mtlslab explain "certificate has expired" --json | python -m json.tool')
    assert arguments == ["explain", "certificate has expired", "--json"]


def test_command_check_accepts_placeholders():
    assert command_error("mtlslab diagnose --cert CHAIN.pem --as ROLE --at TIME --margin DURATION") is None


def test_command_check_accepts_real_values():
    assert command_error("mtlslab diagnose --cert chain.pem --as server --at=+30d --margin 7d") is None


def test_command_check_rejects_made_up_option():
    assert "unrecognized arguments: --made-up-option" in command_error("mtlslab diagnose --cert CHAIN.pem --made-up-option")


def test_command_check_rejects_made_up_subcommand():
    assert "invalid choice" in command_error("mtlslab frobnicate --cert CHAIN.pem")


def test_command_check_rejects_bad_value():
    assert "invalid time 'yesterday'" in command_error("mtlslab diagnose --cert CHAIN.pem --at yesterday")


def test_command_check_rejects_bad_choice():
    assert "invalid choice: 'proxy'" in command_error("mtlslab diagnose --cert CHAIN.pem --as proxy")


# Every finding id has a runbook.


def test_timing_ids_match_check_timings():
    emitted = {finding["id"] for plan in TIMING_PLANS.values() for finding in check_timings(plan)}
    assert emitted == set(TIMING_IDS)


@pytest.mark.parametrize("finding_id", RUNBOOK_IDS)
def test_runbook_exists(finding_id):
    assert (RUNBOOKS / f"{finding_id}.md").is_file(), f"runbooks/{finding_id}.md is missing"


@pytest.mark.parametrize("finding_id", sorted(FINDINGS))
def test_finding_runbook_path_exists(finding_id):
    path = Finding(finding_id, ERROR, "sample message").runbook
    assert (REPOSITORY / path).is_file(), f"diagnose reports {path}, which does not exist"


@pytest.mark.parametrize("finding_id", TIMING_IDS)
def test_timing_finding_runbook_path_exists(finding_id):
    paths = [finding["runbook"] for finding in check_timings(TIMING_PLANS[finding_id]) if finding["id"] == finding_id]
    assert paths, f"check_timings emitted no {finding_id} finding for its sample plan"
    assert (REPOSITORY / paths[0]).is_file(), f"check_timings reports {paths[0]}, which does not exist"


@pytest.mark.parametrize(
    "path", sorted(path for path in RUNBOOKS.glob("*.md") if path.name != INDEX.name), ids=lambda path: path.stem
)
def test_runbook_file_names_known_id(path):
    assert path.stem in RUNBOOK_IDS, f"{path.name} matches no finding id"


# Every runbook follows the layout.


@pytest.mark.parametrize("finding_id", RUNBOOK_IDS)
def test_runbook_title_starts_with_id(finding_id):
    headings, _ = parse_markdown(read_runbook(finding_id))
    titles = [title for level, title in headings if level == 1]
    assert len(titles) == 1, f"expected one H1, found {titles}"
    assert re.match(rf"{re.escape(finding_id)}: \S", titles[0]), f"H1 {titles[0]!r} must read '{finding_id}: title'"


@pytest.mark.parametrize("finding_id", RUNBOOK_IDS)
def test_runbook_sections_in_order(finding_id):
    headings, _ = parse_markdown(read_runbook(finding_id))
    assert [title for level, title in headings if level == 2] == SECTIONS


@pytest.mark.parametrize("finding_id", RUNBOOK_IDS)
def test_runbook_commands_parse(finding_id):
    _, blocks = parse_markdown(read_runbook(finding_id))
    commands = [command for block in blocks for command in mtlslab_commands(block)]
    failures = [f"{command}: {error}" for command in commands if (error := command_error(command))]
    assert not failures, "\n".join(failures)


# The index. runbooks/README.md is written separately from the runbooks, so this
# check fails until the index links every runbook.


@pytest.mark.parametrize("finding_id", RUNBOOK_IDS)
def test_readme_index_links_runbook(finding_id):
    assert INDEX.is_file(), "runbooks/README.md, the index of runbooks, is missing"
    link = re.compile(rf"\]\((?:\./)?{re.escape(finding_id)}\.md(?:#[^)]*)?\)")
    assert link.search(INDEX.read_text(encoding="utf-8")), f"runbooks/README.md does not link {finding_id}.md"


def test_key_mismatch_commands_print_diagnose_fingerprints(tmp_path):
    """The file commands of key-mismatch.md step 3 print the values that diagnose shows as value and private_key."""
    import contextlib, io, json, shutil, subprocess
    from mtlslab.cli import main
    from mtlslab.pki import CertificateAuthority

    if shutil.which("openssl") is None or shutil.which("sha256sum") is None:
        pytest.skip("openssl or sha256sum is not installed")
    root = CertificateAuthority.create_root()
    certificate, other = root.issue_server("a"), root.issue_server("b")
    (tmp_path / "CHAIN.pem").write_bytes(certificate.chain_pem)
    (tmp_path / "KEY.pem").write_bytes(other.private_key_pem())
    text = (Path(__file__).parent.parent / "runbooks" / "key-mismatch.md").read_text()
    commands = re.findall(r"`(openssl (?:x509|pkey) [^`]*-in (?:CHAIN|KEY)\.pem[^`]*)`", text)
    assert len(commands) == 2
    printed = [subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True).stdout.strip() for command in commands]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        main(["diagnose", "--cert", str(tmp_path / "CHAIN.pem"), "--key", str(tmp_path / "KEY.pem"), "--json"])
    evidence = json.loads(stdout.getvalue())["findings"][0]["evidence"]
    assert printed == [evidence["value"].removeprefix("SHA-256 "), evidence["private_key"].removeprefix("SHA-256 ")]
