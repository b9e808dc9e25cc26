// The lightbox: PhotoSwipe over the grid's photos, loading further pages as it nears the end.
//
// The medium thumbnail shows at once (as PhotoSwipe's placeholder) and the large one
// replaces it when it arrives; videos play from the original; the caption tells what
// and when; the download button fetches the original through its pre-signed URL.

import PhotoSwipe from "photoswipe";
import { downloadUrl, thumbnailUrl } from "./api.js";
import { altText, bytes, captureTime, esc, place } from "./format.js";

const DOWNLOAD_ICON = `<svg aria-hidden="true" class="pswp__icn" viewBox="0 0 32 32" width="32" height="32">
  <path d="M16 6v14m-6-6 6 6 6-6M8 25h16" fill="none" stroke="currentColor" stroke-width="2.4"
  stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** The size a thumbnail of `width` px has, for a photo of the given dimensions. */
function scaled(photo, width) {
  const w = photo.width || width;
  const h = photo.height || Math.round(width * 0.75);
  const scale = Math.min(1, width / w);
  return { width: Math.round(w * scale), height: Math.round(h * scale) };
}

function notReady(photo) {
  const why = photo.thumbnail_status === "failed"
    ? "The preview of this photo could not be made."
    : photo.has_original ? "The preview is being made…" : "The original has not been uploaded yet.";
  return `<div class="pswp-note" role="img" aria-label="${esc(altText(photo))}">
    <p class="pswp-note-name">${esc(photo.filename)}</p><p>${esc(why)}</p></div>`;
}

export function slideData(photo) {
  const alt = altText(photo);
  const t = photo.thumbnails ?? {};
  if (photo.media_type === "video" && photo.has_original) {
    const poster = t.large ? ` poster="${thumbnailUrl(photo.id, "large")}"` : "";
    return {
      html: `<div class="pswp-video"><video controls playsinline preload="metadata"${poster}
        src="${downloadUrl(photo.id)}" aria-label="${esc(alt)}"></video></div>`,
      photo,
    };
  }
  if (t.large || t.medium) {
    const size = t.large ? "large" : "medium";
    return {
      src: thumbnailUrl(photo.id, size),
      msrc: t.large && t.medium ? thumbnailUrl(photo.id, "medium") : undefined,
      ...scaled(photo, t.large ? 1200 : 600),
      alt,
      photo,
    };
  }
  return { html: notReady(photo), photo };
}

function captionHtml(photo) {
  const dims = photo.width && photo.height ? `${photo.width} × ${photo.height}` : "";
  const where = place(photo.location);
  const facts = [dims, bytes(photo.file_size), where].filter(Boolean).map((f) => `<span>${esc(f)}</span>`);
  return `<p class="pswp-cap-name">${esc(photo.filename || "Untitled")}${photo.is_favorite ? " ♥" : ""}</p>
    <p class="pswp-cap-time">${esc(captureTime(photo.taken_at))}</p>
    <p class="pswp-cap-facts">${facts.join("")}</p>`;
}

function registerUi(pswp) {
  pswp.ui.registerElement({
    name: "download",
    order: 8,
    isButton: true,
    tagName: "a",
    title: "Download original",
    ariaLabel: "Download original",
    html: DOWNLOAD_ICON,
    onInit: (el, instance) => {
      el.setAttribute("download", "");
      el.classList.add("pswp-download");
      instance.on("change", () => {
        const photo = instance.currSlide?.data.photo;
        if (!photo) return;
        el.href = downloadUrl(photo.id);
        el.toggleAttribute("hidden", !photo.has_original);
      });
    },
  });
  pswp.ui.registerElement({
    name: "caption",
    order: 9,
    isButton: false,
    appendTo: "root",
    onInit: (el, instance) => {
      el.classList.add("pswp-cap");
      el.setAttribute("aria-live", "polite");
      instance.on("change", () => {
        const photo = instance.currSlide?.data.photo;
        if (photo) el.innerHTML = captionHtml(photo);
      });
    },
  });
}

/** Open the lightbox on the grid's photo at `index`. */
export function openLightbox(grid, index) {
  const pswp = new PhotoSwipe({
    dataSource: grid.photos,
    index,
    loop: false,
    showHideAnimationType: "fade",
    bgOpacity: 1,
    preload: [1, 2],
    closeTitle: "Close (Esc)",
    arrowPrevTitle: "Previous (←)",
    arrowNextTitle: "Next (→)",
    zoomTitle: "Zoom (z)",
    errorMsg: "This image could not be loaded.",
  });
  pswp.addFilter("itemData", (_, i) => slideData(grid.photos[i]));
  // Show the medium thumbnail on every slide while the large one loads, not only the first.
  pswp.addFilter("placeholderSrc", (src, content) => content.data.msrc || src);
  pswp.on("uiRegister", () => registerUi(pswp));
  pswp.on("change", () => {
    if (grid.done || pswp.currIndex < grid.photos.length - 3) return;
    const before = grid.photos.length;
    grid.loadMore().then(() => {
      if (pswp.isDestroying || grid.photos.length === before) return;
      pswp.refreshSlideContent(before);
    }, () => {});
  });
  // Keys act once the opening animation is over; tests and styles can see when that is.
  pswp.on("openingAnimationEnd", () => pswp.element?.setAttribute("data-state", "open"));
  pswp.on("close", () => pswp.element?.setAttribute("data-state", "closing"));
  pswp.on("destroy", () => grid.focusTile(pswp.currIndex));
  pswp.init();
  return pswp;
}
