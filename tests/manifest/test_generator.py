"""The dicomjson manifest generator, on pydicom's own test files (and files pydicom writes from them)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.datadict import keyword_for_tag, tag_for_keyword

import manifest
from manifest import Manifest, ManifestFile, build_manifest, viewer_link

REPO = Path(__file__).resolve().parents[2]
BASE = "https://cdn.example.org/studies/"


def copy(folder: Path, name: str, as_name: str | None = None) -> Path:
    target = folder / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(get_testdata_file(name), target)
    return target


def build(folder: Path, **options) -> tuple[Manifest, list[str]]:
    """The manifest and the warnings it reported."""
    warnings: list[str] = []
    return build_manifest(folder, BASE, warn=warnings.append, progress=lambda message: None, **options), warnings


def entries(built: Manifest) -> list[dict]:
    return [entry for study in built.document["studies"] for series in study["series"]
            for entry in series["instances"]]


def only_entry(built: Manifest) -> dict:
    (entry,) = entries(built)
    return entry


def read(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(get_testdata_file(name))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# What OHIF's .scripts/dicom-json-generator.js (with dcmjs 0.51.1) writes for pydicom's CT_small.dcm.
OHIF_CT_SMALL = {
    "study": {"StudyDescription": "e+1", "StudyDate": "20040119", "StudyTime": "072730",
              "PatientName": [{"Alphabetic": "CompressedSamples^CT1"}], "PatientID": "1CT1", "AccessionNumber": "",
              "PatientAge": "000Y", "PatientSex": "O", "PatientWeight": 0},
    "series": {"SeriesNumber": 1, "SeriesTime": "112749", "Modality": "CT", "SliceThickness": 5},
    "metadata": {
        "Columns": 128, "Rows": 128, "InstanceNumber": 1, "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
        "AcquisitionNumber": 2, "PhotometricInterpretation": "MONOCHROME2", "BitsAllocated": 16, "BitsStored": 16,
        "PixelRepresentation": 1, "SamplesPerPixel": 1, "PixelSpacing": [0.661468, 0.661468], "HighBit": 15,
        "ImageOrientationPatient": [1, 0, 0, 0, 1, 0], "ImagePositionPatient": [-158.135803, -179.035797, -75.699997],
        "FrameOfReferenceUID": "1.3.6.1.4.1.5962.1.4.1.1.20040119072730.12322",
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"], "Modality": "CT",
        "SOPInstanceUID": "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322",
        "SeriesInstanceUID": "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322",
        "StudyInstanceUID": "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322", "RescaleIntercept": -1024,
        "RescaleSlope": 1, "SeriesDate": "19970430", "AcquisitionDate": "19970430", "AcquisitionTime": "112936"},
}


# --- metadata -------------------------------------------------------------------------------------------------

def test_metadata_carries_the_files_values_under_their_keywords(tmp_path):
    copy(tmp_path, "CT_small.dcm")
    ds = read("CT_small.dcm")
    built, warnings = build(tmp_path)
    study = built.document["studies"][0]
    series = study["series"][0]
    metadata = only_entry(built)["metadata"]

    assert warnings == []
    assert built.study_uids == (ds.StudyInstanceUID,)
    assert study["StudyInstanceUID"] == ds.StudyInstanceUID
    assert study["PatientName"] == [{"Alphabetic": str(ds.PatientName)}]
    assert study["PatientID"] == ds.PatientID
    assert (study["NumInstances"], study["Modalities"]) == (1, ds.Modality)
    assert series["SeriesInstanceUID"] == ds.SeriesInstanceUID
    assert series["SliceThickness"] == float(ds.SliceThickness)
    assert metadata["SOPInstanceUID"] == ds.SOPInstanceUID
    assert metadata["ImagePositionPatient"] == [float(v) for v in ds.ImagePositionPatient]
    assert metadata["PixelSpacing"] == [float(v) for v in ds.PixelSpacing]
    assert metadata["ImageType"] == list(ds.ImageType)
    assert (metadata["Rows"], metadata["Columns"]) == (ds.Rows, ds.Columns)
    assert metadata["RescaleIntercept"] == float(ds.RescaleIntercept)
    assert "PixelData" not in metadata
    for key in metadata:
        assert keyword_for_tag(tag_for_keyword(key)) == key, f"{key} is not a DICOM keyword"
    assert json.loads(built.to_json()) == built.document


def test_matches_what_ohifs_own_generator_writes(tmp_path):
    copy(tmp_path, "CT_small.dcm")
    built, _ = build(tmp_path)
    study = built.document["studies"][0]
    series = study["series"][0]

    assert {k: v for k, v in study.items()
            if k not in ("StudyInstanceUID", "NumInstances", "Modalities", "series")} == OHIF_CT_SMALL["study"]
    assert {k: v for k, v in series.items()
            if k not in ("SeriesInstanceUID", "instances")} == OHIF_CT_SMALL["series"]
    assert only_entry(built)["metadata"] == OHIF_CT_SMALL["metadata"]


def test_person_names_numbers_empty_values_and_sequences_in_dcmjs_form(tmp_path):
    ds = read("CT_small.dcm")
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Yamada^Tarou=\u5c71\u7530^\u592a\u90ce=\u3084\u307e\u3060^\u305f\u308d\u3046"
    ds.WindowCenter, ds.WindowWidth = ["40", "400.5"], "400"
    ds.InstanceNumber, ds.AccessionNumber = None, ""
    ds.save_as(tmp_path / "ct.dcm")
    copy(tmp_path, "test-SR.dcm")
    sr = read("test-SR.dcm")
    built, _ = build(tmp_path)
    by_sop = {entry["metadata"]["SOPInstanceUID"]: entry["metadata"] for entry in entries(built)}
    studies = {study["StudyInstanceUID"]: study for study in built.document["studies"]}

    ct = by_sop[ds.SOPInstanceUID]
    assert studies[ds.StudyInstanceUID]["PatientName"] == [
        {"Alphabetic": "Yamada^Tarou", "Ideographic": "\u5c71\u7530^\u592a\u90ce",
         "Phonetic": "\u3084\u307e\u3060^\u305f\u308d\u3046"}]
    assert (ct["WindowCenter"], ct["WindowWidth"]) == ([40, 400.5], 400)
    assert ct["InstanceNumber"] is None
    assert studies[ds.StudyInstanceUID]["AccessionNumber"] == ""

    report = by_sop[sr.SOPInstanceUID]
    assert report["ConceptNameCodeSequence"] == [
        {"CodeValue": item.CodeValue, "CodingSchemeDesignator": item.CodingSchemeDesignator,
         "CodeMeaning": item.CodeMeaning} for item in sr.ConceptNameCodeSequence]
    assert len(report["ContentSequence"]) == len(sr.ContentSequence)
    assert [item["ValueType"] for item in report["ContentSequence"]] == [i.ValueType for i in sr.ContentSequence]
    assert studies[sr.StudyInstanceUID]["PatientName"] == [{"Alphabetic": str(sr.PatientName)}]


# --- URLs and keys --------------------------------------------------------------------------------------------

def test_path_keys_are_quoted_in_urls(tmp_path):
    path = copy(tmp_path, "CT_small.dcm", "dir b/scan 1#a?.dcm")
    built, _ = build(tmp_path)
    url = only_entry(built)["url"]

    assert built.files == (ManifestFile("dir b/scan 1#a?.dcm", path),)
    assert url == f"dicomweb:{BASE}dir%20b/scan%201%23a%3F.dcm"
    assert unquote(url.removeprefix(f"dicomweb:{BASE}")) == built.files[0].key


def test_content_keys_are_the_sha256_of_the_bytes(tmp_path):
    ct = copy(tmp_path, "CT_small.dcm")
    mr = copy(tmp_path, "MR_small.dcm", "sub/MR_small.dcm")
    built, _ = build(tmp_path, keys="content")

    assert built.files == tuple(sorted((ManifestFile(f"{sha256(p)}.dcm", p) for p in (ct, mr)),
                                       key=lambda f: f.key))
    assert sorted(entry["url"] for entry in entries(built)) == sorted(
        f"dicomweb:{BASE}{sha256(p)}.dcm" for p in (ct, mr))


# --- what the viewer draws ------------------------------------------------------------------------------------

def test_multiframe_rgb_is_listed_once_per_frame(tmp_path):
    copy(tmp_path, "SC_rgb_rle_2frame.dcm")
    ds = read("SC_rgb_rle_2frame.dcm")
    built, _ = build(tmp_path)
    listed = entries(built)

    assert ds.NumberOfFrames == 2 and ds.SamplesPerPixel == 3
    assert [entry["url"] for entry in listed] == [f"dicomweb:{BASE}SC_rgb_rle_2frame.dcm?frame={n}" for n in (1, 2)]
    for entry in listed:
        metadata = entry["metadata"]
        assert metadata["SOPInstanceUID"] == ds.SOPInstanceUID
        assert metadata["NumberOfFrames"] == ds.NumberOfFrames
        assert metadata["SamplesPerPixel"] == ds.SamplesPerPixel
        assert metadata["PhotometricInterpretation"] == ds.PhotometricInterpretation
        assert metadata["PlanarConfiguration"] == ds.PlanarConfiguration
    assert built.document["studies"][0]["NumInstances"] == 1
    assert len(built.files) == 1


def test_multiframe_dose_grid_lists_every_frame(tmp_path):
    copy(tmp_path, "rtdose.dcm")
    frames = read("rtdose.dcm").NumberOfFrames
    built, _ = build(tmp_path)

    assert [entry["url"].rsplit("=", 1)[1] for entry in entries(built)] == [str(n) for n in range(1, frames + 1)]


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "MR_small_jpeg_ls_lossless.dcm",
                                  "MR_small_jp2klossless.dcm", "SC_rgb_rle_2frame.dcm"])
def test_compressed_files_are_listed_and_served_unchanged(tmp_path, name):
    path = copy(tmp_path, name)
    ds = read(name)
    built, warnings = build(tmp_path, keys="content")
    metadata = entries(built)[0]["metadata"]

    assert ds.file_meta.TransferSyntaxUID.is_compressed
    assert warnings == []
    for key in ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
                "SamplesPerPixel", "PhotometricInterpretation"):
        assert metadata[key] == ds[key].value, key
    # The loader decodes the file's own transfer syntax: the served object is the file, byte for byte.
    assert built.files == (ManifestFile(f"{sha256(path)}.dcm", path),)


def test_palette_colour_tables_travel_inline(tmp_path):
    copy(tmp_path, "examples_palette.dcm")
    ds = read("examples_palette.dcm")
    metadata = only_entry(build(tmp_path)[0])["metadata"]

    assert metadata["PhotometricInterpretation"] == "PALETTE COLOR"
    for colour in ("Red", "Green", "Blue"):
        descriptor, data = f"{colour}PaletteColorLookupTableDescriptor", f"{colour}PaletteColorLookupTableData"
        assert metadata[descriptor] == list(ds[descriptor].value)
        assert base64.b64decode(metadata[data]["InlineBinary"]) == ds[data].value


def test_reads_headers_only(tmp_path, monkeypatch):
    calls = []
    real = pydicom.dcmread
    monkeypatch.setattr(pydicom, "dcmread", lambda *args, **kwargs: calls.append(kwargs) or real(*args, **kwargs))
    copy(tmp_path, "CT_small.dcm")
    copy(tmp_path, "rtdose.dcm")
    build(tmp_path)

    assert len(calls) == 2 and all(call.get("stop_before_pixels") for call in calls)


# --- bad input ------------------------------------------------------------------------------------------------

def test_non_dicom_files_are_skipped_with_a_warning(tmp_path):
    copy(tmp_path, "CT_small.dcm")
    (tmp_path / "notes.txt").write_text("not an image\n")
    built, warnings = build(tmp_path)

    assert len(entries(built)) == 1
    assert len(warnings) == 1 and "notes.txt" in warnings[0] and "not a DICOM file" in warnings[0]


def test_broken_files_are_reported_and_the_rest_written(tmp_path):
    copy(tmp_path, "MR_small.dcm")
    copy(tmp_path, "MR_truncated.dcm")  # pydicom's own: pixel data 62 bytes short
    ct = get_testdata_file("CT_small.dcm")
    (tmp_path / "ct_header_cut.dcm").write_bytes(Path(ct).read_bytes()[:1000])
    rle = Path(get_testdata_file("SC_rgb_rle_2frame.dcm")).read_bytes()
    (tmp_path / "rle_cut.dcm").write_bytes(rle[:-100])
    ds = read("CT_small.dcm")
    del ds.SeriesInstanceUID
    ds.save_as(tmp_path / "no_series.dcm")
    built, warnings = build(tmp_path)

    assert [entry["metadata"]["SOPInstanceUID"] for entry in entries(built)] == [read("MR_small.dcm").SOPInstanceUID]
    reported = {warning.split(":")[0]: warning for warning in warnings}
    assert set(reported) == {f"unreadable {name}" for name in
                             ("MR_truncated.dcm", "ct_header_cut.dcm", "rle_cut.dcm", "no_series.dcm")}
    assert "cut short" in reported["unreadable MR_truncated.dcm"]
    assert "cut short" in reported["unreadable rle_cut.dcm"]
    assert "StudyInstanceUID" in reported["unreadable ct_header_cut.dcm"]
    assert "no SeriesInstanceUID" in reported["unreadable no_series.dcm"]


def test_a_malformed_number_becomes_null_as_in_dcmjs(tmp_path):
    ds = read("CT_small.dcm")
    ds.WindowCenter = "40"
    ds.save_as(tmp_path / "ct.dcm")
    data = (tmp_path / "ct.dcm").read_bytes()
    assert data.count(b"DS\x02\x0040") == 1
    (tmp_path / "ct.dcm").write_bytes(data.replace(b"DS\x02\x0040", b"DS\x02\x00ab"))
    built, warnings = build(tmp_path)

    assert warnings == []
    assert only_entry(built)["metadata"]["WindowCenter"] is None


def test_same_sop_instance_twice(tmp_path):
    copy(tmp_path, "CT_small.dcm", "x.dcm")
    copy(tmp_path, "CT_small.dcm", "y.dcm")  # identical copy: listed once, silently
    copy(tmp_path, "MR_small.dcm", "b.dcm")
    copy(tmp_path, "MR_small_jpeg_ls_lossless.dcm", "a.dcm")  # same SOPInstanceUID as MR_small, other bytes
    built, warnings = build(tmp_path)

    assert read("MR_small.dcm").SOPInstanceUID == read("MR_small_jpeg_ls_lossless.dcm").SOPInstanceUID
    assert sorted(entry["url"].rsplit("/", 1)[1] for entry in entries(built)) == ["a.dcm", "x.dcm"]
    assert len(warnings) == 1 and "a.dcm" in warnings[0] and "b.dcm" in warnings[0]


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="must end with '/'"):
        build_manifest(tmp_path, "https://cdn.example.org/studies")
    with pytest.raises(ValueError, match="keys"):
        build_manifest(tmp_path, BASE, keys="hash")
    with pytest.raises(NotADirectoryError):
        build_manifest(tmp_path / "absent", BASE)


# --- determinism and progress ---------------------------------------------------------------------------------

NAMES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm", "rtdose.dcm",
         "test-SR.dcm")


@pytest.mark.parametrize("keys", ["path", "content"])
def test_same_input_same_bytes(tmp_path, keys):
    for name in NAMES:
        copy(tmp_path / "one", name, f"{name[:2]}/{name}")
    for name in reversed(NAMES):  # another creation order, other inodes and times
        copy(tmp_path / "two", name, f"{name[:2]}/{name}")
    first = build(tmp_path / "one", keys=keys)[0].to_json()

    assert build(tmp_path / "one", keys=keys)[0].to_json() == first
    assert build(tmp_path / "two", keys=keys)[0].to_json() == first
    assert str(tmp_path) not in first


def test_progress_lines_and_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest, "PROGRESS_EVERY", 2)
    for name in ("CT_small.dcm", "MR_small.dcm", "rtdose.dcm", "SC_rgb_rle_2frame.dcm"):
        copy(tmp_path, name)
    (tmp_path / "notes.txt").write_text("x")
    lines: list[str] = []
    build_manifest(tmp_path, BASE, warn=lambda message: None, progress=lines.append)

    assert lines == ["2 files read", "4 files read",
                     "5 files read, 4 instances, 1 skipped, 0 unreadable, 0 duplicates"]


# --- the command line -----------------------------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manifest", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_cli_writes_the_manifest_and_a_summary(tmp_path):
    copy(tmp_path, "CT_small.dcm")
    copy(tmp_path, "SC_rgb_rle_2frame.dcm")
    (tmp_path / "notes.txt").write_text("x")
    result = run(str(tmp_path), "--base-url", BASE)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == build(tmp_path)[0].document
    lines = result.stderr.splitlines()
    assert lines[0] == "manifest: skipped notes.txt: not a DICOM file"
    assert lines[-1] == "manifest: 3 files read, 2 instances, 1 skipped, 0 unreadable, 0 duplicates"


def test_cli_content_addressed_to_a_file(tmp_path):
    ct = copy(tmp_path / "in", "CT_small.dcm")
    out = tmp_path / "studies.json"
    result = run(str(tmp_path / "in"), "--base-url", BASE, "--content-addressed", "-o", str(out))

    assert (result.returncode, result.stdout) == (0, "")
    assert out.read_text() == build(tmp_path / "in", keys="content")[0].to_json() + "\n"
    assert only_entry(build(tmp_path / "in", keys="content")[0])["url"] == f"dicomweb:{BASE}{sha256(ct)}.dcm"


def test_cli_bad_base_url_is_one_line_and_status_2(tmp_path):
    copy(tmp_path, "CT_small.dcm")
    result = run(str(tmp_path), "--base-url", "https://cdn.example.org/studies")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "python -m manifest: error: base URL must end with '/': 'https://cdn.example.org/studies'"]


def test_cli_nothing_usable_is_status_1(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    result = run(str(tmp_path), "--base-url", BASE)

    assert (result.returncode, result.stdout) == (1, "")
    assert "nothing written" in result.stderr.splitlines()[-1]


# --- viewer links ---------------------------------------------------------------------------------------------

def test_viewer_link_quotes_the_manifest_url():
    manifest_url = "https://cdn.example.org/m/studies.json?sig=a+b/c=&exp=1#x"
    link = viewer_link("https://viewer.example.org/", manifest_url, "1.2.840.113619.2.1")
    parts = urlsplit(link)

    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://viewer.example.org/viewer/dicomjson"
    assert parts.fragment == ""
    # parse_qs decodes as the viewer's URLSearchParams does, "+" included.
    assert parse_qs(parts.query) == {"url": [manifest_url], "StudyInstanceUIDs": ["1.2.840.113619.2.1"]}
    with pytest.raises(ValueError):
        viewer_link("https://viewer.example.org", manifest_url, "1.2.3")


def test_rebased_moves_every_url_and_nothing_else(tmp_path):
    for name in ("CT_small.dcm", "SC_rgb_rle_2frame.dcm"):
        shutil.copyfile(get_testdata_file(name), tmp_path / name)
    first = build_manifest(tmp_path, "/studies/", keys="content", warn=lambda _: None)
    moved = first.rebased("https://cdn.example.org/studies/")
    direct = build_manifest(tmp_path, "https://cdn.example.org/studies/", keys="content", warn=lambda _: None)
    assert moved.to_json() == direct.to_json()
    assert moved.files == first.files and moved.study_uids == first.study_uids
    assert "dicomweb:/studies/" in first.to_json(), "rebasing must not change the original"


def test_for_study_keeps_one_study_and_its_files(tmp_path):
    names = ("CT_small.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm")
    for name in names:
        shutil.copyfile(get_testdata_file(name), tmp_path / f"with space {name}")
    whole = build_manifest(tmp_path, "/studies/", warn=lambda _: None)
    rgb_study = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")).StudyInstanceUID
    one = whole.for_study(rgb_study)
    assert [s["StudyInstanceUID"] for s in one.document["studies"]] == [rgb_study] == list(one.study_uids)
    assert sorted(f.key for f in one.files) == ["with space SC_rgb_jpeg_dcmtk.dcm", "with space SC_rgb_rle_2frame.dcm"]
    assert len(whole.document["studies"]) == 2, "the whole manifest is unchanged"
