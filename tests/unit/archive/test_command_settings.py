"""restore and audit take the .env's Kafka TLS and SASL settings as `run` does."""

from __future__ import annotations

import pytest

from kafka_s3_sink import cli
from kafka_s3_sink.engine import kafka_io


@pytest.mark.parametrize("command", ["restore", "audit"])
def test_an_incomplete_sasl_setting_is_named_before_any_kafka_client(
    tmp_path, capsys, command
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "BROKER_HOSTNAME=127.0.0.1:1\nKAFKA_TOPIC=t\nS3_BUCKET_NAME=b\n"
        f"STORE_URL=file://{tmp_path / 'data'}\nKAFKA_SECURITY_PROTOCOL=SASL_SSL\n"
    )
    extra = ["--dry-run"] if command == "restore" else []
    assert cli.main([command, "--env-file", str(env), *extra]) == 2
    assert "KAFKA_SASL_MECHANISM" in capsys.readouterr().err


def test_complete_settings_reach_every_client_restore_makes(tmp_path, monkeypatch) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "BROKER_HOSTNAME=127.0.0.1:1\nKAFKA_TOPIC=t\nS3_BUCKET_NAME=b\n"
        f"STORE_URL=file://{tmp_path / 'data'}\nKAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\n"
        "KAFKA_SASL_MECHANISM=SCRAM-SHA-256\nKAFKA_SASL_USERNAME=u\nKAFKA_SASL_PASSWORD=p\n"
    )
    seen: dict[str, str] = {}

    def stop_after_settings(args, prepare=None) -> int:
        settings = cli.load_settings(args.env_file)
        prepare(settings)
        seen.update(kafka_io.client_config("127.0.0.1:1"))
        return 0

    monkeypatch.setattr(cli.archive_command, "run_restore", stop_after_settings)
    try:
        assert cli.main(["restore", "--env-file", str(env)]) == 0
    finally:
        kafka_io.use_security({})
    assert seen["security.protocol"] == "sasl_plaintext"
    assert seen["sasl.mechanism"] == "SCRAM-SHA-256"
