"""Build the JSON manifest that OHIF v3's `dicomjson` data source opens, from a folder of DICOM files.

The viewer opens `<viewer>/viewer/dicomjson?url=<manifest URL>&StudyInstanceUIDs=<uid>`, fetches the
manifest, and loads every image from its `url`: a `dicomweb:` image id, i.e. the DICOM file over plain
HTTP. For one CT file served at https://cdn.example.org/studies/ct/1.dcm the manifest is:

    {"studies": [{"StudyInstanceUID": "1.2.3", "StudyDate": "20040119", "PatientName": [{"Alphabetic": "Doe^Jane"}],
      "PatientID": "1CT1", ..., "NumInstances": 1, "Modalities": "CT",
      "series": [{"SeriesInstanceUID": "1.2.3.4", "SeriesNumber": 1, "Modality": "CT", "SliceThickness": 5,
        "instances": [{"metadata": {"Columns": 128, "Rows": 128, "SOPInstanceUID": "1.2.3.4.5",
                                    "ImagePositionPatient": [-158.135803, -179.035797, -75.699997], ...},
                       "url": "dicomweb:https://cdn.example.org/studies/ct/1.dcm"}]}]}]}

Followed: OHIF/Viewers `.scripts/dicom-json-generator.js` (OHIF's own generator, run here with dcmjs 0.51.1
on pydicom's test files to compare), `extensions/default/src/DicomJSONDataSource/index.js`,
`extensions/default/src/DicomWebDataSource/utils/getImageId.js`, `platform/docs/docs/configuration/
dataSources/dicom-json.md`, and the same code in the @ohif/app 3.13.2 build this project deploys.

- Study and series fields and each instance's `metadata` are the attributes OHIF's generator picks,
  naturalized as dcmjs does: keyword keys; one value as a scalar, several as a list; IS/DS as numbers;
  a person name as a list of {"Alphabetic", "Ideographic", "Phonetic"} objects; a sequence as a list of
  items; an empty number as null, an empty text as "". Pixel data and other bulk (OB/OW/UN...) values
  are left out.
- Added to OHIF's list: PlanarConfiguration and, for PALETTE COLOR images, the palette tables (data as
  {"InlineBinary": base64}), because the image loader reads them through OHIF's metadata provider
  rather than from the file.
- A multi-frame file is listed once per frame, same metadata, `?frame=<n>` (1-based) on the URL: 3.13.2
  takes frame n's image id from the n-th entry with that SOPInstanceUID and never adds the frame itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag
from pydicom.uid import DeflatedExplicitVRLittleEndian

KEY_MODES = ("path", "content")
PROGRESS_EVERY = 500

UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
# From OHIF's generator: createStudyMetadata, createSeriesMetadata, commonMetaData, conditionalMetaData.
STUDY_FIELDS = ("StudyDescription", "StudyDate", "StudyTime", "PatientName", "PatientID", "AccessionNumber",
                "PatientAge", "PatientSex", "PatientWeight")
SERIES_FIELDS = ("SeriesDescription", "SeriesNumber", "SeriesTime", "Modality", "SliceThickness")
INSTANCE_FIELDS = (
    "Columns", "Rows", "InstanceNumber", "SOPClassUID", "AcquisitionNumber", "PhotometricInterpretation",
    "BitsAllocated", "BitsStored", "PixelRepresentation", "SamplesPerPixel", "PixelSpacing", "HighBit",
    "ImageOrientationPatient", "ImagePositionPatient", "FrameOfReferenceUID", "ImageType", "Modality",
    "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "WindowCenter", "WindowWidth",
    "RescaleIntercept", "RescaleSlope", "PlanarConfiguration")
# OHIF adds these only when JavaScript finds them truthy (not absent, null, "" or 0).
CONDITIONAL_FIELDS = (
    "ConceptNameCodeSequence", "SeriesDate", "ReferencedSeriesSequence", "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence", "ContentSequence", "ContentTemplateSequence",
    "CurrentRequestedProcedureEvidenceSequence", "CodingSchemeIdentificationSequence",
    "RadiopharmaceuticalInformationSequence", "ROIContourSequence", "StructureSetROISequence",
    "ReferencedFrameOfReferenceSequence", "CorrectedImage", "Units", "DecayCorrection", "AcquisitionDate",
    "AcquisitionTime", "PatientWeight", "NumberOfFrames", "FrameTime", "SequenceOfUltrasoundRegions")
PALETTE_COLOURS = ("Red", "Green", "Blue")

BULK_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
NUMBER_VRS = {"FL", "FD", "SL", "SS", "SV", "UL", "US", "UV", "IS", "DS"}
PIXEL_TAGS = {(0x7FE0, 0x0008), (0x7FE0, 0x0009), (0x7FE0, 0x0010)}
UNDEFINED_LENGTH = 0xFFFFFFFF
SEQUENCE_DELIMITER = (0xFFFE, 0xE0DD)
CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestFile:
    """One DICOM file to serve at `<base_url><key>`; `key` is the object name, the URL quotes it."""
    key: str
    path: Path


@dataclass(frozen=True)
class Manifest:
    """A manifest document and the files it points at."""
    document: dict
    files: tuple[ManifestFile, ...]  # every file the document references, sorted by key
    study_uids: tuple[str, ...]  # in document order
    base_url: str  # what every instance URL starts with, after `dicomweb:`

    def to_json(self) -> str:
        """The deterministic serialization: same document, same text."""
        return json.dumps(self.document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def rebased(self, base_url: str) -> Manifest:
        """The same manifest with its files served from `base_url`: a deployment knows where only once
        the files' host exists, and reading the folder again would cost as much as the first time."""
        if not base_url.endswith("/"):
            raise ValueError(f"base URL must end with '/': {base_url!r}")
        old, new = f"dicomweb:{self.base_url}", f"dicomweb:{base_url}"
        studies = [{**study, "series": [{**series, "instances": [
            {**instance, "url": new + instance["url"][len(old):]} for instance in series["instances"]]}
            for series in study["series"]]} for study in self.document["studies"]]
        return Manifest({**self.document, "studies": studies}, self.files, self.study_uids, base_url)

    def for_study(self, study_uid: str) -> Manifest:
        """The manifest of one study. OHIF opens every study of a manifest at once, whatever
        `StudyInstanceUIDs` says, so a link to one study needs a manifest of its own."""
        study = next(s for s in self.document["studies"] if s["StudyInstanceUID"] == study_uid)
        keys = {_key_of(instance["url"], self.base_url) for series in study["series"]
                for instance in series["instances"]}
        return Manifest({**self.document, "studies": [study]}, tuple(f for f in self.files if f.key in keys),
                        (study_uid,), self.base_url)


