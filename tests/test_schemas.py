"""Tests of the hand-written JSON Schemas and their loader (comms_contract.schemas).

The docs' own example response is used as a fixture: the suite's schemas follow the
documented rules, so the example's errata (CONTRACT section 6) must show up exactly as
described there, no more and no less.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import re
import socket
from collections import deque
from typing import Any

import pytest
import referencing.exceptions
from jsonschema import Draft202012Validator

from comms_contract import schemas
from comms_contract.schemas import (
    BASE_URI,
    OPENAPI_PATH,
    SCHEMA_NAMES,
    errors,
    format_checking_active,
    load_schema,
    openapi_document,
    registry,
    schema_dir,
    validator,
)

# The example response of the docs page "List Push Notification Operations"
# (seed 000_1ab8b16ad209ffe7.txt), copied verbatim.
DOCS_EXAMPLE: dict[str, Any] = {
    "operations": [
        {
            "id": "comms_operation_01h9krwprkeee8fzqspvwy6nq8",
            "status": "SCHEDULED",
            "stats": {
                "total": 150,
                "recipients": 145,
                "unaddressable": 3,
                "scheduled": 20,
                "queued": 50,
                "sent": 70,
                "failed": 5,
                "canceled": 2,
            },
            "createdAt": "2024-04-20T14:22:00Z",
            "updatedAt": "2024-04-20T15:45:00Z",
        },
        {
            "id": "comms_operation_01h9ksxq9v7b2m4r5t6y7z8a9",
            "status": "COMPLETED",
            "stats": {
                "total": 300,
                "recipients": 300,
                "unaddressable": 0,
                "scheduled": 0,
                "queued": 0,
                "sent": 295,
                "failed": 5,
                "canceled": 0,
            },
            "createdAt": "2024-04-18T10:00:00Z",
            "updatedAt": "2024-04-18T12:30:00Z",
        },
    ],
    "pagination": {
        "next": "eyJwYWdlVG9rZW4iOiAiY29tbXNfb3BlcmF0aW9uXzAxaG9qbnZ3b3J4b3B5b3V6bG1uIn0",
        "self": "eyJwYWdlVG9rZW4iOiAiY29tbXNfb3BlcmF0aW9uXzAxaDkrcnducGtrZWVlOGZ6cXNwdnd5Nm5xOCJ9",
    },
}

PREFIX = "comms_operation_"
GOOD_ID = DOCS_EXAMPLE["operations"][0]["id"]
# The docs' second id with one more character, giving the documented minimum of 25.
FIXED_SECOND_ID = "comms_operation_01h9ksxq9v7b2m4r5t6y7z8a9b"
ERROR_STATUSES = ("400", "401", "403", "429", "500", "503")


def example() -> dict[str, Any]:
    return copy.deepcopy(DOCS_EXAMPLE)


def first_operation() -> dict[str, Any]:
    return example()["operations"][0]


def valid_page() -> dict[str, Any]:
    page = example()
    page["operations"][1]["id"] = FIXED_SECOND_ID
    return page


def is_valid(name: str, instance: Any, *, strict: bool = False) -> bool:
    return validator(name, strict=strict).is_valid(instance)


def refs(node: Any) -> list[str]:
    """Every ``$ref`` value in a JSON document."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def raw_openapi() -> dict[str, Any]:
    return json.loads((schema_dir() / "openapi.json").read_text(encoding="utf-8"))


# --- The files themselves ---------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_file_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads((schema_dir() / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{BASE_URI}{name}.json"
    assert schema["title"]
    assert "CONTRACT" in schema["description"] or "docs" in schema["description"]


def test_schema_dir_holds_every_file() -> None:
    names = {path.stem for path in schema_dir().glob("*.json")}
    assert set(SCHEMA_NAMES) | {"openapi"} <= names


def test_stats_schema_declares_the_eight_counters() -> None:
    stats = load_schema("stats")
    fields = ["total", "recipients", "unaddressable", "scheduled", "queued", "sent", "failed"]
    fields.append("canceled")
    assert stats["required"] == fields
    for field in fields:
        assert stats["properties"][field] == {
            "description": stats["properties"][field]["description"],
            "type": "integer",
            "minimum": 0,
        }
    # EXTRA-FIELDS is FREE by default: only strict mode closes the object.
    assert "additionalProperties" not in stats
    assert "unevaluatedProperties" not in stats


