"""Image files for tests, built in memory: ordinary ones and hostile ones."""

import io
import struct
import zlib

from PIL import Image


def image_bytes(size=(800, 600), mode="RGB", fmt="JPEG", color=(200, 30, 30), **save_options):
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, fmt, **save_options)
    return out.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width, height):
    """A PNG that declares `width`×`height` pixels in a few dozen bytes: a decompression bomb's shape."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + png_chunk(b"IEND", b"")
    )


def png_with_chunk(kind, data, *, after_pixels=False):
    """A small valid PNG with extra chunks of `kind` holding `data` (bytes, or a list for several chunks),
    before its pixel data (read when the file is opened) or after it (read when the pixels are)."""
    png = image_bytes((16, 16), fmt="PNG")
    # Signature and IHDR come first (8 + 25 bytes); IEND is the last 12.
    at = len(png) - 12 if after_pixels else 33
    chunks = b"".join(png_chunk(kind, part) for part in (data if isinstance(data, list) else [data]))
    return png[:at] + chunks + png[at:]


def zip_bomb(size=2 * 1024 * 1024):
    """`size` zero bytes deflated to a few KB: more than Pillow lets a metadata chunk inflate to (1 MB)."""
    return zlib.compress(b"\0" * size, 9)


def animated_gif(frames, size):
    """A GIF of `frames` frames of `size` pixels, each one colour: a few hundred KB however large, since a
    flat frame compresses to almost nothing. The frames are copies of one encoded frame, as Pillow would
    merge identical frames if asked to save them."""
    still = Image.new("P", size, 1)
    still.putpalette([0, 0, 0, 255, 0, 0] * 128)
    out = io.BytesIO()
    still.save(out, "GIF")
    data = out.getvalue()
    # Skip the header, the logical screen and its colour table, and any extension blocks, to the frame.
    flags = data[10]
    at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while data[at] != 0x2C:
        at += 2
        while data[at]:
            at += data[at] + 1
        at += 1
    frame = data[at:-1]
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    delay = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"
    return data[:at] + loop + (delay + frame) * frames + b"\x3b"
