"""calltree.build: trees from callbacks, REST rows and the calls view."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from voiceinsights import CallTreeCycleError
from voiceinsights.analysis import calltree

T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def ev(
    sid: str, seq: int, status: str, secs: float, parent: str | None = None, **extra: object
) -> dict[str, object]:
    return {
        "call_sid": sid,
        "parent_call_sid": parent,
        "sequence_number": seq,
        "timestamp": T0 + pd.Timedelta(seconds=secs),
        "call_status": status,
        "direction": "outbound-dial" if parent else "inbound",
        **extra,
    }


def test_events_out_of_order_children_first() -> None:
    rows = [
        ev("CA3", 0, "completed", 50, parent="CA2", call_duration_s=10.0),
        ev("CA2", 2, "completed", 40, parent="CA1", call_duration_s=37.0),
        ev("CA2", 0, "ringing", 2, parent="CA1", to_address="client:bob"),
        ev("CA2", 1, "in-progress", 3, parent="CA1"),
        ev("CA1", 1, "completed", 45),
        ev("CA1", 0, "ringing", 0),
        ev("CA4", 0, "ringing", 1, parent="CA1"),
        ev("CA4", 1, "no-answer", 31, parent="CA1"),
    ]
    tree = calltree.build(pd.DataFrame(rows))
    legs = tree.legs.set_index("call_sid")
    assert legs.loc["CA1", "depth"] == 0
    assert legs.loc["CA3", "path"] == "CA1/CA2/CA3"
    assert legs.loc["CA3", "root_call_sid"] == "CA1"
    assert legs.loc["CA2", "status"] == "completed"
    assert legs.loc["CA2", "start_time"] == T0 + pd.Timedelta(seconds=2)
    assert legs.loc["CA2", "end_time"] == T0 + pd.Timedelta(seconds=40)
    assert legs.loc["CA2", "duration_s"] == 37.0
    assert legs.loc["CA4", "status"] == "no-answer"
    assert legs.loc["CA4", "duration_s"] == 30.0  # span when CallDuration is absent
    assert legs.loc["CA2", "to_address"] == "client:bob"
    assert sorted(tree.children("CA1")) == ["CA2", "CA4"]
    assert tree.roots == ["CA1"]
    assert not legs["orphan"].any()
    text = tree.to_text().splitlines()
    assert text[0].startswith("CA1")
    assert text[1].strip().startswith("└─ CA2")
    assert text[2].startswith("        └─ CA3")


def test_terminal_status_outranks_later_sequence() -> None:
    # A late 'ringing' delivery with a higher sequence number does not undo completion.
    rows = [ev("CA1", 3, "ringing", 1), ev("CA1", 2, "completed", 60)]
    legs = calltree.build(pd.DataFrame(rows)).legs
    assert legs["status"].tolist() == ["completed"]


def test_orphans_flagged() -> None:
    rows = pd.DataFrame(
        {
            "call_sid": ["CA9", "CA10"],
            "parent_call_sid": ["CAX", "CA9"],
            "status": ["completed", "completed"],
        }
    )
    tree = calltree.build(rows)
    legs = tree.legs.set_index("call_sid")
    assert bool(legs.loc["CA9", "orphan"])
    assert legs.loc["CA9", "depth"] == 0
    assert legs.loc["CA10", "root_call_sid"] == "CA9"
    assert not bool(legs.loc["CA10", "orphan"])
    assert "orphan: parent CAX" in repr(tree)


@pytest.mark.parametrize(
    ("sids", "parents", "cycle"),
    [
        (["A", "B", "C"], ["C", "A", "B"], ["A", "C", "B", "A"]),
        (["S"], ["S"], ["S", "S"]),
        (["R", "X", "Y", "Z"], [None, "Y", "X", "X"], ["X", "Y", "X"]),
    ],
)
def test_cycles_raise_naming_sids(
    sids: list[str], parents: list[str | None], cycle: list[str]
) -> None:
    with pytest.raises(CallTreeCycleError) as info:
        calltree.build(pd.DataFrame({"call_sid": sids, "parent_call_sid": parents}))
    assert info.value.sids == cycle
    for sid in set(cycle):
        assert sid in str(info.value)


def test_rest_rows_arrow_and_relation_inputs() -> None:
    rest = pd.DataFrame(
        {
            "call_sid": ["CA2", "CA1"],
            "parent_call_sid": ["CA1", None],
            "status": ["completed", "completed"],
            "direction": ["outbound-dial", "inbound"],
            "start_time": [T0 + pd.Timedelta(seconds=5), T0],
            "end_time": [T0 + pd.Timedelta(seconds=65), T0 + pd.Timedelta(seconds=70)],
            "duration_s": [60.0, 70.0],
        }
    )
    from_arrow = calltree.build(pa.Table.from_pandas(rest)).legs
    con = duckdb.connect()
    con.register("rest", rest)
    from_rel = calltree.build(con.table("rest")).legs
    for legs in (from_arrow, from_rel):
        assert legs["path"].tolist() == ["CA1", "CA1/CA2"]
        assert legs["duration_s"].tolist() == [70.0, 60.0]


def test_callbacks_then_rest_rows_merge() -> None:
    events = pd.DataFrame([ev("CA1", 0, "ringing", 0), ev("CA2", 0, "ringing", 1, "CA1")])
    rest = pd.DataFrame(
        {
            "call_sid": ["CA1"],
            "status": ["completed"],
            "duration_s": [42.0],
            "parent_call_sid": [None],
        }
    )
    legs = calltree.build(events, rest).legs.set_index("call_sid")
    assert legs.loc["CA1", "status"] == "completed"  # REST wins
    assert legs.loc["CA1", "duration_s"] == 42.0
    assert legs.loc["CA2", "status"] == "ringing"  # only the callbacks know CA2
    assert legs.loc["CA2", "root_call_sid"] == "CA1"


def test_conference_grouping_and_html() -> None:
    rows = pd.DataFrame(
        {
            "call_sid": ["CA1", "CA2", "CA3", "CA4"],
            "parent_call_sid": [None, None, "CA2", None],
            "status": ["completed"] * 4,
        }
    )
    conf = pd.DataFrame(
        {
            "conference_sid": ["CF1", "CF1", "CF1"],
            "friendly_name": ["room <1>", "room <1>", "room <1>"],
            "event": ["conference-start", "participant-join", "participant-join"],
            "call_sid": [None, "CA1", "CA3"],
            "timestamp": [T0, T0, T0],
        }
    )
    tree = calltree.build(rows, conference_events=conf)
    legs = tree.legs.set_index("call_sid")
    assert legs.loc["CA1", "conference_sid"] == "CF1"
    assert legs.loc["CA3", "conference_sid"] == "CF1"
    assert pd.isna(legs.loc["CA4", "conference_sid"])
    lines = tree.to_text().splitlines()
    assert lines[0] == "conference CF1 (room <1>)"
    # Both trees with a participant sit under the conference; CA4 after it, unindented.
    assert [ln.split()[0 if not ln.strip().startswith("└─") else 1] for ln in lines[1:]] == [
        "CA1",
        "CA2",
        "CA3",
        "CA4",
    ]
    assert lines[-1].startswith("CA4")
    page = tree._repr_html_()
    assert "room &lt;1&gt;" in page
    assert "<1>" not in page


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        calltree.build()
    with pytest.raises(ValueError, match="call_sid"):
        calltree.build(pd.DataFrame({"x": [1]}))
