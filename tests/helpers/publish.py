"""Photos for publish tests: real JPEGs with every kind of metadata, sent as a device sends them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pyvips
from PIL import Image

from tests.helpers.records import photo_record
from tests.helpers.server import Device

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Secret Name</dc:creator>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)
IPTC = b"8BIM\x04\x04\x00\x00\x00\x00\x00\x0e\x1c\x02\x50\x00\x0aSecretByLn"


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def jpeg(
    width: int, height: int, *, colour: tuple[int, int, int] = (200, 40, 40), split: bool = False
) -> bytes:
    """A JPEG carrying EXIF (with GPS and a camera serial), XMP and IPTC; `split` makes its left
    half black and its right half white (to see where a crop was cut)."""
    image = Image.new("RGB", (width, height), colour)
    if split:
        image.paste((0, 0, 0), (0, 0, width // 2, height))
        image.paste((255, 255, 255), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0112] = 1
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 24.0), "E", (2.0, 21.0, 3.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    data = out.getvalue()
    extra = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP) + _segment(
        0xED, b"Photoshop 3.0\x00" + IPTC
    )
    return data[:2] + extra + data[2:]


def send_photo(
    device: Device, body: bytes, *, edited: bytes | None = None, **overrides: Any
) -> dict[str, Any]:
    """Metadata, the original and (when given) an edited version, as the agent sends them."""
    record = photo_record(checksum_sha256=hashlib.sha256(body).hexdigest(), **overrides)
    if edited is not None:
        record["edited_sha256"] = hashlib.sha256(edited).hexdigest()
        record["edited_filename"] = "IMG_E0001.JPG"
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    uid = record["photos_uuid"]
    put = device.http.put(
        f"/api/sync/photos/{uid}/original",
        content=body,
        headers={"x-content-sha256": record["checksum_sha256"]},
    )
    assert put.status_code in (200, 201), put.text
    if edited is not None:
        put = device.http.put(
            f"/api/sync/photos/{uid}/edited",
            content=edited,
            headers={"x-content-sha256": record["edited_sha256"]},
        )
        assert put.status_code in (200, 201), put.text
    return record


def photo_ids(device: Device, records: list[dict[str, Any]]) -> list[str]:
    """The server's ids of these records' photos, in the records' order."""
    by_uuid: dict[str, str] = {}
    cursor = None
    while True:
        page = device.owner.http.get(
            "/api/photos", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        by_uuid.update({p["photos_uuid"]: p["id"] for p in page.json()["photos"]})
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    return [by_uuid[r["photos_uuid"].upper()] for r in records]


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def metadata_fields(data: bytes) -> list[str]:
    """The metadata libvips finds in a JPEG: EXIF, XMP, IPTC, ICC."""
    image = pyvips.Image.new_from_buffer(data, "")
    return [f for f in image.get_fields() if f in ("exif-data", "xmp-data", "iptc-data", "icc-profile-data")]


def mean(data: bytes) -> float:
    return float(pyvips.Image.new_from_buffer(data, "").avg())
