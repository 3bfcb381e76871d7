"""The startup line of `stereospot serve|web` says where the data lives on each platform
(each platform container's data_location)."""

from __future__ import annotations

from pathlib import Path

from stereospot.config import AwsSettings, Platform, Settings
from stereospot.container import build_container


def where_data_lives(settings: Settings) -> str:
    return str(build_container(settings).platform.data_location())


def test_on_aws_it_names_the_stack_not_a_data_directory(tmp_path: Path) -> None:
    aws = AwsSettings(
        region="eu-west-1", input_bucket="sp-in", output_bucket="sp-out", jobs_table="sp-jobs"
    )
    settings = Settings(platform=Platform.AWS, data_dir=tmp_path / "unused", aws=aws)

    line = where_data_lives(settings)

    assert line == "S3 sp-in, sp-out; DynamoDB sp-jobs (eu-west-1)"
    assert "unused" not in line


def test_locally_it_is_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(platform=Platform.LOCAL, data_dir=tmp_path / "data")
    assert where_data_lives(settings) == str((tmp_path / "data").resolve())
