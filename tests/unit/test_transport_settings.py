"""Transport security settings: .env -> librdkafka settings for every Kafka client, and the
S3 keys (s3.ssea.name, s3.sse.*, s3.proxy.*) -> what obstore and urllib are given."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.connect.config.validation import mask_secrets
from kafka_s3_sink.engine.kafka_io import client_config, consumer_config, use_security
from kafka_s3_sink.pipeline.spec import ConnectorConfigError
from kafka_s3_sink.settings.reference_connectors import reference_connector_configs, store_spec
from kafka_s3_sink.settings.variables import ConfigError, Settings, parse_settings
from kafka_s3_sink.store.s3_transport import S3Transport, obstore_options
from kafka_s3_sink.store.spec import StoreSpec
from kafka_s3_sink.transport import check_s3_transport, kafka_security

from .reference_data import reference_data_config

KEY = base64.b64encode(bytes(range(32))).decode()
BASE = {"BROKER_HOSTNAME": "kafka", "KAFKA_TOPIC": "t", "S3_BUCKET_NAME": "b",
        "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_KEY": "s", "S3_ENDPOINT_URL": "http://minio:9000"}


def settings(**values: str) -> Settings:
    return parse_settings({**BASE, **values})


@pytest.fixture(autouse=True)
def no_security_left_behind() -> Iterator[None]:
    yield
    use_security({})


def test_sasl_ssl_maps_onto_librdkafka_names(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    found = kafka_security(settings(
        KAFKA_SECURITY_PROTOCOL="sasl_ssl", KAFKA_SASL_MECHANISM="scram-sha-512",
        KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD="p", KAFKA_TLS_CA_FILE=str(ca),
    ))
    assert found == {"security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512",
                     "sasl.username": "u", "sasl.password": "p", "ssl.ca.location": str(ca)}


def test_plaintext_by_default() -> None:
    assert kafka_security(settings()) == {"security.protocol": "plaintext"}


@pytest.mark.parametrize(("values", "named"), [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN",
      "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SASL_MECHANISM": "PLAIN"}, "KAFKA_SECURITY_PROTOCOL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CERT_FILE": "/c.pem"}, "KAFKA_TLS_KEY_FILE"),
    ({"KAFKA_TLS_CA_FILE": "/ca.pem"}, "KAFKA_SECURITY_PROTOCOL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE": "/nowhere/ca.pem"},
     "KAFKA_TLS_CA_FILE"),
])
def test_settings_that_do_not_go_together_are_named(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        kafka_security(settings(**values))


def test_a_wrong_value_is_refused_without_echoing_a_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        settings(S3_SSE_CUSTOMER_KEY="c2hvcnQ=")
    assert "S3_SSE_CUSTOMER_KEY=***" in str(caught.value) and "not 32" in str(caught.value)
    with pytest.raises(ConfigError, match="GSSAPI"):
        settings(KAFKA_SASL_MECHANISM="GSSAPI")


def test_every_client_and_connector_consumer_inherits_the_security_settings() -> None:
    use_security({"security.protocol": "sasl_ssl", "sasl.password": "p"})
    assert client_config("k:9092")["security.protocol"] == "sasl_ssl"
    assert consumer_config("k:9092", "g")["sasl.password"] == "p"
    # consumer.override.* wins, as over Kafka Connect's worker-level consumer settings.
    overridden = consumer_config("k:9092", "g", {"security.protocol": "ssl"})
    assert overridden["security.protocol"] == "ssl" and overridden["sasl.password"] == "p"


@pytest.mark.parametrize(("values", "named"), [
    ({"S3_SSE_CUSTOMER_KEY": KEY}, "S3_SSE_ALGORITHM=AES256"),
    ({"S3_SSE_ALGORITHM": "AES256", "S3_SSE_KMS_KEY_ID": "k"}, "aws:kms"),
    ({"S3_PROXY_USER": "u"}, "S3_PROXY_URL"),
    ({"S3_CA_FILE": "/nowhere/ca.pem"}, "S3_CA_FILE"),
])
def test_s3_settings_that_do_not_go_together_are_named(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        check_s3_transport(settings(**values))


def test_the_proxy_password_belongs_in_its_own_setting() -> None:
    with pytest.raises(ConfigError, match="S3_PROXY_PASSWORD"):
        settings(S3_PROXY_URL="http://u:secret@proxy:3128")


def test_reference_connectors_carry_the_keys_but_not_the_secrets() -> None:
    env = settings(S3_SSE_ALGORITHM="AES256", S3_SSE_CUSTOMER_KEY=KEY,
                   S3_PROXY_URL="http://proxy:3128", S3_PROXY_USER="u", S3_PROXY_PASSWORD="pw")
    for name, config in reference_connector_configs(env).items():
        assert config["s3.ssea.name"] == "AES256" and config["s3.proxy.user"] == "u"
        assert KEY not in repr(config) and "pw" not in config.values()
        spec = parse_connector_config(name, config, store_spec(env)).store
        assert (spec.sse_customer_key, spec.proxy_password) == (KEY, "pw")


SERVICE = StoreSpec(bucket="b", endpoint_url="http://minio:9000", access_key_id="k",
                    secret_access_key="s", sse_algorithm="AES256", sse_customer_key=KEY,
                    proxy_url="http://proxy:3128", proxy_user="u", proxy_password="pw",
                    ca_file="/etc/ca.pem")


def store_of(**keys: Any) -> StoreSpec:
    return parse_connector_config("c", {**reference_data_config("t"), **keys}, SERVICE).store


def test_confluent_keys_reach_the_store_spec() -> None:
    spec = store_of(**{"s3.ssea.name": "aws:kms", "s3.sse.kms.key.id": "arn:k"})
    assert (spec.sse_algorithm, spec.sse_kms_key_id) == ("aws:kms", "arn:k")
    assert spec.sse_customer_key == ""
    assert spec.ca_file == "/etc/ca.pem"  # the service's CA, for every connector
    # As Confluent: a KMS key id without aws:kms, a customer key without AES256, do nothing.
    assert store_of(**{"s3.sse.kms.key.id": "arn:k"}).sse_kms_key_id == ""
    assert store_of(**{"s3.sse.customer.key": KEY}).sse_customer_key == ""


def test_the_service_secrets_stay_with_the_service_store_and_proxy() -> None:
    assert store_of(**{"s3.ssea.name": "AES256"}).sse_customer_key == KEY
    assert store_of().proxy_url == "http://proxy:3128"  # the .env store's network path
    same = store_of(**{"s3.proxy.url": "http://proxy:3128", "s3.proxy.user": "u"})
    other = store_of(**{"s3.proxy.url": "http://elsewhere:3128", "s3.proxy.user": "u"})
    assert (same.proxy_password, other.proxy_password) == ("pw", "")
    elsewhere = parse_connector_config("c", {
        **reference_data_config("t"), "s3.ssea.name": "AES256", "store.url": "http://other:9000",
        "aws.access.key.id": "a", "aws.secret.access.key": "b"}, SERVICE).store
    assert elsewhere.sse_customer_key == "" and elsewhere.proxy_url == ""


def test_proxy_credentials_in_the_url_or_apart() -> None:
    spec = store_of(**{"s3.proxy.url": "http://me:p%40ss@proxy:3128"})
    assert (spec.proxy_url, spec.proxy_user, spec.proxy_password) == (
        "http://proxy:3128", "me", "p@ss")
    assert store_of(**{"s3.proxy.url": "http://me:x@proxy:3128",
                       "s3.proxy.user": "you"}).proxy_user == "you"


@pytest.mark.parametrize(("key", "value"), [
    ("s3.ssea.name", "DES"), ("s3.sse.customer.key", "bm90IDMyIGJ5dGVz"),
    ("s3.proxy.url", "proxy:3128"), ("s3.proxy.password", "alone"),
])
def test_wrong_values_are_refused_by_key(key: str, value: str) -> None:
    config = {**reference_data_config("t"), key: value}
    with pytest.raises(ConnectorConfigError) as caught:
        parse_connector_config("c", config, SERVICE)
    assert caught.value.key == key
    if key == "s3.sse.customer.key":
        assert value not in str(caught.value)


def test_the_customer_key_and_proxy_credentials_are_masked_as_passwords() -> None:
    shown = mask_secrets({"s3.sse.customer.key": KEY, "s3.sse.key": KEY, "s3.ssea.name": "AES256",
                          "s3.proxy.url": "http://me:pw@proxy:3128"})
    assert shown == {"s3.sse.customer.key": "[hidden]", "s3.sse.key": "[hidden]",
                     "s3.ssea.name": "AES256", "s3.proxy.url": "http://me:[hidden]@proxy:3128"}


def test_obstore_gets_the_encryption_and_network_options(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n")
    config, client = obstore_options(S3Transport(
        sse_algorithm="AES256", sse_customer_key=KEY, proxy_url="https://proxy:3128",
        proxy_user="a b", proxy_password="p@ss:", ca_file=str(ca)))
    assert config == {"server_side_encryption": "sse-c", "sse_customer_key_base64": KEY}
    assert client["proxy_url"] == "https://a%20b:p%40ss%3A@proxy:3128"
    assert client["root_certificate"] == client["proxy_ca_certificate"] == ca.read_text()
    config, _ = obstore_options(S3Transport(sse_algorithm="aws:kms", sse_kms_key_id="arn:k"))
    assert config == {"server_side_encryption": "aws:kms", "sse_kms_key_id": "arn:k"}
    assert obstore_options(S3Transport(sse_algorithm="AES256"))[0] == {
        "server_side_encryption": "AES256"}  # SSE-S3
    assert obstore_options(S3Transport()) == ({}, {})
    assert "p@ss" not in repr(S3Transport(proxy_password="p@ss", sse_customer_key=KEY))
    assert KEY not in repr(SERVICE)


def test_the_dead_letter_producer_inherits_every_security_setting(tmp_path: Path) -> None:
    """The dead-letter queue's producer takes the connection settings of its task's
    consumer by prefix: every key kafka_security() makes must be among them."""
    from kafka_s3_sink.engine.dead_letter_queue import _CONNECTION_KEYS

    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
    found = kafka_security(settings(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_MECHANISM="PLAIN",
        KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD="p",
        KAFKA_TLS_CA_FILE=str(tmp_path / "ca.pem"), KAFKA_TLS_CERT_FILE=str(tmp_path / "cert.pem"),
        KAFKA_TLS_KEY_FILE=str(tmp_path / "key.pem"), KAFKA_TLS_KEY_PASSWORD="kp",
    ))
    assert len(found) == 8
    assert all(key.startswith(_CONNECTION_KEYS) for key in found)


def test_login_and_certificate_failures_stop_start_up_and_cuts_are_waited_for() -> None:
    from confluent_kafka import KafkaError

    from kafka_s3_sink.engine.kafka_io import _is_login_failure

    def error(code: int, text: str) -> KafkaError:
        return KafkaError(code, text)

    assert _is_login_failure(error(KafkaError._AUTHENTICATION, "SASL authentication error"))
    assert _is_login_failure(
        error(KafkaError._SSL, "SSL handshake failed: certificate verify failed"))
    assert _is_login_failure(error(
        KafkaError._TRANSPORT, "Receive failed: SSL routines::ssl/tls alert bad certificate"))
    assert not _is_login_failure(error(
        KafkaError._TRANSPORT, "Receive failed: SSL routines::unexpected eof while reading"))
    assert not _is_login_failure(error(KafkaError._TRANSPORT, "Connection refused"))
