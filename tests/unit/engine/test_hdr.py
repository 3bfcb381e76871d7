"""HDR10 static metadata handed to libx265: plausible values pass, damaged ones are
left out instead of making the encoder refuse to open."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from inference_server.hdr import HdrMetadata, MasteringDisplay

P3_D65 = MasteringDisplay(
    red=(Fraction(68, 100), Fraction(32, 100)),
    green=(Fraction(265, 1000), Fraction(69, 100)),
    blue=(Fraction(15, 100), Fraction(6, 100)),
    white=(Fraction(3127, 10000), Fraction(329, 1000)),
    min_luminance=Fraction(5, 1000),
    max_luminance=Fraction(1000),
)


def test_plausible_metadata_becomes_both_x265_parameters() -> None:
    params = HdrMetadata(P3_D65, max_cll=1000, max_fall=400).x265_params()
    assert params == [
        "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)",
        "max-cll=1000,400",
    ]


def test_a_primary_outside_the_unit_square_drops_the_mastering_display_only() -> None:
    broken = replace(P3_D65, red=(Fraction(-1), Fraction(32, 100)))
    assert HdrMetadata(broken, max_cll=1000, max_fall=400).x265_params() == ["max-cll=1000,400"]


def test_an_inverted_or_huge_luminance_range_is_left_out() -> None:
    inverted = replace(P3_D65, min_luminance=Fraction(2000))
    huge = replace(P3_D65, max_luminance=Fraction(10**9))
    assert HdrMetadata(inverted).x265_params() == []
    assert HdrMetadata(huge).x265_params() == []


def test_light_levels_beyond_16_bits_or_zero_are_left_out() -> None:
    assert HdrMetadata(None, max_cll=70000, max_fall=400).x265_params() == []
    assert HdrMetadata(None, max_cll=0, max_fall=0).x265_params() == []
    assert HdrMetadata(None, max_cll=1000, max_fall=None).x265_params() == ["max-cll=1000,0"]
