"""The share links' store on this machine, as on AWS: moto's S3 server over HTTPS with IAM checks on, a bucket, and a
role with the proxy's own policy (components/aws/share_store.py: proxy_policy), whose credentials a metadata endpoint
hands out by IMDSv2 as an EC2 instance's role's.

    proxy --(IMDSv2)--> this metadata endpoint --(sts:AssumeRole)--> moto    http://127.0.0.1:<metadata port>
    proxy --(SigV4, HTTPS)-----------------------------------------> moto    https://127.0.0.1:<port>/<bucket>

moto checks every signature (botocore's S3SigV4Auth) and the role's policy, so a wrong signature or a grant the
proxy lacks fails here as on AWS. Run as `python -m sandbox.share_store` (Servers.share_store starts it after moto).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import ssl
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config

from components.aws.share_store import proxy_policy
from components.render.dicomweb_proxy.share_store import ShareStore, ShareStoreAt, ShareStoreFiles
from sandbox.cloud_standins import Issued, metadata_handler
from sandbox.processes import Service, free_port
from sandbox.staging import worker_dir
from sandbox.tls import RunTls
from settings.services import HEALTHIMAGING, ArchiveAuth

REPO = Path(__file__).resolve().parent.parent

BUCKET = "ohif-share-store"
REGION = "eu-west-1"
ROLE = "ohif-dicomweb-proxy"
LIFETIME = 3600
"""Seconds each role credential is valid (STS's least is 900)."""


class RoleCredentials:
    """The proxy role's credentials from moto's STS, a new set once the current one is past half its life."""

    def __init__(self, sts, role_arn: str) -> None:
        self.sts, self.role_arn, self.current, self._lock = sts, role_arn, None, threading.Lock()

    def current_set(self) -> Issued:
        with self._lock:
            if self.current is None or time.time() > self.current.expires - LIFETIME / 2:
                c = self.sts.assume_role(RoleArn=self.role_arn, RoleSessionName="proxy",
                                         DurationSeconds=LIFETIME)["Credentials"]
                self.current = Issued(c["AccessKeyId"], c["SecretAccessKey"], c["Expiration"].timestamp(),
                                      c["SessionToken"])
            return self.current


def prepare(moto_url: str, ca_file: str) -> RoleCredentials:
    """The bucket, the proxy's role with its policy, and a user that may assume it, made while moto checks nothing;
    then moto checks every request."""
    session = boto3.Session(aws_access_key_id="setup", aws_secret_access_key="setup", region_name=REGION)
    client = lambda service, **kw: session.client(service, endpoint_url=moto_url, verify=ca_file,  # noqa: E731
                                                  config=Config(s3={"addressing_style": "path"}), **kw)
    client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    iam = client("iam")
    user = iam.create_user(UserName="metadata-endpoint")["User"]
    iam.put_user_policy(UserName="metadata-endpoint", PolicyName="assume-proxy-role", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="metadata-endpoint")["AccessKey"]
    role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]},
                                                "Action": "sts:AssumeRole"}]}))["Role"]
    policy = proxy_policy(f"arn:aws:s3:::{BUCKET}")
    # moto names a listing's permission after its operation (s3:ListObjectsV2), where AWS asks for s3:ListBucket.
    policy["Statement"].append({"Sid": "MotoListsByOperation", "Effect": "Allow", "Action": "s3:ListObjectsV2",
                                "Resource": f"arn:aws:s3:::{BUCKET}"})
    iam.put_role_policy(RoleName=ROLE, PolicyName="share-store", PolicyDocument=json.dumps(policy))
    # From here on, moto checks every request's signature and its caller's policies.
    with urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset-auth", data=b"0", method="POST",
                                                       headers={"Content-Type": "text/plain"}),
                                context=ssl.create_default_context(cafile=ca_file), timeout=10):
        pass
    sts = boto3.client("sts", endpoint_url=moto_url, verify=ca_file, region_name=REGION,
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    return RoleCredentials(sts, role["Arn"])


def moto_server() -> str:
    """moto's server command, beside this Python's own when its bin is not on PATH."""
    return shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")


def store_url(moto_port: int) -> str:
    """The store's root as the proxy names it: moto answers by path (https://127.0.0.1:<port>/<bucket>)."""
    return f"https://127.0.0.1:{moto_port}/{BUCKET}"


@dataclass(frozen=True)
class RunningStore:
    """A running share store: where it is, and the metadata endpoint that hands out its role's credentials."""

    at: ShareStoreAt
    metadata_url: str
    ca_file: str

    def for_proxy(self, run_dir: Path, module_dir: str) -> ShareStore:
        """One proxy instance's way to it: its own credential file, loopback server and cache, in `run_dir`."""
        credentials = worker_dir(run_dir / "share-store-credential")
        return ShareStore(self.at, ShareStoreFiles(
            module_dir=module_dir, metadata_url=self.metadata_url, ca_file=self.ca_file,
            credentials_file=str(credentials / "credential.json"), listen=f"127.0.0.1:{free_port()}",
            cache_dir=str(run_dir / "revocations")))


def start_store(run_dir: Path, tls: RunTls, start: Callable[[Service], None],
                progress: Callable[[str], None]) -> RunningStore:
    """moto's S3 over HTTPS with this run's certificate, then this module's metadata endpoint once the store is
    prepared; each handed to `start`, which starts it and stops it with the run."""
    moto_port, metadata_port = free_port(), free_port()
    progress(f"starting the share store (moto's S3) on {moto_port}, its metadata endpoint on {metadata_port}")
    start(Service("share store (moto)", [moto_server(), "-H", "127.0.0.1", "-p", str(moto_port),
                                         "-c", str(tls.cert_file), "-k", str(tls.key_file)],
                  log=run_dir / "moto.log", ready_url=f"tcp://127.0.0.1:{moto_port}", ports=[moto_port],
                  port_hint="pip install 'moto[server]'"))
    start(Service("share store metadata endpoint",
                  [sys.executable, "-m", "sandbox.share_store", "--moto-port", str(moto_port),
                   "--metadata-port", str(metadata_port), "--ca", str(tls.ca_file)],
                  log=run_dir / "metadata.log", ready_url=f"tcp://127.0.0.1:{metadata_port}", ports=[metadata_port],
                  env={**os.environ, "PYTHONPATH": str(REPO)}))
    return RunningStore(ShareStoreAt(store_url(moto_port), ArchiveAuth("sigv4", region=REGION, service="s3")),
                        f"http://127.0.0.1:{metadata_port}", str(tls.ca_file))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto-port", type=int, required=True)
    parser.add_argument("--metadata-port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    args = parser.parse_args()
    credentials = prepare(f"https://127.0.0.1:{args.moto_port}", args.ca)
    server = ThreadingHTTPServer(("127.0.0.1", args.metadata_port), metadata_handler(HEALTHIMAGING, credentials))
    server.serve_forever()


if __name__ == "__main__":
    main()
