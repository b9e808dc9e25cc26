// Which thumbnail a photo's image loads: srcset/sizes over the sizes it has, so tiles stay crisp
// on sharp screens without loading more than they show.
//
// The srcset starts at the smallest thumbnail that is at least the image's CSS width × the
// device pixel ratio, never below it: Chromium picks between two candidates by their geometric
// mean, so with the smaller ones listed it would show e.g. the 600 px thumbnail stretched to
// 634 device px. The larger ones stay listed, so a zoom or a sharper screen can still step up.

import { thumbnailUrl } from "./api.js";

const WIDTHS = { small: 200, medium: 600, large: 1200 }; // thumbnails/render.py, by width
const ORDER = ["small", "medium", "large"];

/** The thumbnails the photo has, as {size, width} smallest first; a thumbnail is never wider
 * than the original, so sizes that come out the same width keep only the smallest name. */
export function candidates(photo, names = ORDER) {
  const has = photo.thumbnails ?? {};
  const list = [];
  for (const size of names) {
    if (!has[size]) continue;
    const width = photo.width ? Math.min(WIDTHS[size], photo.width) : WIDTHS[size];
    if (list.length && list[list.length - 1].width >= width) continue;
    list.push({ size, width });
  }
  return list;
}

/** The candidates from the smallest one at least `cssWidth` × the device pixel ratio up (all the
 * largest one when none is that big). */
export function covering(photo, cssWidth, { names = ORDER, ratio } = {}) {
  const all = candidates(photo, names);
  const need = cssWidth * (ratio ?? (window.devicePixelRatio || 1));
  let first = all.findIndex((c) => c.width >= need);
  if (first < 0) first = all.length - 1;
  return all.slice(first);
}

/** `src`, `srcset` and `sizes` attributes for the photo shown `cssWidth` CSS px wide. */
export function imageAttrs(photo, cssWidth, { names = ORDER, version = "current", ratio } = {}) {
  const chosen = covering(photo, cssWidth, { names, ratio });
  if (!chosen.length) return "";
  const url = (c) => thumbnailUrl(photo.id, c.size, version);
  const srcset = chosen.map((c) => `${url(c)} ${c.width}w`).join(", ");
  return `src="${url(chosen[0])}" srcset="${srcset}" sizes="${Math.ceil(cssWidth)}px"`;
}
