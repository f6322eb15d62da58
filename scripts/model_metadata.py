#!/usr/bin/python3
"""Print the JSON metadata of a slicenav model file (.snm), or one section of it.

    scripts/model_metadata.py models/default.snm [section]

Reads only the header (magic, format version, flags, metadata length, metadata); see
core/include/slicenav/model_file.hpp for the layout. Standard library only.
"""
import json
import struct
import sys


def read_metadata(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24 or head[:8] != b"SLICENAV":
            sys.exit(f"{path}: not a slicenav model file")
        version, _flags, length = struct.unpack("<IIQ", head[8:24])
        text = f.read(length)
        if len(text) != length:
            sys.exit(f"{path}: truncated metadata")
    return version, json.loads(text)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip())
    version, meta = read_metadata(sys.argv[1])
    if len(sys.argv) == 3:
        meta = meta.get(sys.argv[2])
    else:
        meta = {"format_version": version, **meta}
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
