#!/usr/bin/env python3
"""Makes damaged copies of a checkpoint image for the bad-input tests.

usage: image_tool.py is-image FILE
       image_tool.py truncate SRC DST FRACTION     keep the first FRACTION of the bytes
       image_tool.py flip SRC DST OFFSET           invert one byte (OFFSET < 0 counts from the end)
       image_tool.py set-field SRC DST FIELD VALUE rewrite a FileHeader field, header CRC fixed up

FileHeader layout as declared in libckpt/image/image_format.h: a field
rewritten with set-field keeps a valid header checksum, so the reader has to
reject the value itself (version, arch), not the checksum.
"""
import struct
import sys

MAGIC = b"CKPTIMG\0"
# name -> (offset, struct format) in FileHeader
FIELDS = {
    "version": (8, "<I"),
    "arch": (12, "<I"),
    "page_size": (16, "<I"),
    "flags": (20, "<I"),
    "meta_offset": (24, "<Q"),
    "meta_size": (32, "<Q"),
    "file_size": (40, "<Q"),
    "meta_crc": (48, "<I"),
}
HEADER_CRC_OFFSET = 52
HEADER_STRUCT_SIZE = 56  # sizeof(FileHeader)


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def read(path):
    with open(path, "rb") as f:
        return bytearray(f.read())


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "is-image" and len(argv) == 3:
        with open(argv[2], "rb") as f:
            return 0 if f.read(len(MAGIC)) == MAGIC else 1
    if cmd == "truncate" and len(argv) == 5:
        data = read(argv[2])
        write(argv[3], data[: int(len(data) * float(argv[4]))])
        return 0
    if cmd == "flip" and len(argv) == 5:
        data = read(argv[2])
        data[int(argv[4])] ^= 0xFF
        write(argv[3], data)
        return 0
    if cmd == "set-field" and len(argv) == 6 and argv[4] in FIELDS:
        data = read(argv[2])
        offset, fmt = FIELDS[argv[4]]
        struct.pack_into(fmt, data, offset, int(argv[5], 0))
        struct.pack_into("<I", data, HEADER_CRC_OFFSET, 0)
        struct.pack_into("<I", data, HEADER_CRC_OFFSET, crc32c(bytes(data[:HEADER_STRUCT_SIZE])))
        write(argv[3], data)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
