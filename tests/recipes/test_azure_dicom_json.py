"""The dicom-json recipe on Azure under Pulumi mocks: pydicom's test files published by content under /studies/,
beside the viewer in its own container (same-origin) or on a Front Door endpoint of their own with CORS
(cross-origin); the rule sets evaluated for each file (tests/frontdoor_rules.py)."""

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

from components.render.headers import FILE_CORS_HEADERS, FILE_HEADERS
from components.render.viewer_build import APP_CONFIG, IMMUTABLE, NO_CACHE, STUDY_MANIFEST
from tests.frontdoor_rules import evaluate
from tests.pulumi_mocks import SYNCED, Program, run_program
from tests.recipes.test_azure_standalone import BLOB, EDGE_DURATION, RULE

TEST_FILES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm")
VIEWER = "https://viewer-endpoint-abc123.z01.azurefd.net"
STUDIES = "https://studies-endpoint-abc123.z01.azurefd.net"
RESEARCH = "https://research.example.org"
ELSEWHERE = "https://evil.example.org"
ACAO = "Access-Control-Allow-Origin"
ACCOUNT = "azure-native:storage:StorageAccount"
CORS = "azure-native:storage:BlobServiceProperties"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("studies")
    for name in TEST_FILES:
        shutil.copyfile(get_testdata_file(name), folder / name)
    return folder


@pytest.fixture(scope="module")
def expected(folder) -> dict[str, str]:
    """Each test file's blob name under studies/ (its content's sha256), to its Study Instance UID."""
    return {f"{hashlib.sha256(p.read_bytes()).hexdigest()}.dcm": str(pydicom.dcmread(p, stop_before_pixels=True)
                                                                     .StudyInstanceUID)
            for p in sorted(folder.iterdir())}


def dicom_json_config(folder: Path, **studies) -> dict[str, str]:
    # An absolute folder: settings read it relative to the project, and PROJECT / "/abs" is "/abs".
    return {"ohif:recipe": "dicom-json", "ohif:cloud": "azure",
            "ohif:azure": json.dumps({"location": "westeurope"}), "ohif:access": json.dumps({"public": True}),
            "ohif:studies": json.dumps({"folder": str(folder), **studies})}


@pytest.fixture(scope="module")
def same_origin(folder) -> Program:
    return run_program(dicom_json_config(folder), stack="azure-dicom-json")


@pytest.fixture(scope="module")
def cross_origin(folder) -> Program:
    return run_program(dicom_json_config(folder, topology="cross-origin", allowed_origins=[RESEARCH]),
                       stack="azure-dicom-json-cross")


def rules_of(program: Program, rule_set: str) -> list[dict]:
    return [r.inputs for r in program.of_type(RULE) if r.inputs["ruleSetName"] == rule_set]


def study_blobs(program: Program) -> dict[str, dict]:
    """Every blob under studies/: the synced set's (one resource for all the files, block blobs as azure-storage-blob
    uploads them) and the published manifests' (one resource each), by name."""
    blobs = {b.inputs["blobName"]: b.inputs for b in program.of_type(BLOB)
             if b.inputs["blobName"].startswith("studies/")}
    for synced in program.of_type(SYNCED):
        account = urlsplit(synced.inputs["account_url"]).hostname.split(".")[0]
        blobs.update({i["key"]: {"accountName": account, "containerName": synced.inputs["container"], "type": "Block",
                                 "contentType": i["content_type"]} for i in synced.inputs["items"]})
    return blobs


