"""The JSON Schema files under ``schemas/json/``, generated from the models so they cannot drift.

The models are the single source of truth; the files are for readers and tools outside Python
(the AsyncAPI document, feed teams, other languages). A unit test fails when the committed files
differ from what the models produce: run ``python -m schemas`` (or ``paicha schemas export``).
"""

from __future__ import annotations

import json
from pathlib import Path

from schemas.topics import TOPICS, Topic

JSON_DIR = Path(__file__).resolve().parent / "json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def file_name(topic: str) -> str:
    """The schema file of a topic, relative to ``JSON_DIR``."""
    return f"{topic}.schema.json"


def render_topic(topic: Topic) -> str:
    """One topic's JSON Schema as the exact text of its file."""
    schema = {"$schema": DIALECT, **topic.model.model_json_schema(mode="validation")}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every schema file's name and text."""
    return {file_name(name): render_topic(topic) for name, topic in TOPICS.items()}


def write(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema file into ``directory``; return the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in render().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Names of the schema files in ``directory`` that are missing, out of date or unexpected."""
    expected = render()
    present = (
        {path.name for path in directory.glob("*.schema.json")} if directory.exists() else set()
    )
    out_of_date = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(out_of_date + sorted(present - expected.keys()))
