"""Reusing one private key across a benchmark PKI, so that RSA 4096 runs need no key generation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mtlslab.bench.floor import time_operations
from mtlslab.bench.memory import memory_handshake
from mtlslab.bench.suite import Scenario, Sizes, contexts_for, measure_floor, measure_scenario
from mtlslab.errors import InputError
from mtlslab.handshake import run_handshake
from mtlslab.pki import CertificateAuthority
from mtlslab.pki.keys import generate_private_key, key_type_of


def public_der(key) -> bytes:
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def rsa_key():
    return generate_private_key("rsa2048")


def test_root_reuses_given_key(rsa_key):
    root = CertificateAuthority.create_root(private_key=rsa_key)
    assert root.private_key is rsa_key
    assert key_type_of(root.certificate.public_key()) == "rsa2048"


def test_intermediate_reuses_given_key(root, rsa_key):
    intermediate = root.create_intermediate(private_key=rsa_key)
    assert public_der(intermediate.private_key) == public_der(rsa_key)
    assert intermediate.certificate.issuer == root.certificate.subject


def test_leaf_reuses_given_key(intermediate, rsa_key):
    leaf = intermediate.issue_client("reused", private_key=rsa_key)
    assert leaf.private_key is rsa_key
    assert leaf.certificate.issuer == intermediate.certificate.subject


def test_leaf_without_key_gets_new_key(intermediate):
    first = intermediate.issue_client("first")
    second = intermediate.issue_client("second")
    assert public_der(first.private_key) != public_der(second.private_key)


@pytest.mark.parametrize("key_type", ["ecdsa-p256", "ecdsa-p384", "rsa2048", "ed25519"])
def test_key_type_of_private_and_public(key_type):
    key = generate_private_key(key_type)
    assert key_type_of(key) == key_type
    assert key_type_of(key.public_key()) == key_type


def test_key_type_of_rejects_other_objects():
    with pytest.raises(InputError, match="unsupported key 'bytes'"):
        key_type_of(b"not a key")


def test_shared_key_pki_completes_mtls(rsa_key):
    server, client = contexts_for(Scenario(key_type="rsa2048"), private_key=rsa_key)
    result = run_handshake(server, client)
    assert result.client.ok, result.client
    assert result.server.ok, result.server


def test_shared_key_pki_rejects_other_key(rsa_key):
    server, _ = contexts_for(Scenario(key_type="rsa2048"), private_key=rsa_key)
    _, stranger = contexts_for(Scenario(key_type="rsa2048"), private_key=generate_private_key("rsa2048"))
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        memory_handshake(stranger, server)


def test_contexts_reject_key_of_other_type(rsa_key):
    with pytest.raises(InputError, match="of type rsa2048, but the scenario uses ecdsa-p256"):
        contexts_for(Scenario(), private_key=rsa_key)


def test_measure_scenario_with_key_names_its_type(rsa_key):
    result = measure_scenario(Scenario(key_type="rsa2048"), 2, private_key=rsa_key)
    assert result["key_type"] == "rsa2048"
    assert result["server_seconds"]["n"] == 2


def test_time_operations_with_key(rsa_key):
    times = time_operations("rsa2048", repeat=2, private_key=rsa_key)
    assert times.key_type == "rsa2048"
    assert times.sign > times.verify  # an RSA private-key operation costs more than a public one


def test_time_operations_rejects_key_of_other_type(rsa_key):
    with pytest.raises(InputError, match="of type rsa2048, not ed25519"):
        time_operations("ed25519", repeat=2, private_key=rsa_key)


def test_measure_floor_with_keys_generates_none(rsa_key, monkeypatch):
    handshakes = [measure_scenario(Scenario(key_type="rsa2048"), 2, private_key=rsa_key)]
    keys = {key_type: generate_private_key(key_type) for key_type in ("ecdsa-p256", "ed25519", "rsa3072", "rsa4096")}
    keys["rsa2048"] = rsa_key

    def fail_on_generation(key_type):
        raise AssertionError(f"measure_floor generated a {key_type} key although one was given")

    monkeypatch.setattr("mtlslab.bench.floor.generate_private_key", fail_on_generation)
    rows, operations = measure_floor(handshakes, Sizes(operation_repeats=2), private_keys=keys)
    assert [row["scenario"] for row in rows] == ["mtls 1.3 rsa2048 1int"]
    assert {row["key_type"] for row in operations} == set(keys)