def test_openapi_document_is_the_expected_transcription() -> None:
    doc = raw_openapi()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == (
        "Twilio Comms: List Push Notification Operations (comms-contract transcription)"
    )
    assert doc["info"]["version"] == "1.0.0"
    assert list(doc["paths"]) == [OPENAPI_PATH]
    assert list(doc["paths"][OPENAPI_PATH]) == ["get"]
    get = doc["paths"][OPENAPI_PATH]["get"]
    assert get["operationId"] == "listPushNotificationOperations"

    params = {p["name"]: p for p in get["parameters"]}
    assert list(params) == ["pageToken", "pageSize", "status", "startDate", "endDate"]
    for param in params.values():
        assert (param["in"], param["required"], param["style"], param["explode"]) == (
            "query",
            False,
            "form",
            True,
        )
    assert params["pageToken"]["schema"] == {"type": "string"}
    assert params["pageSize"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 50,
    }
    assert params["status"]["schema"] == {"$ref": f"{BASE_URI}status.json"}
    for name in ("startDate", "endDate"):
        assert params[name]["schema"] == {"type": "string", "format": "date-time"}

    responses = get["responses"]
    assert set(responses) == {"200", *ERROR_STATUSES}
    assert responses["200"]["content"] == {
        "application/json": {"schema": {"$ref": f"{BASE_URI}list-response.json"}}
    }
    for status in ERROR_STATUSES:
        assert responses[status]["content"] == {
            media: {"schema": {"$ref": f"{BASE_URI}error.json"}}
            for media in ("application/json", "application/problem+json")
        }
    for status in ("429", "503"):
        assert responses[status]["headers"]["Retry-After"]["schema"] == {"type": "string"}
    assert responses["429"]["headers"]["Retry-After"]["required"] is True  # MUST
    assert responses["503"]["headers"]["Retry-After"]["required"] is False  # SHOULD
    assert doc["components"]["securitySchemes"]["basicAuth"]["type"] == "http"
    assert doc["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    assert doc["security"] == [{"basicAuth": []}]
    # Every reference names a schema file by its $id.
    assert set(refs(doc)) <= {f"{BASE_URI}{name}.json" for name in SCHEMA_NAMES}


# --- Offline resolution -----------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("strict", [False, True])
def test_refs_resolve_offline(strict: bool) -> None:
    assert errors("list-response", valid_page(), strict=strict) == []
    resolver = registry(strict=strict).resolver()
    for name in SCHEMA_NAMES:
        assert resolver.lookup(f"{BASE_URI}{name}.json").contents == load_schema(
            name, strict=strict
        )


@pytest.mark.usefixtures("no_network")
def test_unknown_ref_is_an_error_not_a_download() -> None:
    probe = Draft202012Validator({"$ref": f"{BASE_URI}missing.json"}, registry=registry())
    with pytest.raises(referencing.exceptions.Unresolvable):
        probe.validate({})


def test_load_schema_returns_independent_copies() -> None:
    first = load_schema("operation")
    first["required"].clear()
    assert load_schema("operation")["required"] == [
        "id",
        "status",
        "stats",
        "createdAt",
        "updatedAt",
    ]
    with pytest.raises(KeyError):
        load_schema("openapi")


# --- Dates --------------------------------------------------------------------------------


def test_format_checking_is_active() -> None:
    assert format_checking_active()


def test_validator_refuses_to_work_without_date_time_checking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(Draft202012Validator.FORMAT_CHECKER.checkers, "date-time")
    assert not format_checking_active()
    with pytest.raises(RuntimeError, match="date-time"):
        validator("operation")


@pytest.mark.parametrize(
    "value",
    [
        "2024-04-20 14:22:00",
        "2024-04-20T14:22:00",
        "2024-04-20",
        "2024-04-20T14:22:00+0530",
        "2024-02-30T14:22:00Z",
        "20240420T142200Z",
        "2024-04-20T14:22:00Z\n",
        "",
    ],
)
def test_non_rfc3339_created_at_is_rejected(value: str) -> None:
    operation = first_operation()
    operation["createdAt"] = value
    assert any(e.startswith("at /createdAt:") for e in errors("operation", operation))


@pytest.mark.parametrize(
    "value",
    [
        "2024-04-20T14:22:00Z",
        "2024-04-20T14:22:00+05:30",
        "2024-04-20T14:22:00-08:00",
        "2024-04-20T14:22:00.123456789Z",
        "2024-04-20T14:22:00.1+00:00",
    ],
)
def test_rfc3339_created_at_is_accepted(value: str) -> None:
    operation = first_operation()
    operation["createdAt"] = value
    assert errors("operation", operation) == []


# --- The docs' example and its errata (CONTRACT section 6) --------------------------------


def test_docs_example_is_rejected_only_for_the_short_second_id() -> None:
    """Erratum 1: `...01h9ksxq9v7b2m4r5t6y7z8a9` has 24 characters after [0-7], not 25-34."""
    found = list(validator("list-response").iter_errors(example()))
    assert [deque(e.absolute_path) for e in found] == [deque(["operations", 1, "id"])]
    assert len(DOCS_EXAMPLE["operations"][1]["id"]) - len(PREFIX) - 1 == 24
    messages = errors("list-response", example())
    assert len(messages) == 1
    assert messages[0].startswith("at /operations/1/id: ")


def test_docs_first_item_is_accepted_although_stats_do_not_add_up() -> None:
    """Erratum 2: stats need not add up (STATS-SUMS is FREE), so the item conforms."""
    operation = first_operation()
    stats = operation["stats"]
    buckets = ("scheduled", "queued", "sent", "failed", "canceled")
    assert sum(stats[b] for b in buckets) != stats["total"] != stats["recipients"]
    assert errors("operation", operation) == []
    assert errors("operation", operation, strict=True) == []


@pytest.mark.parametrize("strict", [False, True])
def test_docs_example_with_the_second_id_fixed_is_accepted(strict: bool) -> None:
    assert errors("list-response", valid_page(), strict=strict) == []


@pytest.mark.parametrize(
    ("tail_length", "accepted"),
    [(24, False), (25, True), (30, True), (34, True), (35, False), (40, False)],
)
def test_id_length_is_bounded_at_both_ends(tail_length: int, accepted: bool) -> None:
    """Erratum 4: the docs' pattern lacks `$`; the suite's is anchored, so long ids fail."""
    operation = first_operation()
    operation["id"] = PREFIX + "0" + ("a" * tail_length)
    assert is_valid("operation", operation) is accepted


@pytest.mark.parametrize(
    "bad_id",
    [
        PREFIX + "8" + "a" * 25,  # first character outside [0-7]
        PREFIX + "0" + "a" * 24 + "i",  # i, l, o, u are not in the alphabet
        PREFIX + "0" + "A" * 25,  # uppercase
        "comms_notification_0" + "a" * 25,
        "x" + GOOD_ID,  # anchored at the start too
        GOOD_ID + "\n",  # Python's `$` would match before a final newline
        GOOD_ID + " ",
    ],
)
def test_malformed_ids_are_rejected(bad_id: str) -> None:
    operation = first_operation()
    operation["id"] = bad_id
    assert not is_valid("operation", operation)


def test_docs_example_next_token_is_accepted_as_opaque() -> None:
    """Erratum 3: the `next` token decodes to a malformed id, but the page still conforms."""
    assert is_valid("pagination", DOCS_EXAMPLE["pagination"])
    assert errors("list-response", valid_page()) == []


def test_docs_example_next_token_decodes_to_an_invalid_id() -> None:
    # This documents erratum 3 only. The suite never decodes tokens when testing a server:
    # tokens are opaque (pagination "contains two tokens"; the SenderPools example decodes
    # to internal keys), so their content is implementation detail, not contract.
    token = DOCS_EXAMPLE["pagination"]["next"]
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert decoded == {"pageToken": "comms_operation_01hojnvworxopyouzlmn"}
    operation = first_operation()
    operation["id"] = decoded["pageToken"]
    assert not is_valid("operation", operation)
    assert re.search(r"[ilou]", decoded["pageToken"][len(PREFIX) :])


# --- Strict mode (EXTRA-FIELDS) -------------------------------------------------------------


def _add_top(page: dict[str, Any]) -> None:
    page["meta"] = {"x": 1}


def _add_operation(page: dict[str, Any]) -> None:
    page["operations"][0]["channel"] = "apns"


def _add_stats(page: dict[str, Any]) -> None:
    page["operations"][1]["stats"]["delivered"] = 3


def _add_pagination(page: dict[str, Any]) -> None:
    page["pagination"]["previous"] = None


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (_add_top, "/"),
        (_add_operation, "/operations/0"),
        (_add_stats, "/operations/1/stats"),
        (_add_pagination, "/pagination"),
    ],
)
def test_extra_fields_are_free_by_default_and_rejected_when_strict(mutate: Any, path: str) -> None:
    page = valid_page()
    mutate(page)
    assert errors("list-response", page) == []
    strict_errors = errors("list-response", page, strict=True)
    assert len(strict_errors) == 1
    assert strict_errors[0].startswith(f"at {path}: ")
    assert "Unevaluated properties are not allowed" in strict_errors[0]


