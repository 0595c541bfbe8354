"""What both clouds must store for every file of a compressible type: the file as it is, and its precompressed
variants under each encoding's prefix, with the file's Content-Type, each decoding to the file's own bytes."""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path

import brotli

from components.render.viewer_build import ENCODINGS, precompressed

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def source_bytes(inputs: Mapping) -> bytes:
    """What an object or blob stores: its file, its text asset, or its content."""
    source = inputs.get("source")
    if source is None:
        return inputs["content"].encode()
    return Path(source.path).read_bytes() if hasattr(source, "path") else source.text.encode()


def assert_variants(objects: Mapping[str, Mapping], path: str) -> int:
    """Every object under `path` that precompressed() names has both variants, and nothing else is a variant;
    S3 objects also carry their Content-Encoding. Returns how many files have variants."""
    identity = {k: v for k, v in objects.items() if not k.startswith(tuple(ENCODINGS.values()))}
    variants = {k: v for k, v in objects.items() if k.startswith(tuple(ENCODINGS.values()))}
    expected = {ENCODINGS[e] + k for k in identity if k.startswith(path.lstrip("/")) and precompressed(k)
                for e in ENCODINGS}
    assert set(variants) == expected
    for encoding, prefix in ENCODINGS.items():
        for key in (k for k in variants if k.startswith(prefix)):
            original, variant = identity[key[len(prefix):]], variants[key]
            assert variant["contentType"] == original["contentType"], key
            assert variant.get("cacheControl") == original.get("cacheControl"), key
            assert variant.get("contentEncoding", encoding) == encoding, key
            assert original.get("contentEncoding") is None, key
            assert DECODE[encoding](source_bytes(variant)) == source_bytes(original), key
    return len(expected) // len(ENCODINGS)
