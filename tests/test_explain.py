"""mtlslab explain: error messages of OpenSSL, Python, Go, Envoy and Java mapped to finding ids."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pytest

from mtlslab.cli import main
from mtlslab.diagnose.explain import RULES, explain
from mtlslab.diagnose.findings import FINDINGS
from mtlslab.faults import SCENARIOS, run_scenario

HAS_OPENSSL = shutil.which("openssl") is not None

# Every message quoted in the field reports that the kit was built from, with the
# finding it must lead to.
FIELD_REPORT_MESSAGES = [
    ("unable to get local issuer certificate", "unknown-ca"),
    ("alert 48", "unknown-ca"),
    ("alert 42", "unknown-ca"),
    ("invalid CA certificate", "issuer-not-ca"),
    ("key usage does not include certificate signing", "issuer-not-ca"),
    ("certificate is not yet valid", "not-yet-valid"),
    ("current time ... is before ...", "not-yet-valid"),
    ("http request", "protocol-mismatch"),
    ("wrong version number", "protocol-mismatch"),
    ("certificate has expired", "expired"),
    ("certificate has expired", "stale-served-certificate"),
    ("unable to get local issuer certificate", "missing-intermediate"),
    ("unable to verify the first certificate", "missing-intermediate"),
    ("PKIX path building failed", "missing-intermediate"),
    ("Hostname mismatch, certificate is not valid for 'svc-b.ns.svc'.", "name-mismatch"),
    ("certificate is valid for A, not B", "name-mismatch"),
    ("relies on legacy Common Name field", "cn-only"),
    ("unsupported certificate purpose", "wrong-eku"),
    ("certificate specifies an incompatible key usage", "wrong-eku"),
    ("alert 43", "wrong-eku"),
    ("alert 116 (certificate_required)", "client-cert-missing"),
    ("handshake_failure (40)", "client-cert-missing"),
    ("key values mismatch", "key-mismatch"),
    ("private key does not match public key", "key-mismatch"),
    ("insecure algorithm SHA1-RSA", "weak-signature"),
    ("ca md too weak", "weak-signature"),
    ("ee key too small", "weak-key"),
    ("ca key too small", "weak-key"),
]

# The messages the same stacks print for the other fault kinds, as they appear in logs.
SIBLING_MESSAGES = [
    # OpenSSL and Python.
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)", "self-signed-leaf"),
    ("verify error:num=18:self signed certificate", "self-signed-leaf"),
    ("verify error:num=19:self signed certificate in certificate chain", "unknown-ca"),
    ("verify error:num=20:unable to get local issuer certificate", "missing-intermediate"),
    ("verify error:num=21:unable to verify the first certificate", "missing-intermediate"),
    ("error 2 at 1 depth lookup: unable to get issuer certificate", "intermediate-anchor"),
    ("Verify return code: 10 (certificate has expired)", "expired"),
    ("verify error:num=9", "not-yet-valid"),
    ("verify error:num=24:invalid CA certificate", "issuer-not-ca"),
    ("verify error:num=25", "pathlen-exceeded"),
    ("verify error:num=26", "wrong-eku"),
    ("verify error:num=30", "aki-ski-mismatch"),
    ("verify error:num=34", "unknown-critical-extension"),
    ("verify error:num=47", "name-constraints"),
    ("verify error:num=66", "weak-key"),
    ("verify error:num=68", "weak-signature"),
    ("X509_V_ERR_CERT_REVOKED", "revoked"),
    ("Error: unable to verify the first certificate code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'", "missing-intermediate"),
    ("certificate verify failed: unsuitable certificate purpose", "wrong-eku"),
    ("certificate verify failed: path length constraint exceeded", "pathlen-exceeded"),
    ("certificate verify failed: permitted subtree violation", "name-constraints"),
    ("certificate verify failed: unhandled critical extension", "unknown-critical-extension"),
    ("certificate verify failed: EE certificate key too weak", "weak-key"),
    ("certificate verify failed: CA signature digest algorithm too weak", "weak-signature"),
    ("certificate verify failed: certificate revoked", "revoked"),
    ("certificate verify failed: unable to get certificate CRL", "crl-missing"),
    ("certificate verify failed: CRL has expired", "crl-expired"),
    ("certificate verify failed: IP address mismatch, certificate is not valid for '10.0.0.1'.", "name-mismatch"),
    ("[SSL: PEER_DID_NOT_RETURN_A_CERTIFICATE] peer did not return a certificate", "client-cert-missing"),
    ("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required", "client-cert-missing"),
    ("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca", "unknown-ca"),
    ("[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert certificate expired", "expired"),
    ("[SSL: SSLV3_ALERT_CERTIFICATE_REVOKED] sslv3 alert certificate revoked", "revoked"),
    ("[SSL: NO_SUITABLE_SIGNATURE_ALGORITHM] no suitable signature algorithm", "no-common-signature-algorithm"),
    ("error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1601:SSL alert number 40", "client-cert-missing"),
    ("error:0A000412:SSL routines::sslv3 alert bad certificate", "not-yet-valid"),
    ("curl: (35) error:0A00010B:SSL routines::wrong version number", "protocol-mismatch"),
    ("[SSL: HTTP_REQUEST] http request (_ssl.c:1006)", "protocol-mismatch"),
    ("[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:3905)", "key-mismatch"),
    # Go.
    ("tls: failed to verify certificate: x509: certificate signed by unknown authority", "unknown-ca"),
    ("x509: certificate signed by unknown authority (possibly because of \"crypto/rsa: verification error\" while trying to verify candidate authority certificate \"mesh root\")", "unknown-ca"),
    ("x509: certificate has expired or is not yet valid: current time 2026-03-01T10:00:00Z is after 2026-02-28T10:00:00Z", "expired"),
    ("x509: certificate has expired or is not yet valid", "not-yet-valid"),
    ("x509: certificate is not valid for any names, but wanted to match svc.ns.svc", "cn-only"),
    ("x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs", "name-mismatch"),
    ("x509: certificate is not authorized to sign other certificates", "issuer-not-ca"),
    ("x509: too many intermediates for path length constraint", "pathlen-exceeded"),
    ("x509: a root or intermediate certificate is not authorized to sign for this name: DNS name \"a.other\" is not permitted by any constraint", "name-constraints"),
    ("x509: unhandled critical extension", "unknown-critical-extension"),
    ("remote error: tls: bad certificate", "unknown-ca"),
    ("remote error: tls: unknown certificate authority", "unknown-ca"),
    ("remote error: tls: expired certificate", "expired"),
    ("remote error: tls: certificate required", "client-cert-missing"),
    ("http: TLS handshake error from 10.0.0.7:52882: tls: client didn't provide a certificate", "client-cert-missing"),
    ("tls: first record does not look like a TLS handshake", "protocol-mismatch"),
    ("http: server gave HTTP response to HTTPS client", "protocol-mismatch"),
    ("Client sent an HTTP request to an HTTPS server.", "protocol-mismatch"),
    ("tls: peer doesn't support any of the certificate's signature algorithms", "no-common-signature-algorithm"),
    # Envoy and BoringSSL.
    ("TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED", "unknown-ca"),
    ("TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED", "expired"),
    ("upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:|268436504:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA:TLS_error_end", "unknown-ca"),
    ("TLS_error:|268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED", "expired"),
    ("curl: (56) BoringSSL SSL_read: error:1000045c:SSL routines:OPENSSL_internal:TLSV1_CERTIFICATE_REQUIRED, errno 0", "client-cert-missing"),
    ("TLS error: 268436572:SSL routines:OPENSSL_internal", "client-cert-missing"),
    ("verify cert failed: SAN matcher", "spiffe-id-mismatch"),
    ("error:0b000074:X.509 certificate routines:OPENSSL_internal:KEY_VALUES_MISMATCH", "key-mismatch"),
    ("OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE", "client-cert-missing"),
    ("OPENSSL_internal:WRONG_VERSION_NUMBER", "protocol-mismatch"),
    ("OPENSSL_internal:NO_COMMON_SIGNATURE_ALGORITHMS", "no-common-signature-algorithm"),
    # Java.
    ("sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target", "unknown-ca"),
    ("PKIX path validation failed: java.security.cert.CertPathValidatorException: Path does not chain with any of the trust anchors", "unknown-ca"),
    ("PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed", "expired"),
    ("java.security.cert.CertificateExpiredException: NotAfter: Sat Feb 28 10:00:00 UTC 2026", "expired"),
    ("java.security.cert.CertificateNotYetValidException: NotBefore: Sat Feb 28 10:00:00 UTC 2026", "not-yet-valid"),
    ("Received fatal alert: certificate_unknown", "unknown-ca"),
    ("Received fatal alert: bad_certificate", "not-yet-valid"),
    ("Received fatal alert: certificate_required", "client-cert-missing"),
    ("javax.net.ssl.SSLHandshakeException: Empty client certificate chain", "client-cert-missing"),
    ("javax.net.ssl.SSLHandshakeException: null cert chain", "client-cert-missing"),
    ("sun.security.validator.ValidatorException: Extended key usage does not permit use for TLS client authentication", "wrong-eku"),
    ("KeyUsage does not allow digital signatures", "key-usage"),
    ("java.security.cert.CertificateException: No subject alternative DNS name matching svc-b.ns.svc found.", "name-mismatch"),
    ("java.security.cert.CertificateException: No subject alternative names present", "cn-only"),
    ("Algorithm constraints check failed on signature algorithm: SHA1withRSA", "weak-signature"),
    ("Algorithm constraints check failed on keysize limits. RSA 1024bit key used with certificate: CN=x", "weak-key"),
    ("java.security.cert.CertPathValidatorException: Certificate has been revoked, reason: KEY_COMPROMISE", "revoked"),
    ("basic constraints check failed: this is not a CA certificate", "issuer-not-ca"),
    ("basic constraints check failed: pathLenConstraint violated - this cert must be the last cert in the certification path", "pathlen-exceeded"),
    ("Certificate contains unsupported critical extensions: [2.25.1]", "unknown-critical-extension"),
    ("javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?", "protocol-mismatch"),
    ("javax.net.ssl.SSLHandshakeException: No available authentication scheme", "no-common-signature-algorithm"),
]


def run(*arguments: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["explain", *arguments])
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("text, finding", FIELD_REPORT_MESSAGES)
def test_field_report_message(text, finding):
    assert finding in explain(text).causes


@pytest.mark.parametrize("text, finding", SIBLING_MESSAGES)
def test_sibling_message(text, finding):
    assert finding in explain(text).causes


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.pattern[:40])
def test_rule_causes_are_known_ids(rule):
    assert set(rule.causes) <= set(FINDINGS)


# Every scenario's recorded errors lead back to its finding.


def scenario_params():
    for name, item in SCENARIOS.items():
        marks = [pytest.mark.skipif(not HAS_OPENSSL, reason="no openssl")] if item.requires_openssl else []
        yield pytest.param(name, marks=marks)


@pytest.mark.parametrize("name", list(scenario_params()))
def test_scenario_errors_explained(name):
    outcome = run_scenario(name)
    text = f"{outcome.client.error or ''}\n{outcome.server.error or ''}"
    assert SCENARIOS[name].finding in explain(text).causes, text


# Specific messages win over generic ones; near-identical messages stay apart.


def test_specific_cause_first():
    causes = explain("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired").causes
    assert causes[0] == "expired"


def test_specific_match_drops_generic_causes():
    causes = explain("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired").causes
    assert "unknown-ca" not in causes


def test_generic_message_lists_many_causes():
    assert len(explain("certificate verify failed").causes) > 5


def test_self_signed_in_chain_unknown_ca():
    assert "self-signed-leaf" not in explain("self-signed certificate in certificate chain").causes


def test_local_issuer_is_not_intermediate_anchor():
    assert "intermediate-anchor" not in explain("unable to get local issuer certificate").causes


def test_go_expired_is_not_openssl_expired_only():
    assert "not-yet-valid" in explain("x509: certificate has expired or is not yet valid").causes


def test_go_expired_with_time_after_is_expired_only():
    causes = explain("x509: certificate has expired or is not yet valid: current time 2026-03-01T10:00:00Z is after 2026-02-28T10:00:00Z").causes
    assert "not-yet-valid" not in causes


def test_unknown_ca_alert_differs_from_bad_certificate():
    assert explain("tlsv1 alert unknown ca").causes != explain("sslv3 alert bad certificate").causes


def test_unknown_certificate_authority_is_not_unknown_certificate():
    meanings = [match.meaning for match in explain("remote error: tls: unknown certificate authority").matches]
    assert meanings == ["this side received alert unknown_ca (48): the peer rejected the connection"]


@pytest.mark.parametrize("text", ["hello world", "connection refused", "HTTP/1.1 200 OK", "404 Not Found", "error 404"])
def test_unrelated_text_not_matched(text):
    assert explain(text).matches == []


# The command.


def test_command_prints_runbook():
    code, output, _ = run("certificate has expired")
    assert "runbooks/expired.md" in output
    assert code == 0


def test_command_joins_words():
    assert run("key", "values", "mismatch")[0] == 0


def test_command_json_causes():
    _, output, _ = run("--json", "tlsv13 alert certificate required")
    assert json.loads(output)["causes"][0]["id"] == "client-cert-missing"


def test_command_json_runbook():
    _, output, _ = run("--json", "tlsv13 alert certificate required")
    assert json.loads(output)["causes"][0]["runbook"] == "runbooks/client-cert-missing.md"


def test_command_unrecognized_exits_1():
    code, output, _ = run("hello world")
    assert code == 1
    assert "No known TLS error message" in output


def test_command_empty_exits_2():
    code, _, stderr = run("   ")
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