@pytest.mark.parametrize("name", ["stats", "operation", "pagination"])
def test_strict_mode_closes_each_schema_alone(name: str) -> None:
    instance = {
        "stats": first_operation()["stats"],
        "operation": first_operation(),
        "pagination": {"self": "abc", "next": None},
    }[name]
    instance = {**instance, "unknown": True}
    assert is_valid(name, instance)
    assert not is_valid(name, instance, strict=True)


def test_strict_mode_never_closes_error_or_query() -> None:
    assert load_schema("error", strict=True) == load_schema("error")
    assert load_schema("list-query", strict=True) == load_schema("list-query")


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        {
            "code": 20001,
            "message": "x",
            "more_info": "https://www.twilio.com/docs/errors/20001",
            "status": 400,
        },
        {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "x"},
        {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "code": "E400",
            "errors": [{"detail": "pageSize", "pointer": "#/pageSize"}],
            "instance": "/req/1",
        },
        {"error": "whatever", "anything": [1, 2, 3]},
        {},
    ],
)
def test_error_bodies_of_any_object_shape_are_accepted(body: dict[str, Any], strict: bool) -> None:
    assert errors("error", body, strict=strict) == []


@pytest.mark.parametrize("body", [[{"code": 20001}], "Bad Request", None, 400])
def test_error_bodies_that_are_not_objects_are_rejected(body: Any) -> None:
    assert not is_valid("error", body)
    assert not is_valid("error", body, strict=True)


