"""Where a connector's objects go: the settings every store is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class StoreSpec:
    bucket: str
    region: str = "us-east-1"
    endpoint_url: str | None = None  # None: AWS
    access_key_id: str = ""
    secret_access_key: str = ""
    local_root: Path | None = None  # set: a local directory store (<root>/<bucket>/<key>)
    create_bucket: bool = False
    # Server-side encryption, as Confluent's s3.ssea.name / s3.sse.kms.key.id /
    # s3.sse.customer.key: "" (the bucket's default), "AES256", "aws:kms".  A customer key
    # (base64 of 256 bits) with AES256 means SSE-C.
    sse_algorithm: str = ""
    sse_kms_key_id: str = ""
    sse_customer_key: str = field(default="", repr=False)
    # An HTTP(S) proxy for every S3 request (s3.proxy.url, .user, .password).
    proxy_url: str = ""
    proxy_user: str = ""
    proxy_password: str = field(default="", repr=False)
    # PEM CA bundle trusted for HTTPS besides the system's (the service's S3_CA_FILE).
    ca_file: str = ""
