"""Load the suite's hand-written JSON Schemas and its OpenAPI transcription, offline.

The schema files (``schemas/*.json``, draft 2020-12) reference each other by their
``$id`` (``https://comms-contract.invalid/schemas/<file>``). The ``.invalid`` host can
never resolve, so every lookup must go through the in-memory registry built here: a
missing schema fails loudly instead of silently reaching for the network.

Strict mode (CONTRACT clause EXTRA-FIELDS: unknown fields are FREE by default, MUST-absent
under ``strict``) is applied here rather than written into the files, so a single set of
files serves both modes.
"""

from __future__ import annotations

import copy
import functools
import json
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin

import referencing
import referencing.jsonschema
from jsonschema import Draft202012Validator

from comms_contract.paths import data_dir

__all__ = [
    "BASE_URI",
    "OPENAPI_PATH",
    "SCHEMA_NAMES",
    "STRICT_SCHEMA_NAMES",
    "errors",
    "format_checking_active",
    "list_page_errors",
    "load_schema",
    "openapi_document",
    "registry",
    "schema_dir",
    "schema_id",
    "validator",
]

#: Base of every schema ``$id``; a ``.invalid`` host so nothing can ever be fetched.
BASE_URI = "https://comms-contract.invalid/schemas/"

#: The JSON Schema files (stems), without the OpenAPI document.
SCHEMA_NAMES: tuple[str, ...] = (
    "status",
    "stats",
    "operation",
    "pagination",
    "list-response",
    "error",
    "list-query",
)

#: Schemas that strict mode closes. ``error`` (field names FREE, CONTRACT ERROR-BODY) and
#: ``list-query`` (unknown parameters FREE, UNKNOWN-PARAM) are never closed.
STRICT_SCHEMA_NAMES: frozenset[str] = frozenset(
    {"stats", "operation", "pagination", "list-response"}
)

#: The one path of the OpenAPI transcription.
OPENAPI_PATH = "/v1/PushNotifications/Operations"

_COMPONENTS_PREFIX = "#/components/schemas/"