def test_error_fields_are_typed_when_present() -> None:
    assert not is_valid("error", {"status": "400"})
    assert not is_valid("error", {"message": 5})


# --- Pagination, stats, status ---------------------------------------------------------------


@pytest.mark.parametrize(
    "pagination",
    [
        {"self": "abc"},
        {"self": "abc", "next": None},
        {"self": "abc", "next": "def"},
        {"self": "abc", "next": ""},  # SHOULD-not finding, reported by code, not the schema
        {"self": "a+b/c=", "next": "d+e/f=="},  # tokens may contain any characters
    ],
)
def test_pagination_next_is_free_to_be_absent_null_or_a_string(pagination: dict) -> None:
    assert errors("pagination", pagination) == []


@pytest.mark.parametrize(
    "pagination",
    [{"next": "def"}, {"self": ""}, {"self": None}, {"self": "abc", "next": 5}, []],
)
def test_pagination_without_a_usable_self_is_rejected(pagination: Any) -> None:
    assert not is_valid("pagination", pagination)


def test_envelope_fields_are_required() -> None:
    for field in ("operations", "pagination"):
        page = valid_page()
        del page[field]
        assert errors("list-response", page) == [f"at /: '{field}' is a required property"]
    assert is_valid("list-response", {"operations": [], "pagination": {"self": "s"}})


def test_stats_with_a_negative_count_are_rejected() -> None:
    operation = first_operation()
    operation["stats"]["failed"] = -1
    assert errors("operation", operation) == ["at /stats/failed: -1 is less than the minimum of 0"]


