"""SPIFFE IDs: the ``spiffe://trust-domain/path`` URIs that meshes use as workload identities."""

from __future__ import annotations

import re

from mtlslab.errors import InputError

# The SPIFFE ID specification allows lowercase letters, digits, dots, dashes and
# underscores in the trust domain, and adds uppercase letters in path segments.
_TRUST_DOMAIN = re.compile(r"^[a-z0-9._-]+$")
_PATH_SEGMENT = re.compile(r"^[a-zA-Z0-9._-]+$")


def validate_spiffe_id(value: str) -> str:
    """Return ``value`` unchanged if it is a valid SPIFFE ID, or raise InputError saying why not."""
    prefix = "spiffe://"
    if not value.startswith(prefix):
        raise InputError(f"invalid SPIFFE ID {value!r}: it must start with spiffe://")

    trust_domain, _, path = value[len(prefix):].partition("/")
    if not _TRUST_DOMAIN.match(trust_domain):
        raise InputError(
            f"invalid SPIFFE ID {value!r}: the trust domain may hold only lowercase letters, digits, '.', '-' and '_'"
        )

    if path:
        for segment in path.split("/"):
            if segment in ("", ".", "..") or not _PATH_SEGMENT.match(segment):
                raise InputError(
                    f"invalid SPIFFE ID {value!r}: path segment {segment!r} must be non-empty, not '.' or '..', "
                    "and use only letters, digits, '.', '-' and '_'"
                )
    return value


def istio_spiffe_id(namespace: str, service_account: str, trust_domain: str = "cluster.local") -> str:
    """Return the SPIFFE ID Istio gives a workload: ``spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT``."""
    return validate_spiffe_id(f"spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}")
