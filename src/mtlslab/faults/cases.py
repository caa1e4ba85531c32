"""The numbered cases of the troubleshooting lab: each is a catalog scenario written to disk as two peers' files.

A lab shows only the case number, so that the code that builds a case does not name
its defect; :data:`TROUBLESHOOTING_CASES` maps each number to its scenario.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mtlslab.errors import InputError
from mtlslab.faults.catalog import Peers, scenario
from mtlslab.faults.deployment import Deployment, write_deployment
from mtlslab.handshake import HandshakeResult

TROUBLESHOOTING_CASES = {
    1: "missing-intermediate-client",
    2: "client-auth-only-server",
    3: "expired-intermediate",
    4: "intermediate-only-trust",
    5: "not-yet-valid-client",
    6: "issuer-not-ca",
    7: "crl-expired",
    8: "rsa-1024-intermediate",
}


@dataclass(frozen=True)
class Case:
    """A broken setup: its files, the CAs and credentials behind them, the failed handshake and the answer key."""

    deployment: Deployment
    peers: Peers
    broken: HandshakeResult
    expected_finding: str


def open_case(number: int, directory: str | os.PathLike) -> Case:
    """Write case ``number`` to DIRECTORY/case-NUMBER and record the handshake that its files produce."""
    if isinstance(number, bool) or number not in TROUBLESHOOTING_CASES:
        raise InputError(f"unknown case {number!r}: use a number from 1 to {len(TROUBLESHOOTING_CASES)}")
    fault = scenario(TROUBLESHOOTING_CASES[number])
    setup = fault.build()
    deployment = write_deployment(Path(directory) / f"case-{number}", setup.peers)
    return Case(deployment, setup.peers, deployment.handshake(), fault.finding)
