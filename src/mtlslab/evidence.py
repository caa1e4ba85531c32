"""Re-run what each peer checks in stages 3 and 5: the certificate chain, the signature and Finished.

A peer verifies the other's certificate chain against its trust anchors, then the
CertificateVerify signature (TLS 1.3, and a TLS 1.2 client) or ServerKeyExchange signature
(TLS 1.2 server), then the Finished MAC. The dissector shows the messages; these checks
repeat the verification from the captured bytes, so that a learner can see why a peer
accepted or rejected. Each check returns a Check with ``passed``, ``failed`` or ``not checked``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from mtlslab.dissect import Dissection, Message, describe_certificate
from mtlslab.pki.verify import VerificationError, verify_client_chain, verify_server_chain
from mtlslab.tls import names
from mtlslab.tls.ciphers import finished_verify_data_12, finished_verify_data_13
from mtlslab.tls.signatures import SignatureCheckError, certificate_verify_content, verify_signature

PASSED, FAILED, NOT_CHECKED = "passed", "failed", "not checked"


@dataclass(frozen=True)
class Check:
    """The result of one re-run check: its name, ``passed``, ``failed`` or ``not checked``, and why."""

    name: str
    result: str
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {self.result} ({self.detail})"


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    if certificate == issuer:
        return True
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def transcript(dissection: Dissection) -> list[Message]:
    """Return the handshake messages in the order the transcript hash takes them.

    The order follows the protocol rather than capture times: RFC 8446 section 4.4.1 for
    TLS 1.3 and RFC 5246 section 7.4.9 for TLS 1.2 (full and abbreviated handshakes).
    """
    client = [m for m in dissection.handshake_messages("client") if m.handshake_type != names.KEY_UPDATE]
    server = [
        m
        for m in dissection.handshake_messages("server")
        if m.handshake_type not in (names.KEY_UPDATE, names.NEW_SESSION_TICKET) or not dissection.tls13
    ]
    hellos = [m for m in client if m.handshake_type == names.CLIENT_HELLO]
    if not hellos:
        return []
    retry = next((m for m in server if m.name == "HelloRetryRequest"), None)
    ordered = [hellos[0], retry, hellos[1]] if retry is not None and len(hellos) > 1 else [hellos[0]]
    last_hello = ordered[-1]
    client_rest = _through_finished(client[client.index(last_hello) + 1 :])
    server_rest = [m for m in server if m is not retry]

    if dissection.tls13:
        return ordered + _through_finished(server_rest) + client_rest
    done = next((i for i, m in enumerate(server_rest) if m.handshake_type == names.SERVER_HELLO_DONE), None)
    if done is None:  # abbreviated handshake: the server's Finished comes first
        return ordered + _through_finished(server_rest) + client_rest
    return ordered + server_rest[: done + 1] + client_rest + _through_finished(server_rest[done + 1 :])


def _through_finished(messages: list[Message]) -> list[Message]:
    for index, message in enumerate(messages):
        if message.handshake_type == names.FINISHED:
            return messages[: index + 1]
    return messages


def _hash_before(dissection: Dissection, messages: list[Message], target: Message) -> bytes:
    """Hash the transcript up to, not including, ``target`` with the cipher suite's hash."""
    digest = hashlib.new(dissection.suite.hash_name)
    for index, message in enumerate(messages):
        if message is target:
            break
        if index == 0 and dissection.hello_retry and dissection.tls13:
            # RFC 8446 section 4.4.1: after a HelloRetryRequest, ClientHello1 enters the
            # transcript as a synthetic message_hash message holding its hash.
            inner = hashlib.new(dissection.suite.hash_name, message.raw).digest()
            digest.update(bytes([names.MESSAGE_HASH, 0, 0, len(inner)]) + inner)
        else:
            digest.update(message.raw)
    return digest.digest()


def _before(messages: list[Message], target: Message) -> bytes:
    data = bytearray()
    for message in messages:
        if message is target:
            break
        data += message.raw
    return bytes(data)


