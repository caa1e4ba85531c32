"""Explain a certificate setup or a TLS error message: findings with evidence, a fix and a runbook.

``mtlslab diagnose`` checks files without a live peer: a certificate or chain, its key,
the peer's trust bundle, CRLs, a Kubernetes TLS Secret or an Istio plug-in CA folder.
``mtlslab explain`` maps an error message to the finding ids of its likely causes.
:data:`~mtlslab.diagnose.findings.FINDINGS` lists every id with its description and fix;
each id has a runbook, runbooks/ID.md.
"""

from mtlslab.diagnose.checks import Report, diagnose_setup
from mtlslab.diagnose.findings import ERROR, FINDINGS, INFO, WARNING, Finding, FindingKind, runbook_path
from mtlslab.diagnose.inputs import Entry, Setup

__all__ = [
    "ERROR",
    "FINDINGS",
    "INFO",
    "WARNING",
    "Entry",
    "Finding",
    "FindingKind",
    "Report",
    "Setup",
    "diagnose_setup",
    "runbook_path",
]
