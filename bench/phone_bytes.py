"""Bytes of thumbnails on the gallery's first screen, by device pixel ratio (issue 17).

A fresh `image-assistant serve` gets one user whose device sends 24 photos (2400 px on the long
side, three shapes); once their thumbnails are made, Debian's Chromium opens Photos at desktop
ratio 1 and 2 (1280 x 860) and as a phone (390 x 844, ratio 3). For every tile image on the first
screen it sums the bytes of the thumbnail the page chose (srcset) against the baseline measured
in the same run: the small (200 px) thumbnail of the same photos, which is what the grid loaded
before srcset, whatever the screen.

The bench's photos are flat coloured ellipses, which compress far better than photos do; with
`--photos fixtures` the device sends the fixture JPEG originals (../shared/fixtures) instead.

    .venv/bin/python bench/phone_bytes.py [--photos bench|fixtures]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gallery import jpeg  # noqa: E402
from harness import heading, owner_with_device, running_server, wait_thumbnails  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from tests.helpers.browser import DESKTOP, PHONE, chromium  # noqa: E402

SHAPES = [(2400, 1600), (1600, 2400), (2000, 2000)]
PROFILES = {
    "desktop ratio 1": {"viewport": DESKTOP, "device_scale_factor": 1},
    "desktop ratio 2": {"viewport": DESKTOP, "device_scale_factor": 2},
    "phone ratio 2": {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
    "phone ratio 3": {"viewport": PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True},
}
FIRST_SCREEN = """() => [...document.querySelectorAll('.tile img')]
  .filter((i) => { const r = i.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })
  .map((i) => ({ id: i.closest('.tile').dataset.id, src: i.currentSrc,
                 done: i.complete && i.naturalWidth > 0 }))"""


def bench_photos(count: int) -> list[tuple[bytes, int, int]]:
    """Flat coloured ellipses, 2400 px on the long side, three shapes."""
    return [(jpeg(i, *SHAPES[i % len(SHAPES)]), *SHAPES[i % len(SHAPES)]) for i in range(count)]


def fixture_photos(count: int) -> list[tuple[bytes, int, int]]:
    """The fixture libraries' JPEG originals with their upright size (as Photos.app declares it)."""
    shared = Path(os.environ.get("IA_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    found = []
    for path in sorted((shared / "fixtures" / "photos-libraries").glob("*/originals/*/*.jpeg"))[:count]:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image) or image
            found.append((path.read_bytes(), *upright.size))
    if not found:
        sys.exit(f"no fixture JPEGs under {shared}/fixtures/photos-libraries")
    return found


def upload(server: Any, token: str, photos: list[tuple[bytes, int, int]]) -> None:
    start = datetime(2024, 5, 1, 8, tzinfo=UTC)
    with server.client(token) as http:
        rows, bodies = [], {}
        for i, (body, width, height) in enumerate(photos):
            row = {
                "photos_uuid": str(uuid.uuid4()).upper(),
                "filename": f"IMG_{i:04d}.JPG",
                "content_type": "image/jpeg",
                "media_type": "photo",
                "width": width,
                "height": height,
                "taken_at": (start + timedelta(minutes=i)).isoformat(),
                "checksum_sha256": hashlib.sha256(body).hexdigest(),
                "file_size": len(body),
            }
            rows.append(row)
            bodies[row["photos_uuid"]] = body
        assert http.post("/api/sync/photos", json={"photos": rows}).status_code == 200
        for photos_uuid, body in bodies.items():
            response = http.put(
                f"/api/sync/photos/{photos_uuid}/original",
                content=body,
                headers={"x-content-sha256": hashlib.sha256(body).hexdigest()},
            )
            assert response.status_code == 200, response.text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", choices=("bench", "fixtures"), default="bench")
    args = parser.parse_args()
    heading(f"First-screen thumbnail bytes by device pixel ratio (issue 17), {args.photos} photos")
    photos = bench_photos(24) if args.photos == "bench" else fixture_photos(24)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as server:
        owner = owner_with_device(server)
        upload(server, owner.device_token, photos)
        wait_thumbnails(server, owner.user_token)
        sizes: dict[tuple[str, str], int] = {}
        with server.client(owner.user_token) as http, chromium() as (_, browser):

            def size_of(photo_id: str, size: str) -> int:
                if (photo_id, size) not in sizes:
                    got = http.get(
                        f"/api/photos/{photo_id}/thumbnail/{size}?redirect=true", follow_redirects=True
                    )
                    got.raise_for_status()
                    sizes[(photo_id, size)] = len(got.content)
                return sizes[(photo_id, size)]

            results = {}
            for name, profile in PROFILES.items():
                context = browser.new_context(base_url=server.url, **profile)
                context.add_cookies([{"name": "ia_session", "value": owner.user_token, "url": server.url}])
                page = context.new_page()
                page.goto("/")
                page.wait_for_function(
                    f"() => {{ const all = ({FIRST_SCREEN})();"
                    " return all.length > 0 && all.every(i => i.done); }"
                )
                images = page.evaluate(FIRST_SCREEN)
                context.close()
                chosen = [re.search(r"/thumbnail/(\w+)", i["src"]).group(1) for i in images]  # type: ignore[union-attr]
                after = sum(size_of(i["id"], s) for i, s in zip(images, chosen, strict=True))
                before = sum(size_of(i["id"], "small") for i in images)
                results[name] = after
                picked = ", ".join(f"{chosen.count(s)} {s}" for s in sorted(set(chosen), key=chosen.index))
                print(
                    f"  {name:16} {len(images):2} tiles  before (small) {before / 1024:7.1f} KiB"
                    f"  after ({picked}) {after / 1024:7.1f} KiB  x{after / before:.2f}"
                )
            two_to_one = results["desktop ratio 2"] / results["desktop ratio 1"]
            print(f"  after, ratio 2 against ratio 1: x{two_to_one:.2f}")


if __name__ == "__main__":
    main()
