// Which thumbnail a photo's image loads: srcset/sizes over the sizes it has, so tiles stay crisp
// on sharp screens without loading more than they show.
//
// The srcset starts at the smallest thumbnail that is at least the image's CSS width × the
// device pixel ratio, never below it: Chromium picks between two candidates by their geometric
// mean, so with the smaller ones listed it would show e.g. the 600 px thumbnail stretched to
// 634 device px. The larger ones stay listed, so a zoom or a sharper screen can still step up.
//
// Between small and large there are AVIF thumbnails of 400 and 640 px (a third of a JPEG's bytes
// at the size): `pictureHtml` offers them first in a <picture>, the JPEGs staying the <img>'s for
// browsers without AVIF. Where the small JPEG is enough it stays alone (fewer bytes than an AVIF
// twice as wide), and where the AVIF ones are too small the JPEGs are offered alone as well.

import { thumbnailUrl } from "./api.js";

const WIDTHS = { small: 200, medium: 600, large: 1200, avif400: 400, avif640: 640 }; // store/keys.py
const ORDER = ["small", "medium", "large"];
const AVIF = ["avif400", "avif640"];

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

function srcsetOf(photo, chosen, version) {
  return chosen.map((c) => `${thumbnailUrl(photo.id, c.size, version)} ${c.width}w`).join(", ");
}

/** `src`, `srcset` and `sizes` attributes for the photo shown `cssWidth` CSS px wide. */
export function imageAttrs(photo, cssWidth, { names = ORDER, version = "current", ratio } = {}) {
  const chosen = covering(photo, cssWidth, { names, ratio });
  if (!chosen.length) return "";
  const src = thumbnailUrl(photo.id, chosen[0].size, version);
  return `src="${src}" srcset="${srcsetOf(photo, chosen, version)}" sizes="${Math.ceil(cssWidth)}px"`;
}

/** The AVIF thumbnails to offer before the JPEGs `jpegs` (covering ones), none when the small
 * JPEG is enough or when no AVIF one is as wide as the JPEG chosen. */
function avifCovering(photo, cssWidth, jpegs, ratio) {
  if (!jpegs.length || jpegs[0].size === "small") return [];
  const avif = covering(photo, cssWidth, { names: AVIF, ratio });
  return avif.length && avif[avif.length - 1].width >= jpegs[0].width ? avif : [];
}

/** The photo's image shown `cssWidth` CSS px wide: a <picture> with the AVIF thumbnails that
 * cover it before the JPEG <img>, or the <img> alone; `rest` are the <img>'s other attributes. */
export function pictureHtml(photo, cssWidth, rest, { version = "current", ratio } = {}) {
  const jpegs = covering(photo, cssWidth, { ratio });
  const img = `<img ${imageAttrs(photo, cssWidth, { version, ratio })} ${rest}>`;
  const avif = avifCovering(photo, cssWidth, jpegs, ratio);
  if (!avif.length) return img;
  const sizes = `${Math.ceil(cssWidth)}px`;
  const source = `<source type="image/avif" srcset="${srcsetOf(photo, avif, version)}" sizes="${sizes}">`;
  return `<picture>${source}${img}</picture>`;
}
