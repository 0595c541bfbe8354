"""`python -m manifest.measure [--files 10000]`: time build_manifest on generated studies, for the README.

Writes copies of pydicom's test files with fresh Study/Series/SOP UIDs into a temporary folder (studies of
five 50-file series: CT, MR, JPEG-LS MR, JPEG RGB, two-frame RLE RGB), builds a content-addressed manifest
of them, prints one line (wall and CPU time, files/s, peak RSS) and removes the folder.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from manifest import build_manifest

SOURCES = ("CT_small.dcm", "MR_small.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_dcmtk.dcm",
           "SC_rgb_rle_2frame.dcm")
SERIES_SIZE = 50


def generate(folder: Path, files: int) -> int:
    """Write `files` DICOM files under `folder`; return the number of studies."""
    sources = [pydicom.dcmread(get_testdata_file(name)) for name in SOURCES]
    per_study = SERIES_SIZE * len(SOURCES)
    for index in range(files):
        study, in_study = divmod(index, per_study)
        series, number = divmod(in_study, SERIES_SIZE)
        if in_study == 0:
            study_uid = generate_uid()
        if number == 0:
            series_uid = generate_uid()
        ds = sources[series]
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesNumber, ds.InstanceNumber = series + 1, number + 1
        out = folder / f"study{study:03d}" / f"series{series}"
        out.mkdir(parents=True, exist_ok=True)
        ds.save_as(out / f"{number:03d}.dcm")
    return -(-files // per_study)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m manifest.measure", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="manifest-measure-") as tmp:
        studies = generate(Path(tmp), args.files)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start, cpu_start = time.perf_counter(), time.process_time()
        text = build_manifest(Path(tmp), "https://cdn.example.org/studies/", keys="content",
                              progress=lambda message: None).to_json()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    # CPU time too: on a shared machine the wall time says as much about the neighbours.
    print(f"{args.files} files, {studies} studies: {seconds:.1f} s ({cpu:.1f} s CPU), "
          f"{args.files / seconds:.0f} files/s, "
          f"peak RSS {rss / 1024:.0f} MiB ({rss_before / 1024:.0f} MiB before the build), "
          f"manifest {len(text.encode()) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
