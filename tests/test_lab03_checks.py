"""The check cells of lab 03 against wrong answers: each names the actual fault."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from mtlslab.checks import FAILED, PASSED

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "03-build-a-certificate-authority.ipynb"


def _cell(cells, marker: str) -> str:
    """Return the source of the first code cell that starts with ``marker``."""
    return next(cell.source for cell in cells if cell.cell_type == "code" and cell.source.startswith(marker))


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(SOLUTION, as_version=4).cells


@pytest.fixture(scope="module")
def solved(cells):
    """Run the setup cell and the solutions of exercises 1 and 2; return the namespace."""
    namespace: dict = {}
    exec(_cell(cells, "# Setup"), namespace)
    exec(_cell(cells, "# Exercise 1"), namespace)
    exec(_cell(cells, "# Exercise 2"), namespace)
    return namespace


def _check(cells, solved, exercise: int, answer: str | None, monkeypatch):
    """Run ``answer`` (the solution when None) and the check cell of ``exercise``; return the check's result."""
    monkeypatch.delenv("MTLSLAB_CHECKS_RAISE", raising=False)
    namespace = dict(solved)
    exec(answer or _cell(cells, f"# Exercise {exercise}"), namespace)
    check_cell = next(
        cell.source for cell in cells if cell.cell_type == "code" and f'@check("Exercise {exercise}:' in cell.source
    )
    exec(check_cell, namespace)
    return namespace["_"]


WRONG_NAMES = """
root = CertificateAuthority.create_root("Root")
intermediate = root.create_intermediate("Lab Intermediate CA", path_length=0)
"""

WRONG_INTERMEDIATE_NAME = """
root = CertificateAuthority.create_root("Lab Root CA")
intermediate = root.create_intermediate("Intermediate", path_length=0)
"""

ONE_WAY_CONTEXT = """
shop_server = intermediate.issue_server("localhost")
shop_context = server_context(shop_server, root, require_client_certificate=False)
handshake = run_handshake(shop_context, client_context(root, checkout))
seen_spiffe_id = CHECKOUT_ID
"""

ONE_WAY_HANDSHAKE = """
shop_server = intermediate.issue_server("localhost")
shop_context = server_context(shop_server, root)
handshake = run_handshake(server_context(shop_server, root, require_client_certificate=False), client_context(root, checkout))
seen_spiffe_id = CHECKOUT_ID
"""

NO_CLIENT_CERTIFICATE = """
shop_server = intermediate.issue_server("localhost")
shop_context = server_context(shop_server, root)
handshake = run_handshake(shop_context, client_context(root))
seen_spiffe_id = CHECKOUT_ID
"""

OTHER_CLIENT_CERTIFICATE = """
shop_server = intermediate.issue_server("localhost")
shop_context = server_context(shop_server, root)
handshake = run_handshake(shop_context, client_context(root, intermediate.issue_client("billing")))
seen_spiffe_id = CHECKOUT_ID
"""


def test_exercise_1_solution_passes(cells, solved, monkeypatch):
    assert _check(cells, solved, 1, None, monkeypatch).status == PASSED


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(WRONG_NAMES, "expected ['Lab Root CA']"), (WRONG_INTERMEDIATE_NAME, "expected ['Lab Intermediate CA']")],
)
def test_exercise_1_wrong_name_fails(cells, solved, monkeypatch, answer, expected):
    result = _check(cells, solved, 1, answer, monkeypatch)
    assert result.status == FAILED
    assert expected in result.detail


def test_exercise_3_solution_passes(cells, solved, monkeypatch):
    assert _check(cells, solved, 3, None, monkeypatch).status == PASSED


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ONE_WAY_CONTEXT, "does not require a client certificate"),
        (ONE_WAY_HANDSHAKE, "the server never asked for a client certificate"),
        (NO_CLIENT_CERTIFICATE, "the client sent none: pass checkout to client_context"),
        (OTHER_CLIENT_CERTIFICATE, "received another client certificate: pass checkout"),
    ],
    ids=["one-way context", "one-way handshake", "no client certificate", "other client certificate"],
)
def test_exercise_3_names_fault(cells, solved, monkeypatch, answer, expected):
    result = _check(cells, solved, 3, answer, monkeypatch)
    assert result.status == FAILED
    assert expected in result.detail


def test_exercise_3_one_way_not_blamed_on_client(cells, solved, monkeypatch):
    result = _check(cells, solved, 3, ONE_WAY_CONTEXT, monkeypatch)
    assert "pass checkout to client_context" not in result.detail
