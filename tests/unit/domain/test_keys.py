"""Object keys: build and parse round-trip; nothing that escapes or is not a UUID parses."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stereospot.domain import keys
from stereospot.domain.errors import InvalidKey
from stereospot.domain.formats import StereoFormat

uuids = st.uuids()
totals = st.integers(min_value=1, max_value=keys.MAX_SEGMENTS)


@given(uuids)
def test_source_final_done_round_trip(job_id: UUID) -> None:
    assert keys.parse_key(keys.source_key(job_id)) == keys.SourceKey(job_id)
    assert keys.parse_key(keys.final_key(job_id)) == keys.FinalKey(job_id)
    assert keys.parse_key(keys.reassembly_done_key(job_id)) == keys.ReassemblyDoneKey(job_id)


index_and_total = totals.flatmap(lambda t: st.tuples(st.integers(0, t - 1), st.just(t)))
templates = st.sampled_from(
    ["input/{}/source.mp4", "jobs/{}/final.mp4", "jobs/{}/segments/00001.mp4"]
)


@given(uuids, index_and_total, st.sampled_from(StereoFormat))
def test_segment_round_trip(job_id: UUID, index_total: tuple[int, int], fmt: StereoFormat) -> None:
    index, total = index_total
    key = keys.segment_key(job_id, index, total, fmt)
    assert keys.parse_key(key) == keys.SegmentKey(job_id, index, total, fmt)
    keys.validate_storage_key(key)


@given(uuids, st.integers(0, keys.MAX_SEGMENTS - 1))
def test_output_segment_round_trip(job_id: UUID, index: int) -> None:
    key = keys.output_segment_key(job_id, index)
    assert keys.parse_key(key) == keys.OutputSegmentKey(job_id, index)


@given(uuids)
def test_every_key_lives_under_a_job_prefix(job_id: UUID) -> None:
    prefixes = keys.job_prefixes(job_id)
    built = [
        keys.source_key(job_id),
        keys.segment_key(job_id, 0, 1, StereoFormat.DEPTH),
        keys.output_segment_key(job_id, 0),
        keys.final_key(job_id),
        keys.reassembly_done_key(job_id),
        keys.invocation_request_key(job_id, 0),
    ]
    assert all(any(k.startswith(p) for p in prefixes) for k in built)
    assert all(keys.validate_storage_prefix(p) == p for p in prefixes)


@given(st.text(max_size=60))
def test_arbitrary_text_never_parses_to_a_non_uuid_job(text: str) -> None:
    try:
        parsed = keys.parse_key(text)
    except InvalidKey:
        return
    assert ".." not in text
    assert str(parsed.job_id) in text  # only canonical UUIDs get through


@given(uuids, templates, st.integers(0, 40))
def test_dot_dot_never_parses(job_id: UUID, template: str, where: int) -> None:
    key = template.format(job_id)
    where = min(where, len(key))
    with pytest.raises(InvalidKey):
        keys.parse_key(key[:where] + ".." + key[where:])


@pytest.mark.parametrize(
    "key",
    [
        "input/not-a-uuid/source.mp4",
        "input/{J}/../source.mp4",
        "input/{JU}/source.mp4",  # upper case is not canonical
        "input/{J}/source.mp4/",
        "/input/{J}/source.mp4",
        "segments/{J}/00003_00003_half-sbs.mp4",  # index == total
        "segments/{J}/00000_00000_half-sbs.mp4",
        "segments/{J}/00000_00001_left-eye.mp4",
        "segments/{J}/0_1_half-sbs.mp4",
        "jobs/{J}/segments/1.mp4",
        "jobs/{J}/segments/99999.mp4",  # beyond MAX_SEGMENTS: the builder refuses it too
        "jobs/{J}/final.mp4\x00",
        "jobs/{J}\\final.mp4",
        "jobs/{J}/.reassembly-done.mp4",
        "",
    ],
)
def test_bad_keys_do_not_parse(key: str) -> None:
    job_id = uuid4()
    key = key.replace("{JU}", str(job_id).upper()).replace("{J}", str(job_id))
    with pytest.raises(InvalidKey):
        keys.parse_key(key)


def test_builders_refuse_out_of_range_indices() -> None:
    job_id = uuid4()
    for index, total in [(-1, 3), (3, 3), (0, 0), (0, keys.MAX_SEGMENTS + 1)]:
        with pytest.raises(InvalidKey):
            keys.segment_key(job_id, index, total, StereoFormat.HALF_SBS)
    with pytest.raises(InvalidKey):
        keys.output_segment_key(job_id, -1)


@pytest.mark.parametrize(
    "key", ["", "/abs", "a//b", "a/./b", "a/../b", "..", "a b", "a/", "é", "x" * 1025]
)
def test_storage_key_validation(key: str) -> None:
    with pytest.raises(InvalidKey):
        keys.validate_storage_key(key)


def test_storage_prefix_validation() -> None:
    assert keys.validate_storage_prefix("") == ""
    assert keys.validate_storage_prefix("jobs/") == "jobs/"
    for bad in ["jobs", "../", "/jobs/", "a//"]:
        with pytest.raises(InvalidKey):
            keys.validate_storage_prefix(bad)