def check_certificate_verify(dissection: Dissection, sender: str) -> Check | None:
    """Verify ``sender``'s CertificateVerify signature over the transcript; None when it sent none."""
    name = f"{sender} CertificateVerify signature"
    message = dissection.find("CertificateVerify", sender)
    if message is None:
        return None
    certificates = dissection.certificates(sender)
    if not certificates:
        return Check(name, NOT_CHECKED, f"the {sender}'s certificate is missing from the capture")
    if dissection.suite is None:
        return Check(name, NOT_CHECKED, "the cipher suite's hash is unknown")
    messages = transcript(dissection)
    if message not in messages:
        return Check(name, NOT_CHECKED, "the handshake transcript is incomplete")
    if message.parsed is None:
        return Check(name, NOT_CHECKED, "the CertificateVerify message cannot be parsed")
    scheme, signature = message.parsed
    scheme_name = names.name_of(names.SIGNATURE_SCHEMES, scheme)
    if dissection.tls13:
        signed = certificate_verify_content(sender, _hash_before(dissection, messages, message))
        what = f"64 spaces, 'TLS 1.3, {sender} CertificateVerify', 0 and the transcript hash"
    else:
        signed = _before(messages, message)
        what = f"all {messages.index(message)} handshake messages before it"
    try:
        verify_signature(certificates[0], scheme, signature, signed)
    except SignatureCheckError as error:
        return Check(name, FAILED, str(error))
    return Check(name, PASSED, f"{scheme_name} signature over {what} verifies with the {sender}'s certificate key")


def check_server_key_exchange(dissection: Dissection) -> Check | None:
    """Verify a TLS 1.2 ServerKeyExchange signature over both randoms and the key exchange parameters."""
    name = "server ServerKeyExchange signature"
    message = dissection.find("ServerKeyExchange", "server")
    if message is None or message.parsed is None:
        return None
    certificates = dissection.certificates("server")
    if not certificates:
        return Check(name, NOT_CHECKED, "the server's certificate is missing from the capture")
    if dissection.client_hello is None or dissection.server_hello is None:
        return Check(name, NOT_CHECKED, "a hello message is missing from the capture")
    exchange = message.parsed
    signed = dissection.client_hello.random + dissection.server_hello.random + exchange.params
    try:
        verify_signature(certificates[0], exchange.scheme, exchange.signature, signed)
    except SignatureCheckError as error:
        return Check(name, FAILED, str(error))
    scheme_name = names.name_of(names.SIGNATURE_SCHEMES, exchange.scheme)
    return Check(
        name,
        PASSED,
        f"{scheme_name} signature over client_random, server_random and the {exchange.group} parameters "
        "verifies with the server's certificate key",
    )


def check_finished(dissection: Dissection, sender: str) -> Check | None:
    """Recompute ``sender``'s Finished verify_data from the key log; None when no Finished was decrypted."""
    name = f"{sender} Finished"
    message = next(
        (m for m in dissection.handshake_messages(sender) if m.handshake_type == names.FINISHED), None
    )
    if message is None:
        return None
    if dissection.suite is None:
        return Check(name, NOT_CHECKED, "the cipher suite is unknown")
    messages = transcript(dissection)
    if message not in messages:
        return Check(name, NOT_CHECKED, "the handshake transcript is incomplete")
    hash_name = dissection.suite.hash_name
    if dissection.tls13:
        label = f"{sender.upper()}_HANDSHAKE_TRAFFIC_SECRET"
        secret = dissection.secrets.get(label)
        if secret is None:
            return Check(name, NOT_CHECKED, f"the key log has no {label}")
        expected = finished_verify_data_13(secret, _hash_before(dissection, messages, message), hash_name)
        source = f"HMAC over the transcript hash with the finished key from {label}"
    else:
        secret = dissection.secrets.get("CLIENT_RANDOM")
        if secret is None:
            return Check(name, NOT_CHECKED, "the key log has no master secret for this connection")
        handshake_hash = hashlib.new(hash_name, _before(messages, message)).digest()
        expected = finished_verify_data_12(secret, sender, handshake_hash, hash_name)
        source = f"PRF(master_secret, '{sender} finished', hash of the handshake messages)"
    if hmac.compare_digest(expected, message.body):
        return Check(name, PASSED, f"verify_data matches {source}")
    return Check(name, FAILED, f"verify_data differs from {source}")


