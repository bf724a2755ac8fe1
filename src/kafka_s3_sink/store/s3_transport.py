"""How requests reach S3: server-side encryption headers, an HTTP(S) proxy, a private CA.

The same settings drive both clients of an S3 store: obstore (objects) and the small
signed bucket requests of s3_bucket.py (urllib), so that a check at start-up goes the way
the uploads will go (through the same proxy, trusting the same CA).
"""

from __future__ import annotations

import ssl
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from .base import StoreError

# What a failed certificate check looks like in obstore's (rustls) and Python's errors.
_CERTIFICATE_FAILURES = (
    "certificate verify failed",
    "invalid peer certificate",
    "UnknownIssuer",
    "certificate is not valid",
    "NotValidForName",
    "self-signed certificate",
    "self signed certificate",
)


@dataclass(frozen=True)
class S3Transport:
    sse_algorithm: str = ""  # "", AES256, aws:kms, aws:kms:dsse
    sse_kms_key_id: str = ""
    sse_customer_key: str = field(default="", repr=False)  # base64; with AES256: SSE-C
    proxy_url: str = ""
    proxy_user: str = ""
    proxy_password: str = field(default="", repr=False)
    ca_file: str = ""

    @property
    def sse_c(self) -> bool:
        # Confluent's rule: a customer key counts only together with AES256.
        return self.sse_algorithm == "AES256" and bool(self.sse_customer_key)

    def proxy_with_credentials(self) -> str:
        """The proxy URL with its user and password in it: both HTTP clients take basic
        proxy credentials from there (never logged: see ``describe_proxy``)."""
        if not self.proxy_url or not self.proxy_user:
            return self.proxy_url
        parts = urlsplit(self.proxy_url)
        user = quote(self.proxy_user, safe="")
        password = quote(self.proxy_password, safe="")
        host = parts.netloc.rsplit("@", 1)[-1]
        return parts._replace(netloc=f"{user}:{password}@{host}").geturl()

    def describe_proxy(self) -> str:
        parts = urlsplit(self.proxy_url)
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()

    def read_ca(self) -> str:
        try:
            with open(self.ca_file, encoding="ascii") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            raise StoreError(
                f"S3_CA_FILE {self.ca_file} cannot be read: {error}", transient=False
            ) from None
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise StoreError(
                f"S3_CA_FILE {self.ca_file} holds no PEM certificate", transient=False
            )
        return text


def obstore_options(transport: S3Transport) -> tuple[dict[str, object], dict[str, object]]:
    """(S3Store config, client options) for ``transport``."""
    config: dict[str, object] = {}
    client: dict[str, object] = {}
    if transport.sse_c:
        config["server_side_encryption"] = "sse-c"
        config["sse_customer_key_base64"] = transport.sse_customer_key
    elif transport.sse_algorithm:
        config["server_side_encryption"] = transport.sse_algorithm
        if transport.sse_kms_key_id and transport.sse_algorithm.startswith("aws:kms"):
            config["sse_kms_key_id"] = transport.sse_kms_key_id
    if transport.proxy_url:
        client["proxy_url"] = transport.proxy_with_credentials()
    if transport.ca_file:
        ca = transport.read_ca()
        client["root_certificate"] = ca
        if transport.proxy_url.startswith("https://"):
            client["proxy_ca_certificate"] = ca
    return config, client


def bucket_opener(transport: S3Transport) -> urllib.request.OpenerDirector:
    """A urllib opener going through the proxy and trusting the CA of ``transport``."""
    handlers: list[urllib.request.BaseHandler] = []
    context = ssl.create_default_context()
    if transport.ca_file:
        try:
            context.load_verify_locations(cafile=transport.ca_file)
        except (OSError, ssl.SSLError) as error:
            raise StoreError(
                f"S3_CA_FILE {transport.ca_file} cannot be used: {error}", transient=False
            ) from None
    handlers.append(urllib.request.HTTPSHandler(context=context))
    proxy = transport.proxy_with_credentials()
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    # Without one, urllib (like obstore) takes HTTPS_PROXY / NO_PROXY from the environment.
    return urllib.request.build_opener(*handlers)


def is_certificate_failure(error: BaseException) -> bool:
    text = f"{error} {getattr(error, 'reason', '')} {error.__cause__ or ''}"
    return isinstance(getattr(error, "reason", None), ssl.SSLCertVerificationError) or any(
        marker in text for marker in _CERTIFICATE_FAILURES
    )


def certificate_error(where: str, error: BaseException, transport: S3Transport) -> StoreError:
    """The one line for a TLS certificate that could not be verified: it names the setting."""
    detail = str(getattr(error, "reason", error)).splitlines()[0]
    fix = (
        f"S3_CA_FILE={transport.ca_file} does not hold the CA that signed it"
        if transport.ca_file
        else "set S3_CA_FILE to the PEM file of the CA that signed it (a private CA)"
    )
    return StoreError(
        f"the TLS certificate of {where} could not be verified ({detail}): {fix}",
        transient=False,
    )


def proxy_refused(transport: S3Transport) -> StoreError:
    """The one line for a proxy that answers 407: it names the settings to fix."""
    return StoreError(
        f"the proxy {transport.describe_proxy() or '(from the environment)'} refused the "
        "request (HTTP 407 Proxy Authentication Required): check S3_PROXY_USER and "
        "S3_PROXY_PASSWORD (s3.proxy.user, s3.proxy.password)",
        transient=False,
    )
