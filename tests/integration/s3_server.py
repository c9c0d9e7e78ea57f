"""An S3-compatible server for the attachments' S3 backend: moto's standalone server, run as its
own process on a free port of 127.0.0.1 (no MinIO or Ceph can be installed from the registries
this project builds from; moto speaks the same REST protocol, signatures included, and the
backend talks to it over HTTP with the real client)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid

import pytest

ACCESS_KEY, SECRET_KEY, REGION = "daiban-test", "daiban-test-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the S3 test server (moto) did not start") from None
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3_bucket(app, s3_endpoint):
    """A fresh bucket, and the app configured to keep new files in it."""
    from minio import Minio

    bucket = f"daiban-{uuid.uuid4().hex[:12]}"
    client = Minio(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
                   secure=False)
    client.make_bucket(bucket)
    app.config.update(ATTACHMENT_STORAGE="s3", ATTACHMENT_S3_ENDPOINT=s3_endpoint,
                      ATTACHMENT_S3_BUCKET=bucket, ATTACHMENT_S3_ACCESS_KEY=ACCESS_KEY,
                      ATTACHMENT_S3_SECRET_KEY=SECRET_KEY, ATTACHMENT_S3_REGION=REGION,
                      ATTACHMENT_S3_SECURE=False)
    app.extensions.pop("attachments_s3_client", None)
    return client, bucket


def objects(app) -> list[str]:
    """The keys in the app's bucket."""
    from minio import Minio

    config = app.config
    client = Minio(config["ATTACHMENT_S3_ENDPOINT"], access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                   region=REGION, secure=False)
    bucket = config["ATTACHMENT_S3_BUCKET"]
    return [o.object_name for o in client.list_objects(bucket, recursive=True)]
