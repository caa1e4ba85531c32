"""Shared fixtures: a fresh PKI per test, built at run time so nothing expires."""

from __future__ import annotations

import os
import shutil

import pytest

from mtlslab.pki import CertificateAuthority

# Lab checks raise on a wrong answer under test, so a broken solution fails nbval;
# kernels that nbval starts inherit this variable.
os.environ["MTLSLAB_CHECKS_RAISE"] = "1"

requires_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


@pytest.fixture(scope="module")
def root() -> CertificateAuthority:
    return CertificateAuthority.create_root("Test Root CA")


@pytest.fixture(scope="module")
def intermediate(root) -> CertificateAuthority:
    return root.create_intermediate("Test Intermediate CA")


@pytest.fixture(scope="module")
def server(intermediate):
    return intermediate.issue_server("localhost")


@pytest.fixture(scope="module")
def client(intermediate):
    return intermediate.issue_client("client", spiffe_id="spiffe://test.local/ns/demo/sa/client")


@pytest.fixture(scope="module")
def other_root() -> CertificateAuthority:
    return CertificateAuthority.create_root("Other Root CA")
