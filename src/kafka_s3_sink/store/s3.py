"""Amazon S3 and S3-compatible stores (MinIO, ...) through obstore.

obstore's Rust client runs every request off the Python thread, so hundreds of uploads can
be in flight from one event loop without a Python round trip per byte.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import obstore
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from .base import ObjectInfo, StoreError
from .paging import ListPage, s3_page
from .s3_bucket import S3Endpoint, bucket_request, create_bucket_body, error_code
from .s3_transport import (
    S3Transport,
    bucket_opener,
    certificate_error,
    is_certificate_failure,
    obstore_options,
    proxy_refused,
)

log = logging.getLogger(__name__)

_CREDENTIAL_ERRORS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"}
# Below this size a single PUT is cheaper than a multipart upload's three requests.
_MULTIPART_THRESHOLD = 64 * 1024 * 1024


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str
    endpoint_url: str | None  # None: AWS itself
    create_bucket: bool  # create a missing bucket at start-up (MinIO profile behaviour)
    request_timeout_s: float = 30.0
    transport: S3Transport = S3Transport()  # encryption headers, proxy, CA


class S3ObjectStore:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        where = settings.endpoint_url or f"AWS S3 ({settings.region})"
        self.description = f"s3://{settings.bucket} at {where}"
        config: dict[str, object] = {
            "region": settings.region,
            "access_key_id": settings.access_key_id,
            "secret_access_key": settings.secret_access_key,
        }
        client: dict[str, object] = {"timeout": timedelta(seconds=settings.request_timeout_s)}
        if settings.endpoint_url:
            config["endpoint"] = settings.endpoint_url
            config["virtual_hosted_style_request"] = False
            client["allow_http"] = settings.endpoint_url.startswith("http://")
        sse, network = obstore_options(settings.transport)  # StoreError: a bad S3_CA_FILE
        config.update(sse)
        client.update(network)
        self._opener = bucket_opener(settings.transport)
        self._store = S3Store(
            settings.bucket,
            config=config,  # type: ignore[arg-type]
            client_options=client,  # type: ignore[arg-type]
            retry_config={"max_retries": 5, "retry_timeout": timedelta(seconds=60)},
        )

    async def check(self) -> None:
        await asyncio.to_thread(self._check_bucket)

    def _endpoint(self) -> S3Endpoint:
        s = self.settings
        if s.endpoint_url:
            return S3Endpoint(
                s.endpoint_url.rstrip("/"), s.region, s.access_key_id, s.secret_access_key
            )
        return S3Endpoint.for_aws(s.region, s.access_key_id, s.secret_access_key)

    def _check_bucket(self) -> None:
        s = self.settings
        endpoint = self._endpoint()
        try:
            response = bucket_request(
                endpoint, "GET", s.bucket, subresource="location", opener=self._opener
            )
        except OSError as error:
            if is_certificate_failure(error):
                raise certificate_error(endpoint.url, error, s.transport) from None
            if " 407 " in f" {error} ":  # urllib's failed CONNECT tunnel
                raise proxy_refused(s.transport) from None
            raise StoreError(
                f"cannot reach the object store at {endpoint.url} ({error}): "
                "check S3_ENDPOINT_URL and that the server is running",
                transient=True,
            ) from error
        code = error_code(response)
        if response.status == 200:
            return
        if response.status == 407:
            raise proxy_refused(s.transport)
        if response.status == 404 and s.create_bucket:
            created = bucket_request(
                endpoint, "PUT", s.bucket, body=create_bucket_body(s.region), opener=self._opener
            )
            if created.status in (200, 409):  # 409: created meanwhile by someone else
                log.info("created bucket %r at %s (it did not exist)", s.bucket, endpoint.url)
                return
            raise StoreError(
                f"could not create bucket {s.bucket!r} at {endpoint.url}: HTTP "
                f"{created.status} {error_code(created)}; create it by hand or fix the rights "
                "of AWS_ACCESS_KEY_ID",
                transient=False,
            )
        if response.status == 404:
            raise StoreError(
                f"bucket {s.bucket!r} does not exist at {endpoint.url}: create it first "
                "or correct S3_BUCKET_NAME",
                transient=False,
            )
        if response.status == 403 and code in _CREDENTIAL_ERRORS:
            raise StoreError(
                f"the object store rejected the credentials ({code}): check AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_KEY",
                transient=False,
            )
        if response.status == 403:
            # Credentials are valid but may lack s3:GetBucketLocation while allowing
            # s3:PutObject, which is all we need: let the first upload decide.
            return
        if response.status in (301, 400) and code in (
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
        ):
            raise StoreError(
                f"bucket {s.bucket!r} is in another region than {s.region!r}: set S3_REGION",
                transient=False,
            )
        raise StoreError(
            f"unexpected answer from {endpoint.url} for bucket {s.bucket!r}: HTTP "
            f"{response.status} {code}",
            transient=response.status >= 500,
        )

    async def put(self, key: str, body: bytes | memoryview) -> None:
        try:
            await obstore.put_async(
                self._store, key, body, use_multipart=len(body) >= _MULTIPART_THRESHOLD
            )
        except BaseError as error:
            if is_certificate_failure(error):
                where = self.settings.endpoint_url or "AWS S3"
                raise certificate_error(where, error, self.settings.transport) from error
            raise classify(error, self.settings.bucket) from error
        except FileNotFoundError as error:  # obstore's answer to NoSuchBucket on a PUT
            raise StoreError(
                f"bucket {self.settings.bucket!r} does not exist (any more) at "
                f"{self.settings.endpoint_url or 'AWS S3'}: create it, then restart the task",
                transient=False,
            ) from error
        except PermissionError as error:
            raise StoreError(
                f"the object store refused the upload ({error}): check the credentials and "
                f"the rights on bucket {self.settings.bucket!r}",
                transient=False,
            ) from error
        except ValueError as error:  # a key obstore will not send (checked before: a bug)
            raise StoreError(f"object key {key!r} refused: {error}", transient=False) from error
        except OSError as error:  # connection refused or reset, timeouts
            if is_certificate_failure(error):
                where = self.settings.endpoint_url or "AWS S3"
                raise certificate_error(where, error, self.settings.transport) from error
            raise StoreError(f"upload failed: {error}", transient=True) from error

    async def get(self, key: str) -> bytes:
        result = await obstore.get_async(self._store, key)
        return bytes(await result.bytes_async())

    async def list(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        try:
            async for chunk in obstore.list(self._store, prefix, chunk_size=1000):
                found.extend(ObjectInfo(meta["path"], meta["size"]) for meta in chunk)
        except BaseError as error:
            raise classify(error, self.settings.bucket) from error
        except OSError as error:
            raise StoreError(f"listing {prefix!r} failed: {error}", transient=True) from error
        return found

    async def list_page(
        self, prefix: str, *, after: str | None = None, limit: int = 1000, delimited: bool = False
    ) -> ListPage:
        try:
            return await s3_page(self._store, prefix, after, limit, delimited)
        except BaseError as error:
            raise classify(error, self.settings.bucket) from error
        except OSError as error:
            raise StoreError(f"listing {prefix!r} failed: {error}", transient=True) from error

    async def close(self) -> None:
        return None


def classify(error: BaseError, bucket: str) -> StoreError:
    """Turn an obstore error into a StoreError that says whether retrying can help."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, UnauthenticatedError | PermissionDeniedError):
        return StoreError(
            f"the object store refused the upload ({text}): check AWS_ACCESS_KEY_ID, "
            f"AWS_SECRET_KEY and the rights on bucket {bucket!r}",
            transient=False,
        )
    if isinstance(error, NotFoundError):
        return StoreError(
            f"bucket {bucket!r} was not found by the object store: create it or correct "
            "S3_BUCKET_NAME",
            transient=False,
        )
    # Anything else (5xx after obstore's own retries, timeouts, resets) may pass.
    return StoreError(f"upload failed: {text}", transient=True)
