"""The dicom-json recipe on AWS under Pulumi mocks: the prod-dicom-json stack with pydicom's test files, the
studies under the viewer's CloudFront (same-origin) or on a CloudFront of their own with CORS (cross-origin)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pydicom
import pytest
from pydicom.data import get_testdata_file

from components.render.viewer_build import IMMUTABLE, NO_CACHE, STUDY_MANIFEST
from recipes.dicom_json import STUDIES_PATH
from settings import ConfigError, read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import SYNCED, Program, run_program, synced_objects
from tests.recipes.precompressed import assert_variants

TEST_FILES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm")
VIEWER = "https://viewer-cdn.cloudfront.net"
STUDIES = "https://studies-cdn.cloudfront.net"
RESEARCH = "https://research.example.org"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("studies")
    for name in TEST_FILES:
        shutil.copyfile(get_testdata_file(name), folder / f"renamed {name}")
    return folder


def stack(folder: Path, **studies) -> dict[str, str]:
    config = read_stack_file(STACKS / "Pulumi.prod-dicom-json.yaml")
    config["ohif:studies"] = json.dumps({**json.loads(config["ohif:studies"]), "folder": str(folder), **studies})
    return config


@pytest.fixture(scope="module")
def same_origin(folder) -> Program:
    return run_program(stack(folder))


@pytest.fixture(scope="module")
def cross_origin(folder) -> Program:
    return run_program(stack(folder, topology="cross-origin", allowed_origins=[RESEARCH]))


def objects(program: Program) -> dict[str, dict]:
    """Every object under studies/: the synced set's (one resource for all the files) and the published manifests'
    (one resource each), by key, with its bucket, headers and local file."""
    stored = {**{o.inputs["key"]: o.inputs for o in program.of_type(OBJECT) if o.inputs["key"].startswith("studies/")},
              **synced_objects(program)}
    return {key: {**o, "path": str(getattr(o.get("source"), "path", ""))} for key, o in stored.items()}


def test_the_files_are_one_resource_however_many(same_origin, folder):
    [synced] = same_origin.of_type(SYNCED)
    assert (synced.name, synced.inputs["prefix"]) == ("studies", "/studies/")
    assert len([i for i in synced.inputs["items"] if i["key"].endswith(".dcm")]) == len(list(folder.iterdir()))
    assert not [o for o in same_origin.of_type(OBJECT) if o.inputs["key"].endswith(".dcm")]


def test_each_file_is_stored_once_under_its_content_hash(same_origin, folder):
    stored = objects(same_origin)
    for path in folder.iterdir():
        key = f"studies/{hashlib.sha256(path.read_bytes()).hexdigest()}.dcm"
        assert stored[key]["contentType"] == "application/dicom", key
        assert stored[key]["cacheControl"] == IMMUTABLE, key
        assert stored[key]["path"] == str(path)
    assert stored[f"studies/{STUDY_MANIFEST}"]["cacheControl"] == NO_CACHE


def test_same_origin_studies_sit_in_the_viewers_private_bucket(same_origin):
    assert {o["bucket"] for o in objects(same_origin).values()} == {"viewer-bucket-a1b2c3"}
    assert [d.name for d in same_origin.of_type(DISTRIBUTION)] == ["viewer-cdn"]
    block = same_origin.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["restrictPublicBuckets"] is True and block["blockPublicPolicy"] is True
    assert not same_origin.of_type("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")


def test_app_config_turns_on_the_dicomjson_source(same_origin):
    app_config = same_origin.one(OBJECT, "viewer-app-config.js").inputs["content"]
    config = json.loads(re.search(r"window\.config = (\{.*\});", app_config, re.S)[1])
    assert config["defaultDataSourceName"] == "dicomjson"
    assert [s["sourceName"] for s in config["dataSources"]] == ["dicomjson"]
    assert config["showStudyList"] is False


def test_each_link_opens_a_manifest_of_its_study(same_origin, folder):
    stored = objects(same_origin)
    uids = {str(pydicom.dcmread(p, stop_before_pixels=True).StudyInstanceUID) for p in folder.iterdir()}
    links = same_origin.outputs["study_urls"]
    assert len(links) == len(uids)
    for link in links:
        parts = urlsplit(link)
        assert link.startswith(f"{VIEWER}/viewer/dicomjson?url="), link
        [manifest_url], [uid] = parse_qs(parts.query)["url"], parse_qs(parts.query)["StudyInstanceUIDs"]
        key = manifest_url.removeprefix(f"{VIEWER}/")
        assert re.fullmatch(r"studies/[0-9a-f]{64}\.json", key) and stored[key]["cacheControl"] == IMMUTABLE
        document = json.loads(stored[key]["content"])
        assert [s["StudyInstanceUID"] for s in document["studies"]] == [uid]
        urls = [i["url"] for s in document["studies"] for r in s["series"] for i in r["instances"]]
        assert all(u.startswith(f"dicomweb:{VIEWER}/studies/") and u.split("?")[0].removeprefix(
            f"dicomweb:{VIEWER}/") in stored for u in urls), urls
    assert {parse_qs(urlsplit(link).query)["StudyInstanceUIDs"][0] for link in links} == uids
    assert same_origin.outputs["manifest_url"] == f"{VIEWER}/studies/{STUDY_MANIFEST}"


def test_each_published_manifest_has_its_precompressed_variants(same_origin):
    stored = {o.inputs["key"]: o.inputs for o in same_origin.of_type(OBJECT) if "studies/" in o.inputs["key"]}
    assert assert_variants(stored, STUDIES_PATH) == len(same_origin.outputs["study_urls"])


def test_a_redeploy_of_the_same_files_registers_the_same_objects(folder):
    def registered(program: Program) -> dict:
        return {o.name: {k: getattr(v, "path", v) for k, v in o.inputs.items()} for o in program.of_type(OBJECT)}

    first, second = (registered(run_program(stack(folder))) for _ in range(2))
    assert first == second


def test_cross_origin_studies_get_a_private_bucket_and_cors_for_the_viewer_and_research(cross_origin):
    assert {o["bucket"] for o in objects(cross_origin).values()} == {"studies-bucket-a1b2c3"}
    policy = json.loads(cross_origin.one("aws:s3/bucketPolicy:BucketPolicy", "studies-policy").inputs["policy"])
    readers = {s["Condition"]["StringEquals"]["AWS:SourceArn"] for s in policy["Statement"] if s["Effect"] == "Allow"}
    assert readers == {"arn:aws:cloudfront::123456789012:distribution/STUDIES-CDN"}
    cors = cross_origin.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "studies-headers").inputs
    assert cors["corsConfig"]["accessControlAllowOrigins"]["items"] == [VIEWER, RESEARCH]
    assert cors["corsConfig"]["accessControlAllowHeaders"]["items"] == ["Accept"]
    code = cross_origin.one("aws:cloudfront/function:Function", "studies-cors-preflight").inputs["code"]
    assert f'var ALLOWED_ORIGINS = ["{VIEWER}", "{RESEARCH}"];' in code
    assert all(link.startswith(f"{VIEWER}/viewer/dicomjson?url={STUDIES}/studies/")
               for link in cross_origin.outputs["study_urls"])


def test_an_empty_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r'ohif:studies.folder = ".*": no DICOM file in it to publish'):
        run_program(stack(tmp_path))


def test_no_vm_no_network(same_origin, cross_origin):
    """Without an archive there is no VM to place: no VPC, no NAT gateway, nothing with a public address."""
    for program in (same_origin, cross_origin):
        assert not program.of_type("aws:ec2/instance:Instance") and not program.of_type("ohif:aws:Network")
        assert not program.of_type("aws:ec2/natGateway:NatGateway") and not program.of_type("aws:ec2/eip:Eip")
