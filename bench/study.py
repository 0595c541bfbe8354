"""The bench's study: the sandbox's 64-slice CT phantom, found by QIDO as the viewer would find it."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from sandbox.sample_data import PHANTOM_PATIENT

PATIENT_NAME, STUDY_UID, SERIES_UID = "00100010", "0020000D", "0020000E"
SOP_UID, INSTANCE_NUMBER = "00080018", "00200013"


@dataclass(frozen=True)
class Phantom:
    study: str
    series: str
    instances: list[str]
    """SOP Instance UIDs, in slice order."""


def _search(url: str, headers: dict[str, str], **params: str) -> list[dict]:
    answer = requests.get(url, params=params, headers={**headers, "Accept": "application/dicom+json"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def _value(item: dict, tag: str):
    return item.get(tag, {}).get("Value", [None])[0]


def find_phantom(dicomweb_root: str, headers: dict[str, str]) -> Phantom:
    # Matched here, not by `?PatientName=`: Orthanc's exact match of the name finds nothing.
    studies = [s for s in _search(f"{dicomweb_root}/studies", headers)
               if (_value(s, PATIENT_NAME) or {}).get("Alphabetic") == PHANTOM_PATIENT]
    if len(studies) != 1:
        raise RuntimeError(f"expected one study of {PHANTOM_PATIENT} in the sandbox's Orthanc, found {len(studies)}")
    study = _value(studies[0], STUDY_UID)
    series = _value(_search(f"{dicomweb_root}/studies/{study}/series", headers)[0], SERIES_UID)
    instances = _search(f"{dicomweb_root}/studies/{study}/series/{series}/instances", headers)
    instances.sort(key=lambda i: _value(i, INSTANCE_NUMBER) or 0)
    return Phantom(study, series, [_value(i, SOP_UID) for i in instances])
