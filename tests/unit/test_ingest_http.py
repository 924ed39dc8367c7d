"""paicha ingest --url's side: batches under both limits, blank lines skipped but counted, so
a refused record maps back to its line in the file."""

from __future__ import annotations

from paicha.ingest_http import batches, endpoint


def test_batches_keep_line_numbers_and_respect_the_record_limit() -> None:
    lines = [b"\xef\xbb\xbf{1}\n", b"\n", b"{3}\n", b"{4}\n", b"{5}\n"]
    cut = list(batches(lines, max_records=2, max_bytes=1_000))
    assert cut == [[(1, b"{1}"), (3, b"{3}")], [(4, b"{4}"), (5, b"{5}")]]


def test_batches_respect_the_byte_limit_but_always_carry_one_line() -> None:
    lines = [b"x" * 10, b"y" * 10, b"z" * 50]
    cut = list(batches(lines, max_records=100, max_bytes=25))
    assert [[n for n, _ in batch] for batch in cut] == [[1, 2], [3]]


def test_the_endpoint_takes_a_base_url_or_the_ingest_path() -> None:
    assert endpoint("http://h:8000/", "cases") == "http://h:8000/ingest/cases"
    assert endpoint("http://h:8000/ingest", "cases") == "http://h:8000/ingest/cases"