def check_cache_rules(rules: list[dict], expected: dict[str, str], headers: dict[str, str] | None = None) -> None:
    """The DICOM files are cached for good (they are named by content), the manifest revalidated every time."""
    for name in expected:
        result = evaluate(rules, f"/studies/{name}", "/site", headers=headers)
        assert result.path == f"/site/studies/{name}" and "SpaRoutes" not in result.matched, name
        assert result.headers["Cache-Control"] == IMMUTABLE, name
        assert result.edge_cache["cacheDuration"] == EDGE_DURATION[IMMUTABLE], name
    manifest = evaluate(rules, f"/studies/{STUDY_MANIFEST}", "/site", headers=headers)
    assert manifest.path == f"/site/studies/{STUDY_MANIFEST}"
    assert manifest.headers["Cache-Control"] == NO_CACHE and manifest.edge_cache is None
    one_study = evaluate(rules, f"/studies/{'0' * 64}.json", "/site", headers=headers)
    assert one_study.headers["Cache-Control"] == IMMUTABLE, "a study's manifest is named by its content"


def check_manifest(program: Program, files_origin: str, expected: dict[str, str]) -> None:
    blobs = study_blobs(program)
    document = json.loads(blobs[f"studies/{STUDY_MANIFEST}"]["source"].text)
    urls = {instance["url"] for study in document["studies"] for series in study["series"]
            for instance in series["instances"]}
    assert {u.split("?")[0] for u in urls} == {f"dicomweb:{files_origin}/studies/{name}" for name in expected}
    assert {study["StudyInstanceUID"] for study in document["studies"]} == set(expected.values())


def study_manifests(program: Program) -> dict[str, str]:
    """Each study link's manifest blob (studies/<sha256 of its JSON>.json), to the link's Study Instance UID."""
    found = {}
    for url in program.outputs["study_urls"]:
        query = parse_qs(urlsplit(url).query)
        found["studies/" + query["url"][0].rsplit("/", 1)[1]] = query["StudyInstanceUIDs"][0]
    return found


def check_outputs(program: Program, files_origin: str, expected: dict[str, str]) -> None:
    out = program.outputs
    assert out["viewer_url"] == f"{VIEWER}/" and out["manifest_url"] == f"{files_origin}/studies/{STUDY_MANIFEST}"
    assert len(out["study_urls"]) == len(set(expected.values()))
    blobs = study_blobs(program)
    for url in out["study_urls"]:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{VIEWER}/viewer/dicomjson", url
        query = parse_qs(parts.query)
        [manifest_url], [uid] = query["url"], query["StudyInstanceUIDs"]
        name = manifest_url.removeprefix(f"{files_origin}/")
        assert re.fullmatch(r"studies/[0-9a-f]{64}\.json", name), url
        # OHIF opens every study of a manifest, so a link's manifest holds its study alone, named by its content.
        text = blobs[name]["source"].text
        assert [s["StudyInstanceUID"] for s in json.loads(text)["studies"]] == [uid]
    assert sorted(study_manifests(program).values()) == sorted(set(expected.values()))


def test_same_origin_files_go_into_the_viewers_container(same_origin, expected):
    [account] = same_origin.of_type(ACCOUNT)
    assert account.name == "viewerstore" and account.inputs["allowBlobPublicAccess"] is False
    assert not same_origin.of_type(CORS) and not same_origin.of_type("ohif:azure:StaticFiles")
    blobs = study_blobs(same_origin)
    assert set(blobs) == {f"studies/{name}" for name in expected} | {f"studies/{STUDY_MANIFEST}"} | \
        set(study_manifests(same_origin))
    for name, blob in blobs.items():
        assert (blob["accountName"], blob["containerName"], blob["type"]) == ("viewerstore1a2b3c4d", "site", "Block")
        assert blob["contentType"] == ("application/json" if name.endswith(".json") else "application/dicom")


def test_same_origin_cache_rules(same_origin, expected):
    check_cache_rules(rules_of(same_origin, "viewerRules"), expected)


