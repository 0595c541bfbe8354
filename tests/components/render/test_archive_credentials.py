"""The proxy's SigV4 signer (components/render/archive_credentials.js), run by the `njs` command-line interpreter (the
njs nginx runs), against botocore's SigV4Auth for the same request, credentials and time."""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
from unittest import mock

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from components.render.dicomweb_proxy.archive import ARCHIVE_CREDENTIALS_MODULE
from sandbox.sigv4 import authorization
from tests.conftest import require_tool

HOST = "dicom-medical-imaging.eu-west-1.amazonaws.com"
ROOT = "/datastore/0123456789abcdef0123456789abcdef"
STUDY = "1.2.826.0.1.3680043.8.498.10196775446232174232315862785617437961"
SERIES = "1.2.826.0.1.3680043.8.498.56138563104858366466036271325125683437"
INSTANCE = "1.2.826.0.1.3680043.8.498.11391683290553286004633425563429938383"
KEY, SECRET = "ASIAEXAMPLEEXAMPLE01", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjEMr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/token=="

# (method, path under the datastore, raw query as the browser sent it, session token)
REQUESTS = [
    ("GET", "/studies", "", SESSION),
    ("GET", "/studies", "limit=101&offset=0&includefield=00081030&includefield=00080060", SESSION),
    # Repeated keys, in an order that is not sorted, with the same value twice.
    ("GET", "/studies", "includefield=0020000D&includefield=00080020&includefield=0020000D", SESSION),
    ("GET", "/studies", "PatientName=*Doe*&StudyDate=20200101-20201231", SESSION),
    ("GET", "/studies", "PatientName=DOE%5EJOHN%20Q&fuzzymatching=true", SESSION),
    ("GET", "/studies", "PatientName=O'Brien%20(Jr.)!", SESSION),
    ("GET", "/studies", "ModalitiesInStudy=CT%2CMR&AccessionNumber=A+B", SESSION),
    ("GET", "/studies", "ModalitiesInStudy=CT,MR", SESSION),
    ("GET", "/studies", "PatientID=%E6%97%A5%E6%9C%AC&flag", SESSION),
    ("GET", f"/studies/{STUDY}/series", "", SESSION),
    ("GET", f"/studies/{STUDY}/series/{SERIES}/metadata", "", SESSION),
    ("GET", f"/studies/{STUDY}/series/{SERIES}/instances/{INSTANCE}/frames/1", "", SESSION),
    ("GET", f"/studies/{STUDY}/series/{SERIES}/instances/{INSTANCE}/frames/1,2,3", "", SESSION),
    ("GET", f"/studies/{STUDY}/series/{SERIES}/instances/{INSTANCE}/frames/1", "imageSetId=abc123", SESSION),
    ("HEAD", f"/studies/{STUDY}/series/{SERIES}/instances/{INSTANCE}", "", SESSION),
    ("GET", f"/studies/{STUDY}/series/{SERIES}/instances/{INSTANCE}/metadata", "", None),
]
AMZ_DATES = ["20261206T080000Z", "20270101T235959Z"]


