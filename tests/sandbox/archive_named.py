"""What the proxy's answers name: each URL in them must be the proxy's own, never the archive's."""

from __future__ import annotations

import json

import requests

RETRIEVE_URL = "00081190"


def urls_in(answer: object) -> list[str]:
    """Every UR value, Retrieve URL and BulkDataURI in a DICOM JSON answer."""
    found: list[str] = []
    if isinstance(answer, list):
        for item in answer:
            found += urls_in(item)
    elif isinstance(answer, dict):
        if answer.get("vr") == "UR":
            found += [str(v) for v in answer.get("Value", [])]
        if "BulkDataURI" in answer:
            found.append(answer["BulkDataURI"])
        for value in answer.values():
            found += urls_in(value)
    return found


def answers_through(dicomweb: str, headers: dict[str, str]) -> dict[str, str]:
    """The study, series and instance searches and every study's metadata, through the proxy at `dicomweb`: each
    answer's text by its path."""
    get = lambda path: requests.get(f"{dicomweb}/{path}", headers={**headers, "Accept": "application/dicom+json"})  # noqa: E731
    answers = {path: get(path) for path in ("studies", "series", "instances")}
    for study in answers["studies"].json():
        uid = study["0020000D"]["Value"][0]
        answers[f"studies/{uid}/metadata"] = get(f"studies/{uid}/metadata")
    assert all(a.status_code == 200 for a in answers.values()), {p: a.status_code for p, a in answers.items()}
    return {path: a.text for path, a in answers.items()}


def assert_only_the_proxy_is_named(dicomweb: str, archive_netloc: str, headers: dict[str, str]) -> None:
    answers = answers_through(dicomweb, headers)
    assert not [path for path, text in answers.items() if archive_netloc in text], "an answer names the archive"
    retrieve = [v for text in answers.values() for v in urls_in(json.loads(text))]
    assert retrieve, "the answers carry URLs"
    assert all(url.startswith(f"{dicomweb}/") for url in retrieve), [u for u in retrieve
                                                                      if not u.startswith(f"{dicomweb}/")][:3]
