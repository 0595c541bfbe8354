"""settings/sections.py: the top-level keys and each cloud-neutral section, one line per bad value."""

from __future__ import annotations

import pytest

from settings import ConfigError, load
from tests.settings.examples import (
    DICOM_SERVICE_ID,
    HEALTHIMAGING,
    archive,
    azure,
    dicom_json,
    embedded,
    prod,
    stack,
    stops_before_any_resource,
    uac,
)

CASES = {
    "unknown recipe": (prod(recipe="viewer-only"),
                       'ohif:recipe = "viewer-only": allowed: standalone, user-account-control'),
    "missing recipe": (prod(recipe=None), "ohif:recipe = (missing): allowed: standalone, user-account-control"),
    "unknown cloud": (prod(cloud="gcp"), 'ohif:cloud = "gcp": allowed: aws, azure, local'),
    "unknown key": (prod(region="eu"), 'ohif:region = "eu": unknown key; allowed: ohif:recipe, ohif:cloud, '
                                       "ohif:production, ohif:highly_available, ohif:viewer, ohif:access, "
                                       "ohif:archive, ohif:auth, ohif:share, ohif:embed, ohif:studies, ohif:aws, "
                                       "ohif:azure, ohif:keycloak_database_password"),
    "more proxies at least than at most": (
        prod(archive=archive(scale={"min_instances": 3, "max_instances": 2})),
        "ohif:archive.scale.max_instances = 2: allowed: at least min_instances (3)"),
    "scale without a proxy": (
        prod(archive={"dicomweb_url": "https://pacs.example.org/dicom-web", "scale": {"min_instances": 2}}),
        'ohif:archive.scale = {"min_instances": 2}: allowed only with upstream_url'),
    # Cloud DICOM services as the archive (issue 18).
    "two archives": (prod(archive={**archive(), "healthimaging": HEALTHIMAGING}),
                     "ohif:archive = {"),
    "a datastore ID that is not one": (
        prod(archive={"healthimaging": {**HEALTHIMAGING, "datastore_id": "ds-1"}}),
        'ohif:archive.healthimaging.datastore_id = "ds-1": allowed: a datastore ID: 32 lower-case letters and digits'),
    "a datastore without its region": (
        prod(archive={"healthimaging": {"datastore_id": HEALTHIMAGING["datastore_id"]}}),
        "ohif:archive.healthimaging.region = (missing): required"),
    "STOW to HealthImaging": (
        prod(archive={"healthimaging": HEALTHIMAGING, "enable_stow": True}),
        "ohif:archive.enable_stow = true: not with archive.healthimaging: SigV4 signs an upload's hash"),
    "HealthImaging on Azure": (
        azure(archive={"healthimaging": HEALTHIMAGING}),
        "ohif:archive.healthimaging = {"),
    "Azure's DICOM service on AWS": (
        prod(archive={"dicom_service": {"workspace": "ohifimages", "name": "studies"}}),
        'ohif:archive.dicom_service = {"workspace": "ohifimages", "name": "studies"}: allowed only with ohif:cloud '
        "azure (or local), not aws"),
    "a DICOM service both existing and created": (
        azure(archive={"dicom_service": {"id": DICOM_SERVICE_ID, "workspace": "ohifimages"}}),
        "ohif:archive.dicom_service = {"),
    "a DICOM service without its workspace": (
        azure(archive={"dicom_service": {"name": "studies"}}),
        "ohif:archive.dicom_service.workspace = (missing): required with archive.dicom_service.name"),
    "a DICOM service ID of another resource": (
        azure(archive={"dicom_service": {"id": DICOM_SERVICE_ID.replace("dicomservices", "fhirservices")}}),
        "ohif:archive.dicom_service.id = "),
    "missing archive": (prod(archive=None), "ohif:archive = (missing): required: an object with dicomweb_url "
                                            "(existing DICOMweb), upstream_url (proxied), healthimaging or "
                                            "dicom_service"),
    "unknown topology": (prod(archive=archive(topology="sideways")),
                         'ohif:archive.topology = "sideways": allowed: same-origin, cross-origin'),
    "base path without slash": (prod(viewer={"base_path": "ohif"}),
                                'ohif:viewer.base_path = "ohif": allowed: a path that starts and ends with /, '
                                "such as / or /ohif/"),
    "production not a boolean": (prod(production="yes"), 'ohif:production = "yes": allowed: true or false'),
    "missing realm": (uac(client_id="ohif-viewer"), "ohif:auth.realm = (missing): required for recipe "
                                                     "user-account-control: the Keycloak realm users log in to"),
    "client without PKCE in production": (uac(realm="ohif", require_pkce=False),
                                          "ohif:auth.require_pkce = false: allowed: true only in a production stack "
                                          "(a public client without PKCE leaks codes to any app on the device)"),
    "a production stack that does not say what unscoped readers read": (
        {**uac(), "ohif:auth": '{"realm": "ohif"}'},
        "ohif:auth.unscoped_readers = (missing): required in a production stack: archive (a reader whose account "
        "lists no studies reads every study) or refused (such a reader reads none)"),
    "unscoped readers neither archive nor refused": (uac(realm="ohif", unscoped_readers="some"),
                                                     'ohif:auth.unscoped_readers = "some": allowed: archive or '
                                                     "refused"),
    # Share links (issue 29).
    "share links without login": (prod(share={}), "ohif:share = {}: allowed only with login (recipe "
                                                   "user-account-control): a link is signed and checked by the proxy"),
    "a share lifetime over the maximum": (
        {**uac(realm="ohif"), "ohif:share": '{"default_minutes": 20160, "max_minutes": 10080}'},
        "ohif:share.default_minutes = 20160: allowed: at most share.max_minutes (10080)"),
    "a maximum share lifetime past thirty days": (
        {**uac(realm="ohif"), "ohif:share": '{"max_minutes": 50000}'},
        "ohif:share.max_minutes = 50000: allowed: a whole number of minutes from 5 to 43200"),
    "the sharer role equal to the reader role": (
        {**uac(realm="ohif", required_role="radiology"), "ohif:share": '{"sharer_role": "radiology"}'},
        'ohif:share.sharer_role = "radiology": allowed: a role other than auth.required_role (radiology): every '
        "reader could share every study"),
    "the share admin role equal to the reader role": (
        {**uac(realm="ohif", required_role="radiology"), "ohif:share": '{"admin_role": "radiology"}'},
        'ohif:share.admin_role = "radiology": allowed: a role other than auth.required_role (radiology): every '
        "reader could revoke every link"),
    "a share admin role nginx would misread": (
        {**uac(realm="ohif"), "ohif:share": '{"admin_role": "admin\\"; x"}'},
        'ohif:share.admin_role = "admin\\"; x": allowed: letters, digits, - and _ (up to 64)'),
    "signing keys that repeat": (
        {**uac(realm="ohif"), "ohif:share": '{"signing_keys": ["k1", "k1"]}'},
        'ohif:share.signing_keys = ["k1", "k1"]: allowed: a list of distinct key IDs'),
    "auth on the standalone recipe": (prod(auth={"realm": "ohif"}),
                                      'ohif:auth = {"realm": "ohif"}: allowed only with recipe user-account-control'),
    "allowed origins with the same-origin topology": (
        prod(archive=archive(topology="same-origin", allowed_origins=["https://portal.example.org"])),
        'ohif:archive.allowed_origins = ["https://portal.example.org"]: allowed only with topology cross-origin '
        "(a proxy behind the viewer's own origin sends no CORS)"),
    "allowed origins with the default topology on Azure": (
        azure(archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/",
                       "allowed_origins": ["https://portal.example.org"]}),
        'ohif:archive.allowed_origins = ["https://portal.example.org"]: allowed only with topology cross-origin'),
    # The embedded and dicom-json recipes' sections.
    "embedded without host origins": (embedded(host_origins=None), "ohif:embed.host_origins = (missing): required: "
                                      "the origins of the web applications that embed the viewer"),
    "an unknown embed mode": (embedded(modes=["iframe", "popup"]), 'ohif:embed.modes = ["iframe", "popup"]: allowed: '
                              "a list of iframe and script, each at most once"),
    "a host page path without script mode": (embedded(modes=["iframe"]), 'ohif:embed.host_page_path = "/imaging/": '
                                             "allowed only with mode script"),
    "embed on the standalone recipe": (prod(embed={"host_origins": ["https://portal.example.org"]}),
                                       'ohif:embed = {"host_origins": ["https://portal.example.org"]}: allowed only '
                                       "with recipe embedded"),
    "studies without a folder in the cloud": (dicom_json(folder=None), "ohif:studies.folder = (missing): required: "
                                              "the folder of DICOM files to publish, relative to the project"),
    "a studies folder that does not exist": (dicom_json(folder="no-such-folder"), 'ohif:studies.folder = '
                                             '"no-such-folder": allowed: a folder that exists, relative to'),
    "studies origins with the same-origin topology": (
        dicom_json(allowed_origins=["https://research.example.org"]),
        'ohif:studies.allowed_origins = ["https://research.example.org"]: allowed only with topology cross-origin'),
    "an archive on the dicom-json recipe": (
        stack("prod-dicom-json", archive={"dicomweb_url": "https://pacs.example.org"}),
        'ohif:archive = {"dicomweb_url": "https://pacs.example.org"}: allowed only with recipe standalone, '
        "user-account-control, embedded"),
    # Who may read (issue 15): every production stack says it.
    "a production stack that does not say who may read": (
        prod(access=None), "ohif:access = (missing): required in a production stack: say who may read: "
        "allowed_networks: [CIDR, ...] (those networks only), or public: true (de-identified data for anyone), or "
        "recipe user-account-control (login)"),
    "an Azure production stack that does not say who may read": (
        azure(access=None), "ohif:access = (missing): required in a production stack: say who may read"),
    "public: false is not a choice": (prod(access={"public": False}), 'ohif:access = {"public": false}: required in a '
                                      "production stack: say who may read"),
    "no networks is not a choice": (prod(access={"allowed_networks": []}), 'ohif:access = {"allowed_networks": []}: '
                                    "required in a production stack"),
    "dicom-json has no login to choose": (
        stack("prod-dicom-json", access=None), "ohif:access = (missing): required in a production stack: say who may "
        "read: allowed_networks: [CIDR, ...] (those networks only), or public: true (de-identified data for anyone)"),
    "public together with login": (stack("prod-uac", access={"public": True}),
                                   "ohif:access.public = true: not with recipe user-account-control: its login "
                                   "decides who reads"),
    "public together with networks": (prod(access={"public": True, "allowed_networks": ["203.0.113.0/24"]}),
                                      "ohif:access.public = true: not with allowed_networks: choose one"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_stops_before_any_resource(case):
    stops_before_any_resource(*CASES[case])


def test_dicom_json_is_not_offered_a_login_it_has_not():
    with pytest.raises(ConfigError) as raised:
        load(stack("prod-dicom-json", access=None))
    assert "login" not in str(raised.value)


@pytest.mark.parametrize("config", [stack("local", access=None), prod(production="false", access=None)],
                         ids=["sandbox", "non-production AWS"])
def test_a_stack_that_is_not_production_may_leave_access_out(config):
    assert load(config).access.allowed_networks == ()


def test_login_and_networks_combine_and_networks_are_normalised():
    settings = load(stack("prod-uac", access={"allowed_networks": ["203.0.113.7", "2001:DB8::/32"]}))
    assert settings.access.ipv4_networks == ("203.0.113.7/32",)
    assert settings.access.ipv6_networks == ("2001:db8::/32",)