# Keywords whose value is a subschema, a list of subschemas, or a name -> subschema map
# (draft 2020-12 applicators). Walking only these keeps property *names* such as a field
# called "properties" from being mistaken for schema keywords.
_SCHEMA_VALUED = (
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "contains",
    "unevaluatedItems",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")


def schema_dir() -> pathlib.Path:
    """Return the directory holding the schema files (packaged copy first, then checkout)."""
    return data_dir("schemas")


def schema_id(name: str) -> str:
    """Return the ``$id`` of schema ``name`` (the suite's references use these URLs)."""
    return f"{BASE_URI}{name}.json"


@functools.cache
def _read(file_name: str) -> dict[str, Any]:
    """Parse one file once; callers get deep copies so the cache cannot be mutated."""
    path = schema_dir() / file_name
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _check_name(name: str) -> None:
    if name not in SCHEMA_NAMES:
        raise KeyError(f"unknown schema {name!r}; expected one of {', '.join(SCHEMA_NAMES)}")


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the direct subschemas of ``schema`` (dicts only; boolean schemas have none)."""
    for key in _SCHEMA_VALUED:
        value = schema.get(key)
        if isinstance(value, dict):
            yield value
    for key in _SCHEMA_LISTS:
        for value in schema.get(key) or ():
            if isinstance(value, dict):
                yield value
    for key in _SCHEMA_MAPS:
        mapping = schema.get(key)
        if isinstance(mapping, dict):
            for value in mapping.values():
                if isinstance(value, dict):
                    yield value


def _close_objects(schema: dict[str, Any]) -> None:
    """Add ``unevaluatedProperties: false`` to every object schema that lists properties.

    ``unevaluatedProperties`` (not ``additionalProperties``) so that properties evaluated
    through ``allOf``/``$ref`` siblings would still count as known, should a schema ever
    gain them.
    """
    if isinstance(schema.get("properties"), dict):
        schema["unevaluatedProperties"] = False
    for sub in _subschemas(schema):
        _close_objects(sub)


def load_schema(name: str, *, strict: bool = False) -> dict[str, Any]:
    """Return a deep copy of schema ``name`` (a stem from ``SCHEMA_NAMES``).

    With ``strict=True`` the objects of stats, operation, pagination and list-response are
    closed (CONTRACT EXTRA-FIELDS under ``strict``); error and list-query never are.
    """
    _check_name(name)
    schema = copy.deepcopy(_read(f"{name}.json"))
    if strict and name in STRICT_SCHEMA_NAMES:
        _close_objects(schema)
    return schema


@functools.lru_cache(maxsize=2)
def registry(*, strict: bool = False) -> referencing.Registry:
    """Return a registry holding every schema under its ``$id``, for offline ``$ref`` lookup.

    It has no ``retrieve`` hook, so an unknown reference raises instead of being fetched.
    """
    resources = []
    for name in SCHEMA_NAMES:
        schema = load_schema(name, strict=strict)
        if schema.get("$id") != schema_id(name):
            raise RuntimeError(
                f"{name}.json: $id is {schema.get('$id')!r}, expected {schema_id(name)!r}"
            )
        resources.append(
            (schema_id(name), referencing.jsonschema.DRAFT202012.create_resource(schema))
        )
    return referencing.Registry().with_resources(resources).crawl()


def format_checking_active() -> bool:
    """Tell whether ``format: date-time`` is really checked.

    jsonschema only registers the ``date-time`` checker when ``rfc3339-validator`` is
    importable; without it any string would pass as a date, silently.
    """
    return "date-time" in Draft202012Validator.FORMAT_CHECKER.checkers


@functools.cache
def _validator(name: str, strict: bool) -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(name, strict=strict),
        registry=registry(strict=strict),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validator(name: str, *, strict: bool = False) -> Draft202012Validator:
    """Return a cached validator for schema ``name`` with date-time checking and offline refs.

    Raises RuntimeError when date-time checking is unavailable: a validator that ignored
    ``format`` would accept any string as an RFC 3339 date (CONTRACT OP-SHAPE, DATE-FORMAT).
    """
    if not format_checking_active():
        raise RuntimeError(
            "comms_contract: JSON Schema 'date-time' format checking is inactive, so dates "
            "would not be validated; install it: pip install rfc3339-validator"
        )
    _check_name(name)
    return _validator(name, strict)


@dataclass(frozen=True)
class SchemaError:
    """One JSON Schema error: where (``path`` from the document root), which keyword failed
    (``validator``, e.g. ``"required"``) and jsonschema's message."""

    path: tuple[str | int, ...]
    validator: str
    message: str


# An operation's JSON text up to this size is a cache key (a page of the reference dataset
# repeats the same operations walk after walk); a bigger one is validated each time.
_OP_KEY_MAX = 4096


def list_page_errors(body: Any, *, strict: bool = False) -> list[SchemaError]:
    """The errors of ``body`` against ``list-response`` (draft 2020-12), sorted by path.

    The same result as iterating the ``list-response`` validator, faster: the envelope is
    validated with its ``operations`` emptied, and each operation against ``operation``
    (what ``items`` refers to), memoised by its JSON text. Schema validation was a third of a
    run's CPU time, and a run sees the same operations on page after page. Raises
    RuntimeError like ``validator`` when date-time checking is unavailable."""
    envelope = validator("list-response", strict=strict)
    ops = body.get("operations") if isinstance(body, dict) else None
    if not isinstance(ops, list):
        found = [_error(e, ()) for e in envelope.iter_errors(body)]
        return sorted(found, key=lambda e: list(map(str, e.path)))
    found = [_error(e, ()) for e in envelope.iter_errors({**body, "operations": []})]
    for i, op in enumerate(ops):
        key = json.dumps(op, ensure_ascii=False)  # key order kept: messages quote the value
        errors = _op_errors(key, strict) if len(key) <= _OP_KEY_MAX else _op_errors_of(op, strict)
        found += [SchemaError(("operations", i, *e.path), e.validator, e.message) for e in errors]
    return sorted(found, key=lambda e: list(map(str, e.path)))


def _error(err: Any, prefix: tuple[str | int, ...]) -> SchemaError:
    return SchemaError((*prefix, *err.absolute_path), str(err.validator), err.message)


@functools.lru_cache(maxsize=8192)
def _op_errors(key: str, strict: bool) -> tuple[SchemaError, ...]:
    return _op_errors_of(json.loads(key), strict)


def _op_errors_of(op: Any, strict: bool) -> tuple[SchemaError, ...]:
    return tuple(_error(e, ()) for e in validator("operation", strict=strict).iter_errors(op))


def _pointer(path: Any) -> str:
    """Render a jsonschema error path as a JSON Pointer (``/`` for the document root)."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "/" + "/".join(parts)


def _path_key(path: Any) -> tuple[tuple[int, int, str], ...]:
    """Sort key for error paths: array indexes numerically, before names."""
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path)


def errors(name: str, instance: Any, *, strict: bool = False) -> list[str]:
    """Return human-readable validation errors, ``"at <json pointer>: <message>"``, by path.

    Meant for reports: an empty list means ``instance`` conforms to schema ``name``.
    """
    found = validator(name, strict=strict).iter_errors(instance)
    ordered = sorted(found, key=lambda e: (_path_key(e.absolute_path), e.message))
    return [f"at {_pointer(e.absolute_path)}: {e.message}" for e in ordered]


def _rewrite_refs(node: Any, base: str, names: dict[str, str], used: set[str]) -> Any:
    """Return ``node`` with ``$ref``s to known ``$id``s turned into component pointers.

    ``base`` is the URI relative references resolve against (the enclosing schema's
    ``$id``). Fragments are kept: ``operation.json#/$defs/x`` becomes
    ``#/components/schemas/operation/$defs/x``. ``used`` collects the components needed.
    """
    if isinstance(node, list):
        return [_rewrite_refs(item, base, names, used) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            target, fragment = urldefrag(urljoin(base, value))
            if target in names:
                used.add(names[target])
                value = _COMPONENTS_PREFIX + names[target] + fragment
        out[key] = _rewrite_refs(value, base, names, used)
    return out


def openapi_document(*, strict: bool = False) -> dict[str, Any]:
    """Return the OpenAPI 3.1 transcription with its schemas bundled into components.

    ``schemas/openapi.json`` refers to the schema files by absolute ``$id``. schemathesis
    (4.32) resolves a ``$ref`` as a location to fetch, not as an embedded ``$id``, so those
    URLs would end in a network lookup of the never-resolvable ``.invalid`` host. Every
    referenced schema is therefore copied into ``components/schemas/<stem>`` and every
    ``$ref`` rewritten to a local JSON Pointer. The copies lose ``$id`` (an embedded
    ``$id`` would rebase the rewritten ``#/components/...`` pointers onto the schema itself)
    and ``$schema`` (the dialect is the document's ``jsonSchemaDialect``).

    With ``strict=True`` the bundled schemas are the closed ones (CONTRACT EXTRA-FIELDS).
    """
    names = {schema_id(name): name for name in SCHEMA_NAMES}
    used: set[str] = set()
    document = _rewrite_refs(copy.deepcopy(_read("openapi.json")), "", names, used)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    pending = sorted(used)
    while pending:
        name = pending.pop()
        if name in components:
            continue
        found: set[str] = set()
        schema = _rewrite_refs(load_schema(name, strict=strict), schema_id(name), names, found)
        schema.pop("$id", None)
        schema.pop("$schema", None)
        components[name] = schema
        pending.extend(sorted(found - components.keys()))
    document["components"]["schemas"] = dict(sorted(components.items()))
    return document
