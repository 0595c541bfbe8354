"""Sample studies for the sandbox: pydicom's own test files, plus a generated CT volume for MPR.

pydicom's CT and MR are single-frame monochrome; its secondary captures are RGB, one a two-frame RLE
image and one JPEG baseline, so the set covers what the viewer must draw from any source.

The generated series is a phantom (an ellipse body with a bright sphere and a dark cylinder) with
content on every slice, so whichever slice the viewer shows first is visibly non-blank.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from pydicom.data import get_testdata_file
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

PHANTOM_PATIENT = "OHIF^Phantom"
PHANTOM_DESCRIPTION = "Sandbox CT phantom"
PYDICOM_SAMPLES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm")


def phantom_series(out: Path, slices: int = 64, size: int = 128) -> None:
    """Write a CT series of `slices` axial slices to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    spacing, thickness = 2.0, 2.5
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx = cy = (size - 1) / 2
    body = ((xx - cx) / (0.45 * size)) ** 2 + ((yy - cy) / (0.35 * size)) ** 2 <= 1
    for i in range(slices):
        z = i * thickness
        hu = np.full((size, size), -1000, np.int16)  # air
        hu[body] = 40  # soft tissue
        r_sphere = 0.2 * size * np.sqrt(max(0.0, 1 - ((i - slices / 2) / (slices / 2)) ** 2))
        hu[(xx - cx * 0.7) ** 2 + (yy - cy) ** 2 <= r_sphere ** 2] = 700  # bone-like sphere
        hu[(xx - cx * 1.4) ** 2 + (yy - cy) ** 2 <= (0.08 * size) ** 2] = -500  # lung-like cylinder
        ds = _ct_slice(study_uid, series_uid, frame_uid, i, z, spacing, thickness)
        ds.Rows = ds.Columns = size
        ds.PixelData = (hu + 1024).astype(np.uint16).tobytes()
        ds.save_as(out / f"ct-{i:03d}.dcm", enforce_file_format=True)


def _ct_slice(study_uid: str, series_uid: str, frame_uid: str, index: int, z: float,
              spacing: float, thickness: float) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
    ds.PatientName, ds.PatientID = PHANTOM_PATIENT, "PHANTOM-001"
    ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
    ds.StudyDate = ds.SeriesDate = "20260101"
    ds.StudyTime = ds.SeriesTime = "120000"
    ds.StudyID, ds.AccessionNumber = "1", "SANDBOX1"
    ds.StudyDescription, ds.SeriesDescription = PHANTOM_DESCRIPTION, "Axial phantom"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, index + 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [0.0, 0.0, z]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.SliceLocation, ds.SliceThickness = z, thickness
    ds.PixelSpacing = [spacing, spacing]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ds


def sample_set(out: Path) -> Path:
    """Write the sample studies to `out` (pydicom's samples and the phantom); `out` itself."""
    out.mkdir(parents=True, exist_ok=True)
    for name in PYDICOM_SAMPLES:
        shutil.copyfile(get_testdata_file(name), out / name)
    phantom_series(out / "phantom")
    return out
