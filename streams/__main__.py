"""``python -m streams worker``: one faust worker of the stream processors."""

from __future__ import annotations

from streams.worker import main

if __name__ == "__main__":
    main()