def _key_of(url: str, base_url: str) -> str:
    """The file key an instance URL names (`dicomweb:<base><quoted key>[?frame=n]`)."""
    return unquote(url[len("dicomweb:") + len(base_url):].split("?", 1)[0])


def _stderr(message: str) -> None:
    print(f"manifest: {message}", file=sys.stderr, flush=True)


def _ignore(message: str) -> None:
    pass


@dataclass
class _Instance:
    rel: str  # the file's path under the folder, for messages
    key: str
    path: Path
    digest: str
    study: dict
    series: dict
    metadata: dict
    frames: int

    @property
    def uids(self) -> tuple[str, str, str]:
        return tuple(self.metadata[uid] for uid in UIDS)

    def order(self) -> tuple:
        number = _sortable(self.metadata.get("InstanceNumber"))
        return number is None, number or 0, self.metadata["SOPInstanceUID"], self.key


def build_manifest(folder: Path, base_url: str, *, keys: str = "path", warn: Callable[[str], None] = _stderr,
                   progress: Callable[[str], None] = _ignore) -> Manifest:
    """Read every file under `folder` (headers only) and build the manifest whose URLs start with `base_url`.

    `keys="path"` serves each file under its path relative to `folder`; `keys="content"` under
    `<sha256 of its bytes>.dcm`, so unchanged files keep their keys. Files that are not DICOM, or that
    cannot be used, are reported through `warn` (stderr by default) and left out; `progress` (silent by
    default) gets a line every PROGRESS_EVERY files and a summary at the end.
    """
    if not base_url.endswith("/"):
        raise ValueError(f"base URL must end with '/': {base_url!r}")
    if keys not in KEY_MODES:
        raise ValueError(f"keys must be one of {KEY_MODES}: {keys!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a directory")

    read = skipped = unreadable = 0
    by_sop: dict[str, list[_Instance]] = {}
    for path in _walk(folder, warn):
        read += 1
        if read % PROGRESS_EVERY == 0:
            progress(f"{read} files read")
        rel = path.relative_to(folder).as_posix()
        if not path.is_file():
            warn(f"skipped {rel}: not a regular file")
            skipped += 1
            continue
        try:
            instance = _instance(path, rel, keys)
        except InvalidDicomError:
            warn(f"skipped {rel}: not a DICOM file")
            skipped += 1
            continue
        except Exception as error:  # whatever a damaged file makes pydicom raise
            warn(f"unreadable {rel}: {type(error).__name__}: {error}")
            unreadable += 1
            continue
        by_sop.setdefault(instance.metadata["SOPInstanceUID"], []).append(instance)

    kept = []
    for sop, candidates in by_sop.items():
        candidates.sort(key=lambda instance: instance.key)
        first = candidates[0]
        kept.append(first)
        for other in candidates[1:]:
            if other.digest != first.digest:
                warn(f"duplicate SOPInstanceUID {sop} in {other.rel} and {first.rel} (different content); "
                     f"keeping {first.rel}")
    progress(f"{read} files read, {len(kept)} instances, {skipped} skipped, {unreadable} unreadable, "
             f"{sum(map(len, by_sop.values())) - len(kept)} duplicates")

    document = {"studies": _studies(kept, base_url)}
    return Manifest(
        document=document,
        files=tuple(sorted((ManifestFile(i.key, i.path) for i in kept), key=lambda f: f.key)),
        study_uids=tuple(study["StudyInstanceUID"] for study in document["studies"]), base_url=base_url)


