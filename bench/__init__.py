"""`python -m bench`: our deployment against OHIF's own "nginx + image archive" recipe, side by side.

Both serve the same OHIF build and read the same Orthanc and study (the sandbox's 64-slice CT phantom), so what
differs is only how each delivers them: the bytes a browser downloads on a first and a repeat visit, the time to the
first image on a modest network (bench/browser.py), and what our DICOMweb proxy costs or saves against Orthanc
direct (bench/load.py). Timings are for this command only, never for the tests.
"""
