"""The S3-compatible backend of attachments (``ATTACHMENT_STORAGE = "s3"``): MinIO, Ceph's
gateway, a cloud's object storage, through the minio client.  Same promises as the folder:
an object written by a transaction that rolls back is removed, a deleted attachment's object
goes once the deletion is committed, a missing object is ``Missing``."""

from __future__ import annotations

import io

from minio import Minio
from minio.error import S3Error

from crm.attachments.effects import Missing, once_committed, unless_committed

MISSING_CODES = {"NoSuchKey", "NoSuchObject"}
_CLIENT = "attachments_s3_client"


class S3Backend:
    name = "s3"

    def __init__(self, client: Minio, bucket: str):
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_config(cls, app) -> S3Backend:
        """One client per app (it holds the connection pool)."""
        config = app.config
        missing = [name for name in ("ATTACHMENT_S3_ENDPOINT", "ATTACHMENT_S3_BUCKET")
                   if not config.get(name)]
        if missing:
            raise RuntimeError(f"ATTACHMENT_STORAGE='s3' needs {', '.join(missing)}")
        client = app.extensions.get(_CLIENT)
        if client is None:
            client = app.extensions[_CLIENT] = Minio(
                config["ATTACHMENT_S3_ENDPOINT"], access_key=config.get("ATTACHMENT_S3_ACCESS_KEY"),
                secret_key=config.get("ATTACHMENT_S3_SECRET_KEY"),
                region=config.get("ATTACHMENT_S3_REGION"),
                secure=bool(config.get("ATTACHMENT_S3_SECURE", True)))
        return cls(client, config["ATTACHMENT_S3_BUCKET"])

    def save(self, key: str, data: bytes) -> None:
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data))
        unless_committed(lambda: self.client.remove_object(self.bucket, key))

    def load(self, key: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as error:
            if error.code in MISSING_CODES:
                raise Missing(key) from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> None:
        once_committed(lambda: self.client.remove_object(self.bucket, key))