@pytest.mark.parametrize("field", list(DOCS_EXAMPLE["operations"][0]["stats"]))
def test_stats_missing_a_field_are_rejected(field: str) -> None:
    operation = first_operation()
    del operation["stats"][field]
    assert errors("operation", operation) == [f"at /stats: '{field}' is a required property"]


@pytest.mark.parametrize("value", [1.5, "3", None, True])
def test_stats_counts_must_be_integers(value: Any) -> None:
    operation = first_operation()
    operation["stats"]["sent"] = value
    assert not is_valid("operation", operation)


@pytest.mark.parametrize("status", ["SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED"])
def test_documented_statuses_are_accepted(status: str) -> None:
    assert is_valid("status", status)


@pytest.mark.parametrize("status", ["PAUSED", "completed", "", None, "SENT"])
def test_other_statuses_are_rejected(status: Any) -> None:
    operation = first_operation()
    operation["status"] = status
    assert not is_valid("operation", operation)


@pytest.mark.parametrize("field", ["id", "status", "stats", "createdAt", "updatedAt"])
def test_operation_fields_are_required(field: str) -> None:
    operation = first_operation()
    del operation[field]
    assert errors("operation", operation) == [f"at /: '{field}' is a required property"]


# --- The list query ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"pageSize": "1", "status": "COMPLETED"},
        {
            "pageSize": "1000",
            "startDate": "2024-04-20T14:22:00Z",
            "endDate": "2024-04-21T00:00:00Z",
        },
        {"pageToken": "eyJ+/="},
        {"unknownParam": "x"},  # UNKNOWN-PARAM is FREE
    ],
)
def test_list_query_accepts_well_formed_queries(query: dict[str, str]) -> None:
    assert errors("list-query", query) == []


@pytest.mark.parametrize(
    "query",
    [
        {"pageSize": "2.5"},
        {"pageSize": "1e3"},
        {"pageSize": "-1"},
        {"pageSize": "ten"},
        {"pageSize": 50},
        {"status": "PAUSED"},
        {"startDate": "2024-04-20T14:22:00"},
    ],
)
def test_list_query_rejects_malformed_values(query: dict[str, Any]) -> None:
    assert not is_valid("list-query", query)


# --- Error reporting ------------------------------------------------------------------------


def test_errors_are_sorted_by_path_with_indexes_in_numeric_order() -> None:
    page = valid_page()
    base_operation = page["operations"][0]
    page["operations"] = [copy.deepcopy(base_operation) for _ in range(12)]
    page["operations"][10]["status"] = "PAUSED"
    page["operations"][2]["status"] = "PAUSED"
    del page["pagination"]["self"]
    paths = [message.split(":", 1)[0] for message in errors("list-response", page)]
    assert paths == ["at /operations/2/status", "at /operations/10/status", "at /pagination"]


def test_unknown_schema_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        validator("operations")


# --- The bundled OpenAPI document and schemathesis ----------------------------------------


def _resolve_pointer(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("strict", [False, True])
def test_bundled_openapi_document_has_only_local_refs(strict: bool) -> None:
    doc = openapi_document(strict=strict)
    bundled = doc["components"]["schemas"]
    assert set(bundled) == {"status", "stats", "operation", "pagination", "list-response", "error"}
    for schema in bundled.values():
        assert "$id" not in schema
        assert "$schema" not in schema
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert isinstance(_resolve_pointer(doc, ref), dict)
    assert ("unevaluatedProperties" in bundled["operation"]) is strict
    # The source file is not modified by bundling.
    assert set(refs(raw_openapi())) <= {f"{BASE_URI}{name}.json" for name in SCHEMA_NAMES}


def _httpx_response(status: int, body: Any, content_type: str = "application/json") -> Any:
    httpx = pytest.importorskip("httpx")
    response = httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": content_type},
        request=httpx.Request("GET", f"http://127.0.0.1{OPENAPI_PATH}"),
    )
    response.elapsed = datetime.timedelta(0)  # set by a transport normally; schemathesis reads it
    return response


