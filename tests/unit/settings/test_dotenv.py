from pathlib import Path

import pytest

from kafka_s3_sink.settings.dotenv import DotEnvError, read_dotenv


def parse(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    path = tmp_path / ".env"
    path.write_text(text)
    return read_dotenv(path, environ or {})


def test_compose_syntax(tmp_path: Path) -> None:
    values = parse(
        tmp_path,
        "\n".join(
            [
                "# a comment",
                "",
                "A=plain",
                "export B = spaced ",
                "C='single $A # kept'",
                'D="double ${A}\\n"',
                "E=value # comment",
                "F=${A}-${MISSING:-fallback}-$HOME_DIR",
                "G=",
            ]
        ),
        {"HOME_DIR": "/home/x"},
    )
    assert values == {
        "A": "plain",
        "B": "spaced",
        "C": "single $A # kept",
        "D": "double plain\n",
        "E": "value",
        "F": "plain-fallback-/home/x",
        "G": "",
    }


def test_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    with pytest.raises(DotEnvError, match=r"\.env:2"):
        parse(tmp_path, "A=1\nthis is not a setting\n")
