"""The README's settings table is the code's: no variable undocumented or stale."""

from pathlib import Path

from kafka_s3_sink.config import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_code() -> None:
    assert markdown_table() in README.read_text()


def test_readme_connector_keys_table_matches_the_code() -> None:
    from kafka_s3_sink.connect.config_keys import markdown_config_table as keys_table

    assert keys_table().strip() in README.read_text()