def check_chain(
    dissection: Dissection,
    sender: str,
    anchors: list[x509.Certificate] | None,
    at: dt.datetime,
    server_name: str | None = None,
) -> Check | None:
    """Re-verify ``sender``'s certificate chain as its peer would; None when it sent no certificate.

    With ``anchors`` the chain is verified by pyca/cryptography's verifier at time ``at``
    (the capture time). Without them the check covers what the chain alone shows: each
    certificate signed by the next, validity at ``at`` and the extended key usage.
    """
    name = f"{sender} certificate chain"
    certificates = dissection.certificates(sender)
    if not certificates:
        return None
    leaf, intermediates = certificates[0], certificates[1:]
    if anchors and sender == "client" and not _has_san(leaf):
        # pyca/cryptography's client verifier requires a subjectAltName, OpenSSL does not.
        return _check_chain_alone(name, sender, certificates, at, anchors)
    if anchors:
        try:
            if sender == "server":
                subject = server_name or dissection.server[0]
                chain = verify_server_chain(leaf, intermediates, anchors, subject, at=at)
                suffix = f" and names {subject}"
            else:
                chain = verify_client_chain(leaf, intermediates, anchors, at=at)
                suffix = ""
        except (VerificationError, ValueError) as error:
            detail = f"{describe_certificate(leaf)}: {_plain(error)}"
            anchor_subjects = {anchor.subject for anchor in anchors}
            if not intermediates and leaf.issuer not in anchor_subjects:
                detail += f"; the {sender} sent only its own certificate, without the intermediate CA that issued it"
            return Check(name, FAILED, detail)
        return Check(
            name,
            PASSED,
            f"{describe_certificate(leaf)} chains to the trust anchor {describe_certificate(chain[-1])}"
            f"{suffix}, valid at the capture time",
        )
    return _check_chain_alone(name, sender, certificates, at)


def _has_san(certificate: x509.Certificate) -> bool:
    try:
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return True


_PROCESSING_SUFFIX = re.compile(r" \(encountered processing <Certificate.*\)$")


def _plain(error: Exception) -> str:
    """Shorten a pyca verification error: drop the certificate repr and explain 'candidates exhausted'."""
    text = _PROCESSING_SUFFIX.sub("", str(error))
    if "candidates exhausted" in text:
        return f"no chain from it leads to a trusted anchor ({text})"
    return text


_PURPOSES = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}


def _check_chain_alone(
    name: str,
    sender: str,
    certificates: list[x509.Certificate],
    at: dt.datetime,
    anchors: list[x509.Certificate] | None = None,
) -> Check:
    """Check links, validity and purpose of a chain; with ``anchors``, also that its top is issued by one."""
    leaf = certificates[0]
    for certificate in certificates:
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            return Check(name, FAILED, f"{describe_certificate(certificate)} is not valid at the capture time")
    for child, issuer in zip(certificates, certificates[1:]):
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError) as error:
            return Check(name, FAILED, f"{describe_certificate(child)} is not issued by the next certificate: {error}")
        except InvalidSignature:
            return Check(name, FAILED, f"the signature on {describe_certificate(child)} does not verify with its issuer's key")
    try:
        usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = None
    if usages is not None and _PURPOSES[sender] not in usages:
        wanted = "serverAuth" if sender == "server" else "clientAuth"
        return Check(name, FAILED, f"{describe_certificate(leaf)} lacks extendedKeyUsage {wanted}")
    if anchors:
        top = certificates[-1]
        anchor = next((a for a in anchors if _issued_by(top, a)), None)
        if anchor is None:
            return Check(name, FAILED, f"{describe_certificate(top)} is not issued by any trusted anchor")
        return Check(
            name,
            PASSED,
            f"{describe_certificate(leaf)} chains to the trust anchor {describe_certificate(anchor)}, valid at the "
            "capture time and fit for client authentication (checked link by link, because pyca's client "
            "verifier requires a SAN and this certificate has none)",
        )
    return Check(
        name,
        NOT_CHECKED,
        f"{len(certificates)} certificates, each issued by the next, valid at the capture time and "
        "fit for their purpose; not checked against a trust anchor (pass --ca with the CA certificate)",
    )
