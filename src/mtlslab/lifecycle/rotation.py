"""Rotation scenarios, run for real on loopback: issuer rotation, trust-anchor rotation, renewal.

Each function builds its PKI, drives a :class:`~mtlslab.lifecycle.fleet.Fleet` of one
server and three client workloads through the steps of a rotation, and returns the
handshake counts per step.

The trust-anchor rotation follows the order that Linkerd's and Istio's guides for
rotating a root both describe: first make every peer trust both the old and the new
anchor, then re-issue the issuer and the workload certificates under the new anchor,
and remove the old anchor only after nothing chains to it any more.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from mtlslab.lifecycle.fleet import Fleet, StepResult
from mtlslab.pki.renew import renew
from mtlslab.pki.authority import CertificateAuthority, Credential
from mtlslab.pki.files import load_certificates, load_private_key

WORKLOADS = ("web", "api", "db")


def _fleet_under(issuer: CertificateAuthority, anchors, directory: Path, reload: bool = True, server=None) -> Fleet:
    fleet = Fleet(directory, server or issuer.issue_server("localhost"), anchors, reload=reload)
    for name in WORKLOADS:
        fleet.add_workload(name, issuer.issue_client(name), anchors)
    return fleet


def issuer_rotation(rounds: int = 5) -> list[StepResult]:
    """Replace the intermediate CA under the same root, re-issuing the server and then each workload.

    No trust bundle changes, because every peer trusts the root and sends its own
    intermediate with its certificate; so no handshake fails.
    """
    root = CertificateAuthority.create_root("Root CA")
    old_issuer = root.create_intermediate("Issuer 1")
    new_issuer = root.create_intermediate("Issuer 2")
    anchors = [root.certificate]

    with tempfile.TemporaryDirectory() as directory, _fleet_under(old_issuer, anchors, Path(directory)) as fleet:
        fleet.run_round("1. all certificates from issuer 1", rounds)
        fleet.set_server(renew(new_issuer, _server_credential(fleet)))
        fleet.run_round("2. server re-issued by issuer 2", rounds)
        for name in WORKLOADS:
            fleet.update_workload(name, credential=renew(new_issuer, fleet.workloads[name].credential))
        fleet.run_round("3. workloads re-issued by issuer 2", rounds)
        return fleet.results


def anchor_rotation(rounds: int = 5, remove_old_anchor_early: bool = False) -> list[StepResult]:
    """Replace the root CA; with ``remove_old_anchor_early`` the old root goes before ``db`` is re-issued.

    Done in order, no handshake fails. Removing the old anchor early fails exactly the
    handshakes of the workload whose certificate still chains to it: every one of
    ``db``'s connections in the last step, and no other.
    """
    old_root = CertificateAuthority.create_root("Root A")
    new_root = CertificateAuthority.create_root("Root B")
    old_issuer = old_root.create_intermediate("Issuer A")
    new_issuer = new_root.create_intermediate("Issuer B")
    both = [old_root.certificate, new_root.certificate]
    late = {"db"} if remove_old_anchor_early else set()

    with tempfile.TemporaryDirectory() as directory, _fleet_under(old_issuer, [old_root.certificate], Path(directory)) as fleet:
        fleet.run_round("1. everything under root A", rounds)

        fleet.set_server(trust=both)
        for name in WORKLOADS:
            fleet.update_workload(name, trust=both)
        fleet.run_round("2. every peer trusts root A and root B", rounds)

        fleet.set_server(renew(new_issuer, _server_credential(fleet)))
        fleet.run_round("3. server re-issued under root B", rounds)

        for name in WORKLOADS:
            if name not in late:
                fleet.update_workload(name, credential=renew(new_issuer, fleet.workloads[name].credential))
        step = "4. workloads re-issued under root B" + (" (db not yet)" if late else "")
        fleet.run_round(step, rounds)

        fleet.set_server(trust=[new_root.certificate])
        for name in WORKLOADS:
            fleet.update_workload(name, trust=[new_root.certificate])
        fleet.run_round("5. root A removed from every bundle", rounds)
        return fleet.results


def renewal_without_reload(rounds: int = 5, reload: bool = False, expires_in: float = 0.5) -> list[StepResult]:
    """Renew the server certificate on disk while the old one is about to expire.

    The first certificate expires at least ``expires_in`` seconds after the run starts
    (X.509 times have whole seconds, so up to one second later), and the last step
    waits for that moment. A server that reloads its files serves the renewed
    certificate throughout; one that never reloads keeps serving the first one, and
    every handshake after its expiry fails with "certificate has expired".
    """
    root = CertificateAuthority.create_root("Root CA")
    issuer = root.create_intermediate("Issuer")
    earliest = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=expires_in)
    expiry = earliest.replace(microsecond=0) + dt.timedelta(seconds=1)
    issued = expiry - dt.timedelta(hours=1)
    short_lived = issuer.issue_server("localhost", valid_from=issued, lifetime=expiry - issued)
    anchors = [root.certificate]

    with tempfile.TemporaryDirectory() as directory, _fleet_under(issuer, anchors, Path(directory), reload, short_lived) as fleet:
        fleet.run_round("1. server certificate about to expire", rounds)
        fleet.set_server(renew(issuer, short_lived, lifetime=dt.timedelta(days=1)))
        fleet.run_round("2. renewed certificate written to disk", rounds)
        _sleep_until(expiry + dt.timedelta(milliseconds=200))
        fleet.run_round("3. first certificate has expired", rounds)
        return fleet.results


def _server_credential(fleet: Fleet) -> Credential:
    """Return the credential the fleet's server files hold now."""
    chain = load_certificates(fleet.files.chain)
    return Credential(chain[0], load_private_key(fleet.files.key), tuple(chain[1:]))


def _sleep_until(moment: dt.datetime) -> None:
    remaining = (moment - dt.datetime.now(dt.timezone.utc)).total_seconds()
    if remaining > 0:
        time.sleep(remaining)