@pytest.mark.usefixtures("no_network")
def test_schemathesis_loads_the_bundled_document_and_generates_cases() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    hypothesis = pytest.importorskip("hypothesis")

    operation = schemathesis.openapi.from_dict(openapi_document())[OPENAPI_PATH]["GET"]
    seen: list[dict[str, Any]] = []

    @hypothesis.given(operation.as_strategy())
    @hypothesis.settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def collect(case: Any) -> None:
        seen.append(dict(case.query or {}))

    collect()
    assert seen
    for query in seen:
        assert set(query) <= {"pageToken", "pageSize", "status", "startDate", "endDate"}
        if "status" in query:  # the status $ref was resolved, not replaced by "anything"
            assert query["status"] in {"SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED"}
        if "pageSize" in query:
            assert 1 <= int(query["pageSize"]) <= 1000


@pytest.mark.usefixtures("no_network")
def test_schemathesis_validates_responses_against_the_bundled_schemas() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.core.failures import Failure, FailureGroup

    def conforms(status: int, body: Any, *, strict: bool = False, media: str = "application/json"):
        operation = schemathesis.openapi.from_dict(openapi_document(strict=strict))
        try:
            operation[OPENAPI_PATH]["GET"].validate_response(_httpx_response(status, body, media))
        except (FailureGroup, Failure):  # one failure, or several as a BaseExceptionGroup
            return False
        return True

    assert conforms(200, valid_page())
    assert not conforms(200, example())  # erratum 1 is caught through the $refs
    extra = valid_page()
    extra["operations"][0]["channel"] = "apns"
    assert conforms(200, extra)
    assert not conforms(200, extra, strict=True)
    assert conforms(400, {"type": "about:blank", "status": 400}, media="application/problem+json")
    assert not conforms(400, ["not", "an", "object"])


def test_loader_module_exposes_the_documented_api() -> None:
    """What the loader's documented functions return, not merely that they exist."""
    assert schemas.schema_dir().is_dir()
    assert schemas.load_schema("status")["enum"] == [
        "SCHEDULED",
        "PROCESSING",
        "COMPLETED",
        "CANCELED",
    ]
    assert schemas.validator("status").is_valid("COMPLETED")
    assert not schemas.validator("status").is_valid("SENT")
    assert schemas.errors("status", "SENT") and not schemas.errors("status", "CANCELED")
    assert schemas.registry() is not None
    document = schemas.openapi_document()
    assert OPENAPI_PATH in document["paths"] and document["openapi"].startswith("3.")
    assert SCHEMA_NAMES == (
        "status",
        "stats",
        "operation",
        "pagination",
        "list-response",
        "error",
        "list-query",
    )


@pytest.mark.parametrize("strict", [False, True])
def test_list_page_errors_equal_the_plain_validator(strict: bool) -> None:
    """``list_page_errors`` (the envelope, then each operation memoised) reports exactly what
    iterating the ``list-response`` validator reports, on correct pages and on 400 pages
    mutated at random (the hostile fuzz's mutations), each validated twice (cache hits)."""
    import random

    from test_hostile import mutate_json

    from comms_contract.server import ReferenceServer

    def plain(body: Any) -> list[tuple]:
        errors = schemas.validator("list-response", strict=strict).iter_errors(body)
        return sorted((tuple(map(str, e.absolute_path)), e.validator, e.message) for e in errors)

    def fast(body: Any) -> list[tuple]:
        return sorted(
            (tuple(map(str, e.path)), e.validator, e.message)
            for e in schemas.list_page_errors(body, strict=strict)
        )

    ops = [op.to_json() for op in ReferenceServer(seed=5).dataset.snapshot()[:12]]
    page = {"operations": ops, "pagination": {"next": "abc", "self": "xyz"}}
    rng = random.Random(20261130)
    bodies = [copy.deepcopy(page)]
    from comms_contract.http import BodyError, decode_json

    while len(bodies) < 150:
        body = mutate_json(rng, copy.deepcopy(page))  # one mutation, as the fuzz does
        try:  # as a run receives it: bytes the suite decodes (too deep is refused there)
            bodies.append(decode_json(json.dumps(body).encode()))
        except (BodyError, RecursionError):
            continue
    differing = 0
    for body in bodies * 2:
        assert fast(body) == plain(body), json.dumps(body)[:500]
        differing += bool(plain(body))
    assert differing > 80  # the mutations did break the pages
