"""The fixtures generator: determinism, the committed dataset, and the population's
invariants (call trees, callbacks, every file parsing into canonical rows)."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES
from tests.fixtures_gen.conftest import CALLS, SEED, read_callbacks, read_envelopes
from voiceinsights import ConfigError
from voiceinsights._time import parse_timestamp
from voiceinsights.cli import cli
from voiceinsights.fixtures import FILES, FORMAT, GeneratedFixtures, generate
from voiceinsights.models import detect_kind, iter_page_items, parse_record


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_committed_dataset_is_a_fresh_generation(generated: GeneratedFixtures) -> None:
    committed = _files(FIXTURES)
    fresh = _files(generated.out)
    assert sorted(committed) == sorted(fresh)
    for name, data in fresh.items():
        assert committed[name] == data, f"data/fixtures/{name} differs from a fresh generation"
    readme = (FIXTURES / "README.md").read_text()
    assert f"voiceinsights fixtures generate --calls {CALLS} --seed {SEED}" in readme
    assert sum(len(d) for d in committed.values()) < 5 * 2**20  # a few MB at most


def test_seed_changes_everything(tmp_path: Path) -> None:
    a = generate(8, 1, tmp_path / "a")
    b = generate(8, 2, tmp_path / "b")
    assert _files(a.out)["callbacks.jsonl"] != _files(b.out)["callbacks.jsonl"]
    again = generate(8, 1, tmp_path / "c")
    assert _files(a.out) == _files(again.out)
    assert {p.name for p in a.files} <= set(_files(a.out))
    assert set(FILES) - {"rest_calls_page0.json"} <= set(_files(a.out))


def test_cli_mirrors_api(tmp_path: Path, generated: GeneratedFixtures) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "fixtures",
            "generate",
            "--calls",
            str(CALLS),
            "--seed",
            str(SEED),
            "--out",
            str(tmp_path / "cli"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "60 calls" in result.output
    assert _files(tmp_path / "cli") == _files(generated.out)
    bad = CliRunner().invoke(
        cli, ["fixtures", "generate", "--calls", "0", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2
    assert "--calls" in bad.output


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        generate(0, 1, tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        generate(3, 1, tmp_path / "file")


def test_every_record_parses(generated: GeneratedFixtures) -> None:
    out = generated.out
    tables: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    records: list[Any] = list(read_callbacks(out)) + read_envelopes(out)
    for path in sorted(out.glob("*.json")):
        if path.name != "ground_truth.json":
            records.extend(iter_page_items(json.loads(path.read_text())))
    for record in records:
        kinds[detect_kind(record)] += 1
        for table, _ in parse_record(record):
            tables[table] += 1
    c = generated.counts
    assert (
        kinds["call-status"] + kinds["conference-status"] + kinds["recording-status"]
        == c["callback_deliveries"]
    )
    assert kinds["sdk-sample"] == c["samples"]
    assert kinds["sdk-warning"] + kinds["sdk-warning-cleared"] == c["warnings"]
    assert kinds["preflight-report"] == c["preflight_reports"]
    assert kinds["cloudevent"] == c["cloudevents"]
    assert kinds["rest-call"] == c["legs"]
    assert set(kinds) == {
        "call-status",
        "conference-status",
        "recording-status",
        "sdk-sample",
        "sdk-warning",
        "sdk-warning-cleared",
        "sdk-feedback",
        "preflight-report",
        "cloudevent",
        "insights-summary",
        "insights-event",
        "insights-metric",
        "rest-call",
    }
    # Conference summaries arrive as CloudEvents only.
    assert tables["insights_conferences"] > 0
    assert tables["insights_participants"] >= 2 * tables["insights_conferences"]
    # Every leg has an Insights summary, from the page or from a CloudEvent.
    assert tables["insights_summaries"] == c["legs"]


def test_scenarios_and_call_trees(truth: dict[str, Any]) -> None:
    assert truth["format"] == FORMAT
    legs = {leg["sid"]: leg for call in truth["call_list"] for leg in call["legs"]}
    scenarios = Counter(call["scenario"] for call in truth["call_list"])
    assert set(scenarios) == {
        "inbound-client",
        "outbound-client",
        "inbound-sip",
        "conference",
        "outbound-api",
    }
    for call in truth["call_list"]:
        root = call["legs"][0]
        assert root["sid"] == call["root_call_sid"]
        assert root["parent_call_sid"] is None
        for leg in call["legs"]:
            parent = leg["parent_call_sid"]
            assert parent is None or parent in legs  # every child's parent exists
            if parent:
                assert leg["direction"] == "outbound-dial"
        if call["scenario"] == "inbound-client":
            child = call["legs"][1]
            assert child["to"].startswith("client:")
            assert child["parent_call_sid"] == root["sid"]
            assert not root["sdk"]
            assert child["sdk"] == (child["status"] == "completed")
        if call["scenario"] == "outbound-client":
            assert root["sdk"]
            assert root["to"] == ""
            assert root["direction"] == "inbound"
            assert root["from"].startswith("client:")
    sip = [leg for leg in legs.values() if leg["kind"] == "sip"]
    assert sip
    assert all(leg["sip_call_id"] for leg in sip)
    codes = {leg["sip_response_code"] for leg in sip}
    assert 200 in codes
    assert codes - {200}


def test_callbacks_duplicated_out_of_order_and_complete(
    generated: GeneratedFixtures, truth: dict[str, Any]
) -> None:
    by_leg: dict[str, list[dict[str, str]]] = defaultdict(list)
    confs: dict[str, list[int]] = defaultdict(list)
    for form in read_callbacks(generated.out):
        if "StatusCallbackEvent" in form:
            confs[form["ConferenceSid"]].append(int(form["SequenceNumber"]))
        elif "CallStatus" in form:
            by_leg[form["CallSid"]].append(form)
    legs = {leg["sid"]: leg for call in truth["call_list"] for leg in call["legs"]}
    assert set(by_leg) == set(legs)
    duplicates = late = 0
    for sid, forms in by_leg.items():
        seqs = [int(f["SequenceNumber"]) for f in forms]
        assert sorted(set(seqs)) == list(range(legs[sid]["callbacks"]))  # complete, from 0
        duplicates += len(seqs) - len(set(seqs))
        late += any(b < a for a, b in itertools.pairwise(seqs))
        final = max(forms, key=lambda f: int(f["SequenceNumber"]))
        assert final["CallStatus"] == legs[sid]["status"]  # highest sequence = final state
        for form in forms:
            assert form.get("ParentCallSid") == legs[sid]["parent_call_sid"]
        times = {int(f["SequenceNumber"]): parse_timestamp(f["Timestamp"]) for f in forms}
        ordered = [times[k] for k in sorted(times)]
        assert ordered == sorted(ordered)  # event times follow sequence numbers
        if final["CallStatus"] == "completed":
            assert int(final["CallDuration"]) == legs[sid]["duration_s"]
    assert duplicates > 10
    assert late > 3
    for seqs in confs.values():
        assert sorted(set(seqs)) == list(range(len(set(seqs))))
    assert generated.counts["duplicate_deliveries"] > 0
    assert generated.counts["late_deliveries"] > 0


def test_recordings_and_conferences(generated: GeneratedFixtures, truth: dict[str, Any]) -> None:
    rec_status: dict[str, set[str]] = defaultdict(set)
    conf_events: dict[str, list[str]] = defaultdict(list)
    for form in read_callbacks(generated.out):
        if "RecordingStatus" in form:
            rec_status[form["RecordingSid"]].add(form["RecordingStatus"])
        if "StatusCallbackEvent" in form:
            conf_events[form["ConferenceSid"]].append(form["StatusCallbackEvent"])
    expected = {r["sid"] for c in truth["call_list"] for r in c["recordings"]}
    assert expected
    assert set(rec_status) == expected
    assert all(s == {"in-progress", "completed"} for s in rec_status.values())
    conferences = {c["conference_sid"] for c in truth["call_list"] if c["conference_sid"]}
    assert conferences
    assert set(conf_events) == conferences
    for events in conf_events.values():
        assert {
            "conference-start",
            "conference-end",
            "participant-join",
            "participant-leave",
        } <= set(events)