def test_app_config_turns_on_the_dicomjson_source(same_origin, cross_origin):
    for program in (same_origin, cross_origin):
        config = program.one(BLOB, f"viewer-{APP_CONFIG}").inputs
        assert config["blobName"] == APP_CONFIG and config["accountName"] == "viewerstore1a2b3c4d"
        window_config = json.loads(re.search(r"window\.config = (\{.*\});", config["source"].text, re.S)[1])
        assert window_config["defaultDataSourceName"] == "dicomjson"
        assert [s["namespace"] for s in window_config["dataSources"]] == \
            ["@ohif/extension-default.dataSourcesModule.dicomjson"], "the manifest is the only source"


def test_same_origin_manifest_and_outputs(same_origin, expected):
    check_manifest(same_origin, VIEWER, expected)
    check_outputs(same_origin, VIEWER, expected)


def test_cross_origin_files_have_private_storage_and_an_endpoint_of_their_own(cross_origin, expected):
    accounts = {a.name: a.inputs for a in cross_origin.of_type(ACCOUNT)}
    assert set(accounts) == {"viewerstore", "studiesstore"}
    assert all(a["allowBlobPublicAccess"] is False for a in accounts.values())
    group = cross_origin.one("azure-native:cdn:AFDOriginGroup", "studies-origins").inputs
    assert group["authentication"]["type"] == "SystemAssignedIdentity"
    assert cross_origin.one("azure-native:authorization:RoleAssignment", "studies-blob-reader").inputs["scope"] == \
        "studiesstore-id"
    route = cross_origin.one("azure-native:cdn:Route", "studies-route").inputs
    assert route["endpointName"] == "studies-endpoint1a2b3c4d" and route["originPath"] == "/site"
    blobs = study_blobs(cross_origin)
    assert set(blobs) == {f"studies/{name}" for name in expected} | {f"studies/{STUDY_MANIFEST}"} | \
        set(study_manifests(cross_origin))
    assert {b["accountName"] for b in blobs.values()} == {"studiesstore1a2b3c4d"}
    assert all(b["contentType"] == "application/dicom" for n, b in blobs.items() if n.endswith(".dcm"))


def test_cross_origin_cors_allows_the_viewer_and_the_research_origin(cross_origin, expected):
    [rule] = cross_origin.one(CORS, "studies-cors").inputs["cors"]["corsRules"]
    assert rule["allowedOrigins"] == [VIEWER, RESEARCH]
    assert set(rule["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}
    assert rule["allowedHeaders"] == list(FILE_CORS_HEADERS) == ["Accept"]
    rules = rules_of(cross_origin, "studiesRules")
    paths = [f"/studies/{name}" for name in expected] + [f"/studies/{STUDY_MANIFEST}"]
    for path in paths:
        for origin in (VIEWER, RESEARCH):
            result = evaluate(rules, path, "/site", headers={"Origin": origin})
            assert result.headers[ACAO] == origin, (path, origin)
            assert "Origin" in result.headers["Vary"].split(", ") and FILE_HEADERS.items() <= result.headers.items()
        for other in ({"Origin": ELSEWHERE}, {}):
            result = evaluate(rules, path, "/site", headers=other)
            assert ACAO not in result.headers and ACAO in result.deleted, (path, other)
    check_cache_rules(rules, expected, headers={"Origin": VIEWER})


def test_cross_origin_manifest_and_outputs(cross_origin, expected):
    check_manifest(cross_origin, STUDIES, expected)
    check_outputs(cross_origin, STUDIES, expected)
    assert cross_origin.outputs["studies_endpoint"] == "studies-endpoint-abc123.z01.azurefd.net"


def test_no_vm_no_network_and_front_door_standard(same_origin, cross_origin):
    """Without an archive there is no VM: no network, no Private Link, and the default tier stays Standard."""
    for program in (same_origin, cross_origin):
        assert not program.of_type("azure-native:compute:VirtualMachine")
        assert not program.of_type("ohif:azure:Network") and not program.of_type("azure-native:network:NatGateway")
        assert program.one("azure-native:cdn:Profile").inputs["sku"] == {"name": "Standard_AzureFrontDoor"}
