#!/usr/bin/env python3
"""Remove the custom "name" section (function names for debuggers, ~2 MB) from a .wasm file in
place; every other section is kept byte for byte. Usage: strip_names.py FILE.wasm

The format: an 8-byte header, then sections of (id: u8, size: LEB128 u32, payload); a custom
section (id 0) starts its payload with its name (LEB128 length, UTF-8 bytes).
WebAssembly Core Specification 2.0, §5.5 "Modules" and Appendix 7.4 "Custom Sections"."""
import sys


def leb128(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def main(path):
    data = open(path, "rb").read()
    if data[:4] != b"\0asm":
        sys.exit(f"{path} is not a WebAssembly module")
    out, i, removed = bytearray(data[:8]), 8, 0
    while i < len(data):
        start = i
        section_id = data[i]
        size, payload = leb128(data, i + 1)
        end = payload + size
        if end > len(data):
            sys.exit(f"{path}: a section runs past the end of the file")
        name = None
        if section_id == 0:
            length, j = leb128(data, payload)
            name = data[j : j + length]
        if name == b"name":
            removed += end - start
        else:
            out += data[start:end]
        i = end
    open(path, "wb").write(out)
    print(f"removed {removed} bytes of function names from {path}")


if __name__ == "__main__":
    main(sys.argv[1])