def _njs_signatures(cases: list[dict]) -> list[str]:
    """Each case signed by archive_credentials.js's `sign`, in one run of the njs interpreter."""
    njs = require_tool("njs", "njs")
    module = ARCHIVE_CREDENTIALS_MODULE
    script = (f"import signer from '{module.name}';\n"
              f"var cases = {json.dumps(cases)};\n"
              "cases.forEach(function (c) {\n"
              "    console.log(signer.sign(c.request, c.credentials, c.amzDate, c.region, c.service));\n"
              "});\n")
    out = subprocess.run([njs, "-p", str(module.parent), "-"], input=script, capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()


def test_njs_signatures_equal_botocores():
    cases, expected = [], []
    for amz_date in AMZ_DATES:
        for method, path, query, token in REQUESTS:
            for region in ("eu-west-1", "us-east-1"):
                host = HOST.replace("eu-west-1", region)
                cases.append({"request": {"method": method, "host": host, "path": ROOT + path, "query": query},
                              "credentials": {"key": KEY, "secret": SECRET, "token": token},
                              "amzDate": amz_date, "region": region, "service": "medical-imaging"})
                expected.append(authorization(method=method, host=host, path=ROOT + path, query=query, key=KEY,
                                              secret=SECRET, token=token, amz_date=amz_date, region=region,
                                              service="medical-imaging"))
    got = _njs_signatures(cases)
    assert len(got) == len(expected) == len(REQUESTS) * 4
    for case, ours, botocore in zip(cases, got, expected, strict=True):
        assert ours == botocore, case["request"]


def test_a_changed_request_changes_the_signature():
    """The comparison above can fail: what the signature covers (method, path, query, time, token) changes it."""
    base = {"request": {"method": "GET", "host": HOST, "path": ROOT + "/studies", "query": "limit=1"},
            "credentials": {"key": KEY, "secret": SECRET, "token": SESSION}, "amzDate": AMZ_DATES[0],
            "region": "eu-west-1", "service": "medical-imaging"}
    variants = [base,
                {**base, "request": {**base["request"], "method": "HEAD"}},
                {**base, "request": {**base["request"], "path": ROOT + "/series"}},
                {**base, "request": {**base["request"], "query": "limit=2"}},
                {**base, "amzDate": AMZ_DATES[1]},
                {**base, "credentials": {**base["credentials"], "token": SESSION + "x"}}]
    assert len(set(_njs_signatures(variants))) == len(variants)


# The share store's requests to S3 (components/render/share_store.js): a payload hash, signed in X-Amz-Content-SHA256.
BUCKET_HOSTS = [("ohif-shares-a1b2c3.s3.eu-west-1.amazonaws.com", ""), ("127.0.0.1:4566", "/ohif-share-store")]
S3_REQUESTS = [
    ("GET", "/revoked/AbCdEfGhIjKlMnOpQrStUv", "", b""),
    ("PUT", "/revoked/AbCdEfGhIjKlMnOpQrStUv", "", b'{"id": "AbCdEfGhIjKlMnOpQrStUv", "by": "sharer"}'),
    ("PUT", "/shares/0123456789abcdef0123456789abcdef/AbCdEfGhIjKlMnOpQrStUv", "", b'{"study": "1.2.3"}'),
    ("GET", "", "list-type=2&prefix=shares%2F0123456789abcdef0123456789abcdef%2F", b""),
]


def _botocore_s3(method: str, host: str, path: str, query: str, body: bytes, amz_date: str) -> str:
    payload_hash = hashlib.sha256(body).hexdigest()
    request = AWSRequest(method=method, url=f"https://{host}{path}" + (f"?{query}" if query else ""), data=body,
                         headers={"Host": host, "X-Amz-Content-SHA256": payload_hash})
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        S3SigV4Auth(Credentials(KEY, SECRET, SESSION), "s3", "eu-west-1").add_auth(request)
    return request.headers["Authorization"]


def test_njs_s3_signatures_equal_botocores():
    cases, expected = [], []
    for host, root in BUCKET_HOSTS:
        for method, key, query, body in S3_REQUESTS:
            path = (root + key) or "/"
            cases.append({"request": {"method": method, "host": host, "path": path, "query": query,
                                      "payloadHash": hashlib.sha256(body).hexdigest()},
                          "credentials": {"key": KEY, "secret": SECRET, "token": SESSION},
                          "amzDate": AMZ_DATES[0], "region": "eu-west-1", "service": "s3"})
            expected.append(_botocore_s3(method, host, path, query, body, AMZ_DATES[0]))
    got = _njs_signatures(cases)
    assert len(got) == len(expected) == len(BUCKET_HOSTS) * len(S3_REQUESTS)
    for case, ours, botocore in zip(cases, got, expected, strict=True):
        assert ours == botocore, case["request"]