def viewer_link(viewer_url: str, manifest_url: str, study_uid: str) -> str:
    """The viewer URL that opens `study_uid` from the manifest at `manifest_url`.

    OHIF reads `url` with URLSearchParams, which decodes %XX and turns "+" into a space, so everything
    but ":" and "/" is quoted: a manifest URL with its own query (a signature) arrives intact.
    """
    if not viewer_url.endswith("/"):
        raise ValueError(f"viewer URL must end with '/': {viewer_url!r}")
    return (f"{viewer_url}viewer/dicomjson?url={quote(manifest_url, safe=':/')}"
            f"&StudyInstanceUIDs={quote(study_uid, safe='')}")


def _walk(folder: Path, warn: Callable[[str], None]) -> Iterator[Path]:
    """Every file under `folder`, in a fixed order, so messages come out the same on every run."""
    def report(error: OSError) -> None:
        warn(f"unreadable directory {Path(error.filename).relative_to(folder).as_posix()}: {error.strerror}")

    for root, dirs, names in os.walk(folder, onerror=report):
        dirs.sort()
        for name in sorted(names):
            yield Path(root, name)


def _instance(path: Path, rel: str, keys: str) -> _Instance:
    with open(path, "rb") as fp:
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        _check_pixel_data(fp, ds, os.fstat(fp.fileno()).st_size)
    metadata = _fields(ds, INSTANCE_FIELDS)
    missing = [uid for uid in UIDS if not metadata.get(uid) or not isinstance(metadata[uid], str)]
    if missing:
        raise ValueError(f"no {', '.join(missing)}")
    digest = _sha256(path)
    metadata.update((name, value) for name, value in _fields(ds, CONDITIONAL_FIELDS).items()
                    if value not in (None, "", 0))
    if metadata.get("PhotometricInterpretation") == "PALETTE COLOR":
        metadata.update(_palette(ds))
    study = _fields(ds, STUDY_FIELDS)
    study["PatientID"] = study.get("PatientID") or ""  # OHIF's generator insists on one; "" invents none
    frames = metadata.get("NumberOfFrames")
    return _Instance(
        rel=rel, key=rel if keys == "path" else f"{digest}.dcm", path=path, digest=digest, study=study,
        series=_fields(ds, SERIES_FIELDS), metadata=metadata, frames=frames if isinstance(frames, int) else 1)


def _check_pixel_data(fp, ds: Dataset, size: int) -> None:
    """Raise if an image's pixel data is cut short: the header reads fine, the viewer would draw nothing.

    stop_before_pixels leaves `fp` at the pixel data element; only its length and, when encapsulated,
    its item headers are read. A deflated dataset is inflated in memory, so its file offsets mean nothing.
    """
    if "Rows" not in ds or ds.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
        return
    implicit, little = ds.original_encoding
    endian = "<" if little else ">"
    header = fp.read(8)
    if len(header) < 8:
        raise ValueError("the file ends before its pixel data")
    if struct.unpack(endian + "HH", header[:4]) not in PIXEL_TAGS:
        return
    if not implicit:  # explicit VR: OB/OW/OF/OD take 2 reserved bytes, then a 4-byte length
        header += fp.read(4)
    (length,) = struct.unpack(endian + "L", header[-4:])
    if length != UNDEFINED_LENGTH:
        if fp.tell() + length > size:
            raise ValueError(f"pixel data cut short ({size - fp.tell()} of {length} bytes)")
        return
    while True:  # encapsulated fragments (always little endian), up to the sequence delimiter
        item = fp.read(8)
        if len(item) < 8:
            raise ValueError("encapsulated pixel data cut short")
        group, element, item_length = struct.unpack("<HHL", item)
        if (group, element) == SEQUENCE_DELIMITER:
            return
        fp.seek(item_length, os.SEEK_CUR)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fields(ds: Dataset, names: tuple[str, ...]) -> dict:
    """The named attributes present in `ds`, naturalized; absent ones are left out, as JSON drops undefined."""
    found = {}
    for name in names:
        elem = ds.get(Tag(name))  # by tag, pydicom returns the element (with its VR), not only the value
        if elem is not None and elem.VR not in BULK_VRS:
            found[name] = _natural(elem)
    return found


