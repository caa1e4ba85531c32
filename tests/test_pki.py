"""The PKI API: what it issues, what it writes, and what it rejects."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from mtlslab.errors import InputError
from mtlslab.pki import (
    CertificateAuthority,
    VerificationError,
    generate_private_key,
    load_certificates,
    load_private_key,
    summarize,
    validate_spiffe_id,
    verify_client_chain,
    verify_server_chain,
    write_credential,
)


def extension(certificate, kind):
    return certificate.extensions.get_extension_for_class(kind)


def test_root_is_self_signed_ca(root):
    summary = summarize(root.certificate)
    assert summary.self_signed
    assert summary.is_ca
    assert summary.path_length is None
    assert "keyCertSign" in summary.key_usage


def test_intermediate_path_length_zero(root, intermediate):
    constraints = extension(intermediate.certificate, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    assert intermediate.certificate.issuer == root.certificate.subject
    assert intermediate.root is root


def test_aki_matches_issuer_ski(intermediate, server):
    issuer_ski = extension(intermediate.certificate, x509.SubjectKeyIdentifier).value.digest
    leaf_aki = extension(server.certificate, x509.AuthorityKeyIdentifier).value.key_identifier
    assert leaf_aki == issuer_ski


def test_server_certificate_fields(server, intermediate):
    summary = summarize(server.certificate)
    assert summary.subject_alt_names == ("DNS:localhost", "IP:127.0.0.1")
    assert summary.extended_key_usage == ("serverAuth",)
    assert summary.key_usage == ("digitalSignature",)
    assert not summary.is_ca
    assert server.chain == (intermediate.certificate,)


def test_empty_subject_makes_san_critical(server):
    assert server.certificate.subject == x509.Name([])
    assert extension(server.certificate, x509.SubjectAlternativeName).critical


def test_client_certificate_spiffe_id(client):
    summary = summarize(client.certificate)
    assert summary.subject == "CN=client"
    assert summary.subject_alt_names == ("URI:spiffe://test.local/ns/demo/sa/client",)
    assert summary.extended_key_usage == ("clientAuth",)


def test_issue_both_extended_key_usages(intermediate):
    leaf = intermediate.issue("workload", dns_names=["svc.ns.svc"])
    assert summarize(leaf.certificate).extended_key_usage == ("serverAuth", "clientAuth")


def test_issue_without_extended_key_usage(intermediate):
    leaf = intermediate.issue("legacy", extended_key_usage=None)
    with pytest.raises(x509.ExtensionNotFound):
        extension(leaf.certificate, x509.ExtendedKeyUsage)


@pytest.mark.parametrize(
    ("key_type", "key_class", "size"),
    [
        ("ecdsa-p256", ec.EllipticCurvePublicKey, 256),
        ("rsa2048", rsa.RSAPublicKey, 2048),
        ("rsa3072", rsa.RSAPublicKey, 3072),
        ("ed25519", ed25519.Ed25519PublicKey, None),
    ],
)
def test_key_types(intermediate, key_type, key_class, size):
    leaf = intermediate.issue_server(key_type=key_type)
    public_key = leaf.certificate.public_key()
    assert isinstance(public_key, key_class)
    if size is not None:
        assert public_key.key_size == size


def test_rsa_leaf_gets_key_encipherment(intermediate):
    leaf = intermediate.issue_server(key_type="rsa2048")
    assert summarize(leaf.certificate).key_usage == ("digitalSignature", "keyEncipherment")


def test_ed25519_ca_signs_without_hash():
    root = CertificateAuthority.create_root(key_type="ed25519")
    leaf = root.issue_server()
    assert leaf.certificate.signature_hash_algorithm is None
    root.certificate.public_key().verify(leaf.certificate.signature, leaf.certificate.tbs_certificate_bytes)


def test_pyca_verifier_rejects_ed25519_issuer():
    root = CertificateAuthority.create_root(key_type="ed25519")
    leaf = root.issue_server()
    with pytest.raises(VerificationError, match="Forbidden public key algorithm"):
        verify_server_chain(leaf.certificate, [], [root.certificate], "localhost")


def test_lifetime_counts_from_now(intermediate):
    before = dt.datetime.now(dt.timezone.utc)
    leaf = intermediate.issue_server(lifetime=dt.timedelta(hours=24))
    not_before = leaf.certificate.not_valid_before_utc
    not_after = leaf.certificate.not_valid_after_utc
    assert before - dt.timedelta(minutes=2) < not_before <= before
    assert not_after - not_before == dt.timedelta(hours=24)


def test_expired_certificate_status(intermediate):
    now = dt.datetime.now(dt.timezone.utc)
    leaf = intermediate.issue_client(valid_from=now - dt.timedelta(days=2), lifetime=dt.timedelta(days=1))
    summary = summarize(leaf.certificate)
    assert summary.status == "expired"
    assert summary.time_left.startswith("expired 1 day")


def test_not_yet_valid_status(intermediate):
    now = dt.datetime.now(dt.timezone.utc)
    leaf = intermediate.issue_client(valid_from=now + dt.timedelta(minutes=5))
    assert summarize(leaf.certificate).status == "not yet valid"


def test_summary_text_names_every_field(client):
    text = str(summarize(client.certificate))
    for label in ("Subject", "Issuer", "Not after", "Status", "SANs", "Public key", "Key usage", "SHA-256"):
        assert label in text


def test_pyca_verifier_accepts_chains(root, server, client):
    chain = verify_server_chain(server.certificate, server.chain, [root.certificate], "localhost")
    assert chain[-1] == root.certificate
    client_chain = verify_client_chain(client.certificate, client.chain, [root.certificate])
    assert len(client_chain) == 3


def test_pyca_verifier_rejects_wrong_root(other_root, server):
    with pytest.raises(VerificationError):
        verify_server_chain(server.certificate, server.chain, [other_root.certificate], "localhost")


def test_pyca_verifier_rejects_wrong_name(root, server):
    with pytest.raises(VerificationError):
        verify_server_chain(server.certificate, server.chain, [root.certificate], "other.example")


def test_pyca_verifier_rejects_missing_intermediate(root, server):
    with pytest.raises(VerificationError):
        verify_server_chain(server.certificate, [], [root.certificate], "localhost")


def test_pyca_verifier_rejects_server_cert_as_client(root, server):
    with pytest.raises(VerificationError):
        verify_client_chain(server.certificate, server.chain, [root.certificate])


def test_pyca_verifier_rejects_expired(root, intermediate):
    now = dt.datetime.now(dt.timezone.utc)
    leaf = intermediate.issue_server(valid_from=now - dt.timedelta(days=2), lifetime=dt.timedelta(days=1))
    with pytest.raises(VerificationError):
        verify_server_chain(leaf.certificate, leaf.chain, [root.certificate], "localhost")


def test_write_credential_modes(tmp_path, client):
    paths = write_credential(client, tmp_path, "client")
    assert stat.S_IMODE(paths["key"].stat().st_mode) == 0o600
    assert stat.S_IMODE(paths["cert"].stat().st_mode) == 0o644
    assert load_certificates(paths["chain"]) == [client.certificate, *client.chain]


def test_encrypted_key_round_trip(tmp_path, client):
    write_credential(client, tmp_path, "client", passphrase="correct horse")
    key = load_private_key(tmp_path / "client-key.pem", passphrase="correct horse")
    assert key.public_key() == client.certificate.public_key()


def test_encrypted_key_wrong_passphrase(tmp_path, client):
    write_credential(client, tmp_path, "client", passphrase="correct horse")
    with pytest.raises(InputError, match="wrong passphrase"):
        load_private_key(tmp_path / "client-key.pem", passphrase="battery staple")


def test_encrypted_key_without_passphrase(tmp_path, client):
    write_credential(client, tmp_path, "client", passphrase="correct horse")
    with pytest.raises(InputError, match="encrypted"):
        load_private_key(tmp_path / "client-key.pem")


def test_load_der_certificate(tmp_path, client):
    from cryptography.hazmat.primitives.serialization import Encoding

    path = tmp_path / "client.der"
    path.write_bytes(client.certificate.public_bytes(Encoding.DER))
    assert load_certificates(path) == [client.certificate]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: expected PEM or DER data"),
        (b"\x00\x01garbage\xff" * 20, "is not a certificate"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n", "damaged PEM"),
        (generate_private_key().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()), "no certificate"),
    ],
)
def test_load_certificates_rejects_bad_input(tmp_path, content, message):
    path = tmp_path / "input.pem"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_certificates(path)


def test_load_certificates_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_certificates(tmp_path / "missing.pem")


def test_load_certificates_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_certificates(tmp_path)


@pytest.mark.parametrize(
    "value",
    ["spiffe://cluster.local/ns/default/sa/web", "spiffe://example.org", "spiffe://td/a_b/C-d.e"],
)
def test_valid_spiffe_ids(value):
    assert validate_spiffe_id(value) == value


@pytest.mark.parametrize(
    "value",
    ["https://cluster.local/ns/a", "spiffe://Upper.Case/x", "spiffe://td/a//b", "spiffe://td/../x", "spiffe://td/a/"],
)
def test_invalid_spiffe_ids(value):
    with pytest.raises(InputError, match="invalid SPIFFE ID"):
        validate_spiffe_id(value)


def test_issue_rejects_unknown_extended_key_usage(intermediate):
    with pytest.raises(InputError, match="unknown extended key usage"):
        intermediate.issue("x", extended_key_usage=["server"])


def test_issue_rejects_bad_ip_address(intermediate):
    with pytest.raises(InputError, match="invalid IP address"):
        intermediate.issue_server(ip_addresses=["localhost"])


def test_issue_rejects_identity_free_certificate(intermediate):
    with pytest.raises(InputError, match="needs a common name"):
        intermediate.issue()


def test_unknown_key_type():
    with pytest.raises(InputError, match="unknown key type"):
        CertificateAuthority.create_root(key_type="dsa")


def test_pyca_verifier_accepts_ed25519_leaf(root):
    leaf = root.issue_server(key_type="ed25519")
    verify_server_chain(leaf.certificate, [], [root.certificate], "localhost")
