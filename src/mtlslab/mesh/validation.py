"""Validate mesh manifests against the OpenAPI v3 schemas of the meshes' CRDs.

The schemas ship in ``mtlslab/mesh/schemas`` (see the README there for their sources).
Validation needs the ``jsonschema`` package, which the kit's ``test`` extra installs.
"""

from __future__ import annotations

import copy
import functools
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from mtlslab.errors import InputError

SCHEMA_FILES = ("istio-security.yaml", "linkerd-policy.yaml", "cilium-network-policy.yaml")


class ManifestError(InputError):
    """A manifest that its CRD schema rejects; ``problems`` lists each violation."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class CrdSchema:
    """The JSON Schema of one served CRD version, with the CRD document it came from."""

    api_version: str
    kind: str
    source_file: str
    schema: dict[str, Any]


def validate_manifest(manifest: dict[str, Any]) -> CrdSchema:
    """Check ``manifest`` against its CRD schema; return the schema or raise ManifestError.

    The error lists every violation with the path of the offending field.
    """
    if not isinstance(manifest, dict):
        raise ManifestError(f"a manifest must be a mapping, not {type(manifest).__name__}")
    crd = schema_for(manifest.get("apiVersion"), manifest.get("kind"))

    validator = _jsonschema().Draft7Validator(crd.schema)
    problems = tuple(_describe(error) for error in sorted(validator.iter_errors(manifest), key=_error_path))
    if problems:
        name = manifest.get("metadata", {}).get("name", "(no name)") if isinstance(manifest.get("metadata"), dict) else "(no name)"
        raise ManifestError(
            f"{crd.kind} {name!r} does not match the {crd.api_version} schema: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems,
        )
    return crd


def schema_for(api_version: str | None, kind: str | None) -> CrdSchema:
    """Return the schema for ``api_version`` and ``kind``, or raise ManifestError if the kit ships none."""
    schemas = _load_schemas()
    try:
        return schemas[(api_version, kind)]
    except KeyError:
        known = ", ".join(f"{version} {name}" for version, name in sorted(schemas))
        raise ManifestError(
            f"no schema for apiVersion {api_version!r} kind {kind!r}: the kit validates {known}"
        ) from None


def known_kinds() -> tuple[tuple[str, str], ...]:
    """Return the (apiVersion, kind) pairs that the shipped schemas cover."""
    return tuple(sorted(_load_schemas()))


@functools.cache
def _load_schemas() -> dict[tuple[str, str], CrdSchema]:
    schemas = {}
    package = resources.files("mtlslab.mesh") / "schemas"
    for file_name in SCHEMA_FILES:
        for crd in yaml.safe_load_all((package / file_name).read_text(encoding="utf-8")):
            group = crd["spec"]["group"]
            kind = crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served", False):
                    continue
                api_version = f"{group}/{version['name']}"
                schema = to_json_schema(version["schema"]["openAPIV3Schema"], api_version, kind)
                schemas[(api_version, kind)] = CrdSchema(api_version, kind, file_name, schema)
    return schemas


def to_json_schema(openapi: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """Convert a CRD's structural OpenAPI v3 schema to a JSON Schema that behaves like the API server.

    Unknown fields are rejected (the API server prunes them), ``x-kubernetes-int-or-string``
    accepts both types, and the envelope fields every Kubernetes object needs are required.
    """
    schema = _convert(copy.deepcopy(openapi))
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"const": api_version}
    properties["kind"] = {"const": kind}
    properties["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 253},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
    schema["type"] = "object"
    schema["additionalProperties"] = False
    return schema


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node

    converted = {key: _convert(value) for key, value in node.items()}
    if converted.pop("x-kubernetes-int-or-string", False) and "type" not in converted:
        converted["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = converted.pop("x-kubernetes-preserve-unknown-fields", False)
    if converted.get("type") == "object" and "properties" in converted and not preserve:
        converted.setdefault("additionalProperties", False)
    # OpenAPI's nullable has no JSON Schema keyword of that name; a null value is allowed instead.
    if converted.pop("nullable", False) and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    return converted


def _error_path(error) -> str:
    return "/".join(str(part) for part in error.absolute_path)


def _describe(error) -> str:
    path = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{path}: {error.message}"


def _jsonschema():
    """Import jsonschema without its optional IRI format checker.

    jsonschema imports rfc3987_syntax when it is installed (Jupyter installs it), and
    that import builds a parser for about a second. The CRD schemas use no "iri"
    format, so the kit marks the module as missing before jsonschema looks for it.
    The test extra installs jsonschema; the import stays here so the rest of the
    library loads without it.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    import jsonschema

    return jsonschema
