// The lightbox: PhotoSwipe over the grid's photos, loading further pages as it nears the end.
//
// The medium thumbnail shows at once (as PhotoSwipe's placeholder) and the large one
// replaces it when it arrives; both show the edited version when there is one, and "Show
// original" compares. Videos play their playback rendition (H.264 MP4, from
// GET /api/photos/{id}/playback: the edit's, or the original's under "Show original"); a Live
// Photo moves, muted, while the pointer presses or hovers it (its edited motion likewise); a burst opens as its frames. The info panel (key i) tells everything known of
// the photo; a photo in Recently Deleted has Restore.

import PhotoSwipe from "photoswipe";
import { api, downloadUrl, thumbnailUrl } from "./api.js";
import { infoPanel } from "./info.js";
import { candidates } from "./srcset.js";
import { isLive, livePlayer } from "./live.js";
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

const showingOriginal = new Set(); // photos whose slide shows the original instead of the edit

export function slideData(photo) {
  const alt = altText(photo);
  const version = showingOriginal.has(photo.id) ? "original" : "current";
  const t = photo.thumbnails ?? {};
  if (photo.media_type === "video" && photo.has_original) {
    const poster = t.large ? ` poster="${thumbnailUrl(photo.id, "large", version)}"` : "";
    return {
      html: `<div class="pswp-video" data-photo-id="${photo.id}" data-version="${version}"><video controls playsinline preload="metadata"${poster}
        aria-label="${esc(alt)}"></video><p class="pswp-video-state" hidden></p></div>`,
      photo,
    };
  }
  if (t.large || t.medium) {
    const size = t.large ? "large" : "medium";
    return {
      src: thumbnailUrl(photo.id, size, version),
      // PhotoSwipe sets `sizes` to the shown width, so a small phone screen may take the medium one.
      srcset: candidates(photo, ["medium", "large"])
        .map((c) => `${thumbnailUrl(photo.id, c.size, version)} ${c.width}w`)
        .join(", "),
      msrc: t.large && t.medium ? thumbnailUrl(photo.id, "medium", version) : undefined,
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
    name: "download-edited",
    order: 8,
    isButton: true,
    tagName: "a",
    title: "Download edited version",
    ariaLabel: "Download edited version",
    html: '<span class="pswp-word">Edited ↓</span>',
    onInit: (el, instance) => {
      el.setAttribute("download", "");
      el.classList.add("pswp-download");
      instance.on("change", () => {
        const photo = instance.currSlide?.data.photo;
        if (!photo) return;
        el.href = `/api/photos/${photo.id}/download/edited?redirect=true`;
        el.toggleAttribute("hidden", !photo.has_edit);
      });
    },
  });
  pswp.ui.registerElement({
    name: "original",
    order: 7,
    isButton: true,
    title: "Show original",
    html: '<span class="pswp-word">Show original</span>',
    onInit: (el, instance) => {
      const label = () => {
        const photo = instance.currSlide?.data.photo;
        if (!photo) return;
        const on = showingOriginal.has(photo.id);
        el.toggleAttribute("hidden", !photo.has_edit);
        el.setAttribute("aria-pressed", String(on));
        const word = on ? "Show edited" : "Show original";
        el.querySelector(".pswp-word").textContent = word;
        el.title = word;
        el.setAttribute("aria-label", word);
      };
      instance.on("change", label);
      el.addEventListener("click", () => {
        const photo = instance.currSlide?.data.photo;
        if (!photo) return;
        if (showingOriginal.has(photo.id)) showingOriginal.delete(photo.id);
        else showingOriginal.add(photo.id);
        instance.refreshSlideContent(instance.currIndex);
        label();
      });
    },
  });
  pswp.ui.registerElement({
    name: "restore",
    order: 7,
    isButton: true,
    title: "Restore to the library",
    html: '<span class="pswp-word">Restore</span>',
    onInit: (el, instance) => {
      const show = () => {
        const photo = instance.currSlide?.data.photo;
        el.toggleAttribute("hidden", !photo?.deleted_at);
      };
      instance.on("change", show);
      el.addEventListener("click", async () => {
        const photo = instance.currSlide?.data.photo;
        if (!photo) return;
        el.disabled = true;
        try {
          await api(`/api/photos/${photo.id}/restore`, { method: "POST" });
          photo.deleted_at = null;
          photo.restored = true;
          instance.dispatch("restored", { photo });
        } catch (error) {
          window.alert(`Could not restore: ${error.message}`);
        } finally {
          el.disabled = false;
          show();
          // The button is hidden now: the lightbox takes the focus back, so the next key (Esc,
          // arrows) reaches it instead of being lost with the button.
          if (el.hidden) instance.element?.focus({ preventScroll: true });
        }
      });
    },
  });
  pswp.ui.registerElement({
    name: "info",
    order: 7,
    isButton: true,
    title: "Info (i)",
    html: '<span class="pswp-word">Info</span>',
    onInit: (el, instance) => {
      el.addEventListener("click", () => toggleInfo(instance));
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

function toggleInfo(pswp, force) {
  let panel = pswp.element?.querySelector(".pswp-info");
  if (!panel) {
    panel = Object.assign(document.createElement("aside"), { className: "pswp-info", hidden: true });
    panel.setAttribute("aria-label", "Info");
    panel.addEventListener("click", (event) => {
      if (event.target.closest(".info-close")) toggleInfo(pswp, false);
    });
    pswp.element.append(panel);
  }
  const open = force ?? panel.hidden;
  panel.hidden = !open;
  pswp.element.classList.toggle("has-info", open);
  const photo = pswp.currSlide?.data.photo;
  if (open && photo) infoPanel(panel, photo.id);
}

/** Load the playback rendition of the current slide's video (and say when it is not ready). */
async function loadVideo(pswp, box) {
  const video = box?.querySelector("video");
  if (!video || video.getAttribute("src")) return;
  const state = box.querySelector(".pswp-video-state");
  const id = box.dataset.photoId;
  try {
    const query = box.dataset.version === "original" ? "?version=original" : "";
    const found = await api(`/api/photos/${id}/playback${query}`);
    video.src = found.url;
    if (found.poster && !video.poster) video.poster = found.poster;
    state.hidden = true;
  } catch (error) {
    const why = error.code === "playback_failed"
      ? "This video could not be prepared for the browser."
      : "This video is being prepared for the browser…";
    state.textContent = why;
    state.hidden = false;
    if (error.code !== "playback_failed" && error.status === 404) {
      setTimeout(() => {
        if (!pswp.isDestroying && box.isConnected) loadVideo(pswp, box);
      }, 3000);
    }
  }
}

/** Open the frames of a burst, oldest first, in a lightbox of their own. */
async function openBurst(photo) {
  const frames = [];
  let cursor = null;
  do {
    const params = new URLSearchParams({ burst_id: photo.burst_id, limit: "500" });
    if (cursor) params.set("cursor", cursor);
    const page = await api(`/api/photos?${params}`);
    frames.push(...page.photos);
    cursor = page.next_cursor;
  } while (cursor);
  const burst = { photos: frames, done: true, loadMore: () => Promise.resolve(), focusTile() {} };
  const start = Math.max(0, frames.findIndex((f) => f.id === photo.id));
  return openLightbox(burst, start, { burst: true });
}

/** Open the lightbox on the grid's photo at `index`. */
export function openLightbox(grid, index, { burst = false } = {}) {
  const opened = grid.photos[index];
  if (!burst && opened?.burst_id && opened.burst_count > 1) {
    openBurst(opened).catch(() => {});
    return null;
  }
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
  pswp.on("contentAppend", ({ content }) => {
    const box = content.element?.classList?.contains("pswp-video")
      ? content.element : content.element?.querySelector?.(".pswp-video");
    if (box) loadVideo(pswp, box);
  });
  pswp.on("change", () => {
    const panel = pswp.element?.querySelector(".pswp-info");
    if (panel && !panel.hidden) toggleInfo(pswp, true);
  });
  pswp.on("afterInit", () => {
    livePlayer(pswp.element, ".pswp__item .pswp__zoom-wrap", () => {
      const photo = pswp.currSlide?.data.photo;
      if (!photo || !isLive(photo)) return null;
      return { id: photo.id, version: showingOriginal.has(photo.id) ? "original" : "current" };
    });
  });
  pswp.on("keydown", ({ originalEvent }) => {
    if (originalEvent.key === "i" && !originalEvent.metaKey && !originalEvent.ctrlKey) toggleInfo(pswp);
  });
  pswp.on("restored", ({ photo }) => grid.restored?.(photo));
  pswp.init();
  return pswp;
}
