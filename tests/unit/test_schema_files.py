"""The committed JSON Schema files and the AsyncAPI document agree with the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from schemas import INPUT_TOPICS, TOPICS
from schemas.export import JSON_DIR, file_name, render, stale, write

ASYNCAPI = Path(__file__).resolve().parents[2] / "schemas" / "asyncapi.yaml"


def asyncapi() -> dict[str, Any]:
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_committed_schema_files_are_what_the_models_produce() -> None:
    assert stale(JSON_DIR) == [], "stale JSON Schema files: run `python -m schemas` and commit"


def test_the_staleness_check_notices_an_edited_a_missing_and_an_extra_file(tmp_path: Path) -> None:
    write(tmp_path)
    assert stale(tmp_path) == []
    (tmp_path / "cases.schema.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "persons.schema.json").unlink()
    (tmp_path / "old-topic.schema.json").write_text("{}\n", encoding="utf-8")
    assert stale(tmp_path) == ["cases.schema.json", "old-topic.schema.json", "persons.schema.json"]


def test_write_reports_only_the_files_it_changed(tmp_path: Path) -> None:
    assert len(write(tmp_path)) == len(TOPICS)
    assert write(tmp_path) == []


def test_every_topic_has_a_json_schema_of_the_2020_12_dialect() -> None:
    for name, text in render().items():
        schema = json.loads(text)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert schema["type"] == "object", name


def test_input_schemas_require_exactly_what_the_models_require() -> None:
    for topic in INPUT_TOPICS:
        schema = json.loads(render()[file_name(topic.name)])
        required = {n for n, f in topic.model.model_fields.items() if f.is_required()}
        assert set(schema["required"]) == required, topic.name
        assert schema["additionalProperties"] is True, topic.name


def test_asyncapi_is_version_3_and_names_every_topic() -> None:
    document = asyncapi()
    assert document["asyncapi"].startswith("3.0")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(TOPICS)


def test_asyncapi_payloads_reference_every_schema_file_and_only_existing_ones() -> None:
    messages = asyncapi()["components"]["messages"]
    referenced = {message["payload"]["$ref"] for message in messages.values()}
    assert referenced == {f"json/{file_name(name)}" for name in TOPICS}
    for ref in referenced:
        assert (ASYNCAPI.parent / ref).is_file(), ref


def test_asyncapi_gives_each_topic_the_key_and_payload_of_its_model() -> None:
    document = asyncapi()
    messages = document["components"]["messages"]
    for channel in document["channels"].values():
        topic = TOPICS[channel["address"]]
        [reference] = channel["messages"].values()
        message = messages[reference["$ref"].rsplit("/", 1)[1]]
        assert message["payload"]["$ref"] == f"json/{file_name(topic.name)}"
        key = message["bindings"]["kafka"]["key"]["description"]
        assert key == topic.key or (topic.key is None and "own key" in key), topic.name


def test_every_channel_has_an_operation_and_every_operation_a_channel() -> None:
    document = asyncapi()
    used = {op["channel"]["$ref"] for op in document["operations"].values()}
    assert used == {f"#/channels/{name}" for name in document["channels"]}
