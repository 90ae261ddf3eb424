"""A real S3 API for the team-state tests: `python -m moto.server` on a free loopback port.

moto in server mode speaks the S3 (and KMS) wire protocol over plain HTTP, so the Pulumi
CLI's own DIY backend (gocloud.dev on the AWS SDK) talks to it exactly as it would to AWS.
The server runs in its own process group; `stop` ends the group, so nothing outlives a test.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

import boto3
import requests

from emulator.process import free_port

REGION = "us-east-1"
# Test values: moto accepts any key pair, and these reach no real AWS account.
ACCESS_KEY_ID = "aep-pipelines-test-key"
SECRET_ACCESS_KEY = "aep-pipelines-test-secret"
LOCKS = ".pulumi/locks/"


class MotoS3:
    """One moto server process, with the few S3/KMS calls the tests make on the side."""

    def __init__(self, log_path: pathlib.Path):
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "MotoS3":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}: "
                                   f"{self.log_path.read_text()[-2000:]}")
            try:
                requests.get(self.url + "/moto-api/", timeout=0.5)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        """SIGTERM the server's process group, then SIGKILL whatever is left."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc.wait(10)

    # -- the side channel: plain S3/KMS calls, as a teammate's `aws s3 ls` would make ----------

    def client(self, service: str = "s3") -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents") or [])

    def read(self, bucket: str, key: str) -> str:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode()

    def kms_key(self, alias: str) -> str:
        """A symmetric KMS key behind `alias/<alias>`; returns its id."""
        kms = self.client("kms")
        key_id = kms.create_key(Description="aep-pipelines test secrets key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)
        return key_id

    # -- what the Pulumi CLI is given ----------------------------------------------------------

    def backend_url(self, bucket: str) -> str:
        return f"s3://{bucket}?endpoint={self.url}&s3ForcePathStyle=true&region={REGION}"

    def env(self, bucket: str) -> dict[str, str]:
        """PULUMI_BACKEND_URL on `bucket`, and test AWS credentials with no shared config behind them."""
        return {"PULUMI_BACKEND_URL": self.backend_url(bucket),
                "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                # No ~/.aws file and no instance metadata can change what the CLI uses.
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true"}
