"""The column parse of times answers only where the one-at-a-time parser accepts, and agrees."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from paicha.feeds import _FAST_UNTIL, _fast_micros
from paicha.matching.timeutil import to_micros
from paicha.time_column import LAYOUT, fixed_layout_micros


@st.composite
def laid_out(draw: st.DrawFn) -> str:
    """Strings in the layout's shape with any two digits in each place: impossible dates,
    hours, minutes, seconds and offsets included, sometimes one character changed."""
    text = "".join(draw(st.sampled_from("0123456789")) if c == "0" else c for c in LAYOUT).replace(
        "+", draw(st.sampled_from("+-"))
    )
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.characters(max_codepoint=0x3000)) + text[at + 1 :]
    if draw(st.integers(0, 4)) == 0:  # something after it: a NUL, a digit, a space, anything
        text += draw(st.sampled_from(["\x00", "0", " ", "Z"]) | st.text(min_size=1, max_size=2))
    return text


@st.composite
def real_times(draw: st.DrawFn) -> str:
    """Valid times, mostly in the layout, some in the other spellings RFC 3339 allows."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    minutes = draw(st.integers(-23 * 60 - 59, 23 * 60 + 59))
    text = moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()
    return draw(st.sampled_from([text, text.replace("T", " "), text.replace("+00:00", "Z")]))


spellings = st.lists(
    st.one_of(laid_out(), real_times(), st.text(max_size=27)), min_size=0, max_size=40
)


@settings(max_examples=1000, deadline=None)
@given(spellings)
@example(["2021-12-07T08:30:00+08:00", "2021-02-29T00:00:00+08:00"])
@example(["1970-01-01T07:59:59+08:00", "1970-01-01T08:00:00+08:00"])
@example(["9998-12-31T23:59:59-23:59", "9999-01-01T00:00:00+00:00"])
@example(["2021-12-07T08:30:00+24:00", "2021-12-07T08:30:00-08:60"])
@example(["2021-12-07T24:00:00+08:00"])
@example(["2021-12-07T08:30:00+08:00é", "２021-12-07T08:30:00+08:00"])
@example(["2021-12-07T08:30:00+08:00\x00", "2021-12-07T08:30:00+08:00 "])
@example(["2021-12-07T08:30:00+08:000"])
def test_answers_only_where_the_one_at_a_time_parser_accepts_and_agrees(
    texts: list[str],
) -> None:
    micros, known = fixed_layout_micros(texts, _FAST_UNTIL)
    assert len(micros) == len(known) == len(texts)
    for text, value, answered in zip(texts, micros.tolist(), known.tolist(), strict=True):
        if answered:
            assert value == _fast_micros(text) == to_micros(datetime.fromisoformat(text))


@given(st.lists(real_times().filter(lambda t: len(t) == len(LAYOUT) and "T" in t), max_size=40))
def test_times_in_the_layout_are_all_answered_at_once(texts: list[str]) -> None:
    micros, known = fixed_layout_micros(texts, _FAST_UNTIL)
    expected = [to_micros(datetime.fromisoformat(t)) for t in texts]
    in_range = [0 <= m < _FAST_UNTIL for m in expected]
    assert known.tolist() == in_range
    assert [m for m, ok in zip(micros.tolist(), in_range, strict=True) if ok] == [
        m for m, ok in zip(expected, in_range, strict=True) if ok
    ]


def test_one_impossible_date_leaves_the_column_to_the_one_at_a_time_parser() -> None:
    _, known = fixed_layout_micros(
        ["2021-12-07T08:30:00+08:00", "2021-02-30T08:30:00+08:00"], _FAST_UNTIL
    )
    assert not known.any()