def _natural(elem: DataElement):
    """One element's value as dcmjs's naturalizeDataset gives it, once through JSON."""
    vr = elem.VR.split(" or ")[0]  # an ambiguous VR pydicom could not resolve: US or SS, OB or OW
    if vr == "SQ":
        return [{item_elem.keyword: _natural(item_elem) for item_elem in item
                 if item_elem.keyword and item_elem.VR.split(" or ")[0] not in BULK_VRS}
                for item in elem.value]
    if elem.is_empty:
        return [] if vr == "PN" else None if vr in NUMBER_VRS else ""
    values = [_scalar(vr, value) for value in (elem.value if elem.VM > 1 else [elem.value])]
    return values if vr == "PN" or len(values) > 1 else values[0]


def _scalar(vr: str, value):
    if vr == "PN":
        # A name has one to three component groups, so the names outnumber them.
        groups = zip(("Alphabetic", "Ideographic", "Phonetic"), value.components, strict=False)
        return {group: text for group, text in groups if text}
    if vr in NUMBER_VRS:
        try:
            number = float(value)
        except ValueError:  # pydicom keeps a malformed DS/IS as text; dcmjs reads NaN; the image still draws
            return None
        if not math.isfinite(number):
            return None  # what JSON.stringify makes of NaN and Infinity
        # JavaScript has one number type: DS "5" or 5.0 prints as 5
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    if vr == "AT":
        return f"{int(value):08X}"
    return str(value)


def _palette(ds: Dataset) -> dict:
    """The PALETTE COLOR tables, data as DICOM JSON InlineBinary (the bytes as stored, little endian in
    every non-retired transfer syntax), which OHIF's metadata provider decodes for the image loader."""
    found = {}
    for colour in PALETTE_COLOURS:
        descriptor, data = f"{colour}PaletteColorLookupTableDescriptor", f"{colour}PaletteColorLookupTableData"
        if descriptor in ds and ds.get(data):
            found[descriptor] = _natural(ds.data_element(descriptor))
            found[data] = {"InlineBinary": base64.b64encode(ds[data].value).decode()}
    return found


def _studies(instances: list[_Instance], base_url: str) -> list[dict]:
    """Studies by UID, series by number then UID, instances by number, UID, key: input order never shows."""
    tree: dict[str, dict[str, list[_Instance]]] = {}
    for instance in instances:
        study_uid, series_uid, _ = instance.uids
        tree.setdefault(study_uid, {}).setdefault(series_uid, []).append(instance)
    studies = []
    for study_uid in sorted(tree):
        series_lists = [sorted(members, key=_Instance.order) for members in tree[study_uid].values()]
        series_lists.sort(key=lambda members: _series_order(members[0]))
        modalities = dict.fromkeys(m[0].series["Modality"] for m in series_lists if m[0].series.get("Modality"))
        studies.append({
            "StudyInstanceUID": study_uid,
            **series_lists[0][0].study,
            # Files, not per-frame entries (OHIF's generator counts those): the study list's "instances".
            "NumInstances": sum(map(len, series_lists)),
            "Modalities": "/".join(modalities),
            "series": [{"SeriesInstanceUID": members[0].metadata["SeriesInstanceUID"], **members[0].series,
                        "instances": [entry for instance in members for entry in _entries(instance, base_url)]}
                       for members in series_lists]})
    return studies


def _series_order(first: _Instance) -> tuple:
    number = _sortable(first.series.get("SeriesNumber"))
    return number is None, number or 0, first.metadata["SeriesInstanceUID"]


def _sortable(number) -> int | float | None:
    """A number to sort by; None for an absent, empty or malformed (multi-valued) one, sorted last."""
    return number if isinstance(number, (int, float)) else None


def _entries(instance: _Instance, base_url: str) -> list[dict]:
    url = f"dicomweb:{base_url}{quote(instance.key, safe='/')}"
    if instance.frames <= 1:
        return [{"metadata": instance.metadata, "url": url}]
    return [{"metadata": instance.metadata, "url": f"{url}?frame={frame}"}
            for frame in range(1, instance.frames + 1)]
