"""A real S3 HTTP endpoint on loopback: moto's standalone server, with credentials enforced."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import httpx
import pytest


@dataclass
class S3Server:
    """Where the server listens and the only credentials it accepts."""

    endpoint: str
    access_key: str
    secret_key: str

    def client(self, access: str | None = None, secret: str | None = None) -> object:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=access or self.access_key, aws_secret_access_key=secret or self.secret_key)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="package")
def s3_server() -> Iterator[S3Server]:
    port = _port()
    # Three unauthenticated actions make a user and its key; every request after is checked.
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3", AWS_ACCESS_KEY_ID="bootstrap", AWS_SECRET_ACCESS_KEY="bootstrap")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(endpoint + "/moto-api/", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="phs-box")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="phs-box", PolicyName="archive", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="phs-box")["AccessKey"]
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
