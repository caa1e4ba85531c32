"""Plain-text views of mesh facts, workload certificates and proofs, for notebooks and terminals.

Every view prints the sources next to the statements (page title, product version and
URL), so a learner can tell which release a fact describes and where to check it.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Mapping

from cryptography import x509

from mtlslab.errors import InputError
from mtlslab.mesh.facts import MESHES, TOPICS, Source
from mtlslab.mesh.proof import PROOFS, proofs_for
from mtlslab.pki.summary import summarize

WIDTH = 100


def format_source(source: Source) -> str:
    """Return one source as ``title, version: url``."""
    return f"{source.title}, {source.version}: {source.url}"


def format_topic(topic: str, meshes: Iterable[str] | None = None, *, width: int = WIDTH) -> str:
    """Return every mesh's statement on ``topic``, each followed by its sources.

    ``meshes`` takes keys of :data:`mtlslab.mesh.facts.MESHES`, and the default is all of them.
    """
    if topic not in TOPICS:
        raise InputError(f"unknown topic {topic!r}: use one of {', '.join(TOPICS)}")
    keys = list(MESHES) if meshes is None else list(meshes)
    blocks = []
    for key in keys:
        if key not in MESHES:
            raise InputError(f"unknown mesh {key!r}: use one of {', '.join(MESHES)}")
        mesh = MESHES[key]
        fact = mesh.fact(topic)
        lines = [mesh.name]
        lines += textwrap.wrap(fact.statement, width, initial_indent="  ", subsequent_indent="  ")
        lines += [f"  source: {format_source(source)}" for source in fact.sources]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_lifetime(lifetime: dt.timedelta) -> str:
    """Format a certificate lifetime in hours, minutes and seconds, for example ``24 h 40 s``."""
    seconds = int(lifetime.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} h"]
    if minutes:
        parts.append(f"{minutes} min")
    if seconds:
        parts.append(f"{seconds} s")
    return " ".join(parts)


def certificate_table(certificates: Mapping[str, x509.Certificate]) -> str:
    """Return a table with one row per certificate: identity SANs, extended key usage, lifetime and key type.

    The keys of ``certificates`` label the rows, for example the mesh that issued each one.
    """
    header = ("", "identity (subjectAltName)", "ext. key usage", "lifetime", "key")
    rows = [header]
    for label, certificate in certificates.items():
        summary = summarize(certificate)
        rows.append(
            (
                label,
                ", ".join(summary.subject_alt_names) or "(none)",
                ", ".join(summary.extended_key_usage) or "(extension absent)",
                format_lifetime(certificate.not_valid_after_utc - certificate.not_valid_before_utc),
                summary.public_key,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_proofs(mesh: str, *, width: int = WIDTH) -> str:
    """Return the three ways to prove mTLS for ``mesh``: command, healthy and unhealthy output, sources."""
    blocks = []
    for evidence in proofs_for(mesh):
        lines = [f"{evidence.kind}:", f"  check: {evidence.command}"]
        for label, text in (("healthy", evidence.healthy), ("unhealthy", evidence.unhealthy)):
            lines += textwrap.wrap(
                f"{label}: {text}", width, initial_indent="  ", subsequent_indent=" " * (len(label) + 4)
            )
        lines += [f"  source: {format_source(source)}" for source in evidence.sources]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def all_sources() -> list[Source]:
    """Return every source cited by the facts and the proofs, once each, in the order they first appear."""
    seen: dict[Source, None] = {}
    for mesh in MESHES.values():
        for fact in mesh.facts:
            seen.update(dict.fromkeys(fact.sources))
    for evidence_list in PROOFS.values():
        for evidence in evidence_list:
            seen.update(dict.fromkeys(evidence.sources))
    return list(seen)


__all__ = [
    "all_sources",
    "certificate_table",
    "format_lifetime",
    "format_proofs",
    "format_source",
    "format_topic",
]
