"""Recipe `dicom-json`: no archive; studies are plain DICOM files opened through a JSON manifest.

    browser --HTTPS--> static site (CDN + private storage): the viewer, app-config.js with the dicomjson source
       +-- /studies/ on the viewer's own origin: the DICOM files, named by content, and studies.json  (same-origin)
       +--HTTPS--> /studies/ on a CDN origin of their own, CORS for the viewer                       (cross-origin)

    a study's link: <viewer>/viewer/dicomjson?url=<…/studies/<sha256>.json>&StudyInstanceUIDs=<uid>

The manifests are generated at deploy time from `studies.folder` (python -m manifest): studies.json for the
whole set, and one per study for its link. Each file is stored under the sha256 of its bytes, so a redeploy
with the same files changes nothing, and a renamed file is not uploaded again. There is no login: anyone
with a link sees its study, so publish de-identified data only.

Fork here: this file is the whole composition, and it runs wherever the stack says: AWS, Azure, or
this machine (`python -m sandbox up`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi

from components.render.viewer_build import APP_CONFIG, STUDY_MANIFEST, render_app_config, stored_files
from components.target import FilesSpec, Target
from manifest import build_manifest, viewer_link
from recipes import standalone
from settings import PROJECT, ConfigError, StackSettings

STUDIES_PATH = "/studies/"


@dataclass
class Outputs:
    viewer_url: pulumi.Output[str]
    manifest_url: pulumi.Output[str]
    study_urls: pulumi.Output[list[str]]
    """A ready link per study, in the manifest's order."""


def deploy(target: Target, settings: StackSettings) -> Outputs:
    studies = settings.studies
    site = standalone.viewer_site(target, settings)
    target.publish(site, APP_CONFIG, render_app_config(base_path=settings.viewer.base_path))
    manifest = build_manifest(PROJECT / studies.folder, base_url=STUDIES_PATH, keys="content", warn=pulumi.log.warn)
    if not manifest.study_uids:
        raise ConfigError(f"invalid stack config: ohif:studies.folder = {json.dumps(studies.folder)}: no DICOM file "
                          "in it to publish")
    same_origin = studies.topology == "same-origin"
    files = target.static_files("studies", FilesSpec(
        files=stored_files((f.key, f.path) for f in manifest.files),
        path=STUDIES_PATH,
        # On their own origin, the viewer's origin is always allowed.
        allowed_origins=[] if same_origin else [site.origin, *studies.allowed_origins]),
        on_site=site if same_origin else None)
    target.publish(files, STUDY_MANIFEST, files.url.apply(lambda url: manifest.rebased(url).to_json()))
    # OHIF opens every study of a manifest at once, so each study's link names a manifest of its own, named by
    # its content: immutable in every cache, and unchanged (as is its link) while the study's files are.
    links = []
    for uid in manifest.study_uids:
        study = manifest.for_study(uid)
        key = f"{hashlib.sha256(study.to_json().encode()).hexdigest()}.json"
        target.publish(files, key, files.url.apply(lambda url, study=study: study.rebased(url).to_json()))
        links.append(pulumi.Output.all(site.url, files.url).apply(
            lambda a, key=key, uid=uid: viewer_link(a[0], a[1] + key, uid)))
    return Outputs(viewer_url=site.url, manifest_url=pulumi.Output.concat(files.url, STUDY_MANIFEST),
                   study_urls=pulumi.Output.all(*links))
