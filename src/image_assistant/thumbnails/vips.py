"""libvips, loaded when a photo is first decoded and configured as it loads: the one module that
imports pyvips (thumbnails/render.py and core/renditions.py take it from here).

Loading it maps libvips and the libraries it links, about 20 MiB of RSS that an API process
serving and zipping originals never needs; so the modules that decode are imported only where a
photo is decoded. Its operation cache is off before any operation runs: it kept recent images
with their pixels (up to 100 MB and 100 operations), and a long-running process would keep them.
"""

from __future__ import annotations

import pyvips  # type: ignore[import-untyped]  # pyvips ships no type hints

pyvips.cache_set_max(0)
pyvips.cache_set_max_mem(0)
pyvips.cache_set_max_files(0)

__all__ = ["pyvips"]
