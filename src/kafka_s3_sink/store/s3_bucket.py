"""Bucket-level S3 calls (head, create) signed with AWS Signature V4.

The object client (obstore) has no bucket operations, and pulling in boto3 for two start-up
requests would double the service's memory; these two requests are small enough to sign here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class S3Endpoint:
    url: str  # scheme://host[:port], no trailing slash
    region: str
    access_key_id: str
    secret_access_key: str

    @classmethod
    def for_aws(cls, region: str, access_key_id: str, secret_access_key: str) -> S3Endpoint:
        return cls(f"https://s3.{region}.amazonaws.com", region, access_key_id, secret_access_key)


@dataclass(frozen=True)
class BucketResponse:
    status: int
    body: str


def bucket_request(
    endpoint: S3Endpoint,
    method: str,
    bucket: str,
    *,
    subresource: str = "",
    body: bytes = b"",
    timeout: float = 10,
    opener: urllib.request.OpenerDirector | None = None,
) -> BucketResponse:
    """Send one path-style bucket request (``subresource`` e.g. "location").

    Network failures raise OSError; HTTP errors come back as a response.  ``opener``: the
    proxy and CA to go through (s3_transport.bucket_opener).
    """
    parts = urlsplit(endpoint.url)
    path = "/" + quote(bucket, safe="")
    query = f"{subresource}=" if subresource else ""
    payload_hash = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    now = dt.datetime.now(dt.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "host": parts.netloc,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": amz_date,
    }
    headers["authorization"] = _authorization(endpoint, method, path, query, headers, amz_date)
    url = f"{parts.scheme}://{parts.netloc}{path}" + (f"?{subresource}" if subresource else "")
    request = urllib.request.Request(url, data=body or None, method=method)
    for name, value in headers.items():
        if name != "host":
            request.add_header(name, value)
    try:
        send = opener.open if opener is not None else urllib.request.urlopen
        with send(request, timeout=timeout) as response:
            return BucketResponse(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return BucketResponse(error.code, error.read().decode("utf-8", "replace"))


def create_bucket_body(region: str) -> bytes:
    if region == "us-east-1":
        return b""  # us-east-1 rejects an explicit location constraint naming itself
    return (
        '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
    ).encode()


def _authorization(
    endpoint: S3Endpoint,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    amz_date: str,
) -> str:
    day = amz_date[:8]
    scope = f"{day}/{endpoint.region}/s3/aws4_request"
    signed = sorted(headers)
    canonical = "\n".join(
        [
            method,
            path,
            query,
            "".join(f"{name}:{headers[name].strip()}\n" for name in signed),
            ";".join(signed),
            headers["x-amz-content-sha256"],
        ]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + endpoint.secret_access_key).encode()
    for part in (day, endpoint.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={endpoint.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )


def error_code(response: BucketResponse) -> str:
    """The ``<Code>`` of an S3 XML error body, or "" when there is none (HEAD, proxies)."""
    start = response.body.find("<Code>")
    end = response.body.find("</Code>", start)
    return response.body[start + 6 : end] if start >= 0 and end > start else ""
