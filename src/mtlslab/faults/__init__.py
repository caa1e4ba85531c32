"""Named broken-certificate scenarios that fail in a real handshake on loopback.

>>> result = run_scenario("expired-server-leaf")
>>> result.stage, result.finding, str(result.alert)
(3, 'expired', 'certificate_expired (45)')

Each scenario builds a PKI with exactly one defect, runs the connection, and returns
what each peer reported, the alert on the wire and the stage where the handshake
stopped, with the ``mtlslab diagnose`` finding that names the defect.
"""

from mtlslab.faults.catalog import FAMILIES, SCENARIOS, FaultSetup, Peers, Scenario, run_scenario, scenario
from mtlslab.faults.result import STAGE_TITLES, DiagnoseInputs, FaultResult, stage_of

__all__ = [
    "FAMILIES",
    "SCENARIOS",
    "STAGE_TITLES",
    "DiagnoseInputs",
    "FaultResult",
    "FaultSetup",
    "Peers",
    "Scenario",
    "run_scenario",
    "scenario",
    "stage_of",
]
