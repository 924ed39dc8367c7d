"""``python -m schemas``: regenerate the JSON Schema files from the models."""

from __future__ import annotations

from schemas.export import JSON_DIR, write


def main() -> None:
    changed = write(JSON_DIR)
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print(f"{JSON_DIR}: up to date")


if __name__ == "__main__":
    main()
