// The lightbox: PhotoSwipe over the grid's photos, loading further pages as it nears the end.
//
// A photo opens on the smallest thumbnail that covers the screen's device pixels (medium or
// large; the medium one shows at once as PhotoSwipe's placeholder), never a smaller one
// stretched; both show the edited version when there is one, and "Show original" compares.
// The full image (the edited version's file when there is one, else the original's) replaces
// it once shown on zooming in, or at once where the screen is sharper than the large thumbnail
// (more than 1.25 x), for types every browser shows (JPEG, PNG, GIF, WebP); a HEIC photo keeps
// its large thumbnail, however far one zooms. On a touch screen, a swipe sideways goes to the next
// or previous photo and a pull down closes (PhotoSwipe's gestures). Videos play their playback
// rendition (H.264 MP4, from GET /api/photos/{id}/playback: the edit's, or the original's under
// "Show original"); a Live Photo moves, muted, while the pointer presses or hovers it (its
// edited motion likewise); a burst opens as its frames. The info panel (key i; a bottom sheet
// on a phone, closed by pulling it down) tells everything known of the photo; a photo in Recently
// Deleted has Restore.

import PhotoSwipe from "photoswipe";
import { api, downloadUrl, thumbnailUrl } from "./api.js";
import { infoPanel } from "./info.js";
import { covering } from "./srcset.js";
import { isLive, livePlayer } from "./live.js";
import { download, shareRenditions } from "./share.js";
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

// What an <img> shows in every browser the gallery supports; HEIC is not among them.
const SHOWABLE = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

/** The slide's size when the full image can show: the photo's own, so zooming goes up to 1:1. */
function fullSize(photo, version) {
  if (!photo.width || !photo.height) return null;
  const edited = version === "current" && photo.has_edit;
  if (!edited && !(photo.has_original && SHOWABLE.has(photo.content_type))) return null;
  return { width: photo.width, height: photo.height };
}

/** The CSS width a slide of `size` is shown at before zooming (PhotoSwipe's "fit"). */
function fitWidth(size) {
  return Math.min(1, window.innerWidth / size.width, window.innerHeight / size.height) * size.width;
}

/** The URL of the full image the slide shows (the edit's, else the original's), or null when
 * the browser cannot show its type (HEIC): then the largest thumbnail stays. */
async function fullImageUrl(photo, version) {
  const kind = version === "current" && photo.has_edit ? "edited" : "original";
  let type = kind === "original" && photo.has_original ? photo.content_type : null;
  if (kind === "edited") {
    const detail = await api(`/api/photos/${photo.id}`).catch(() => null);
    type = detail?.files?.find((f) => f.kind === "edited")?.content_type ?? null;
  }
  if (!SHOWABLE.has(type)) return null;
  return kind === "original" ? downloadUrl(photo.id) : `/api/photos/${photo.id}/download/edited?redirect=true`;
}

// At the opening size the large thumbnail may be stretched this much before the full image
// follows it (a 1280 px window at ratio 1 keeps it; a sharp desktop screen takes the full image).
const STRETCH = 1.25;

/** Whether the current slide needs more pixels than its thumbnails have: zoomed in (told by
 * PhotoSwipe's zoomPanUpdate; before it the zoom level is not yet the slide's), or a screen
 * sharper than the large thumbnail at the opening size. */
function wantsFull(slide, { zooming }) {
  if (zooming && slide.currZoomLevel > slide.zoomLevels.initial * 1.01) return true;
  const shown = slide.data.width * slide.zoomLevels.initial * (window.devicePixelRatio || 1);
  return shown > slide.data.largest * STRETCH;
}

/** The full image replaces the thumbnails of the current slide once they are not enough (asked
 * once a slide; the thumbnail stays on screen until the full image has loaded). */
async function loadFull(pswp, slide, { zooming = false } = {}) {
  const data = slide?.data;
  if (!data?.srcset || data.full !== undefined || slide !== pswp.currSlide) return;
  if (slide.content?.element?.tagName !== "IMG" || !wantsFull(slide, { zooming })) return;
  data.full = null;
  const url = await fullImageUrl(data.photo, data.version);
  if (!url || pswp.isDestroying) return;
  data.full = url;
  data.srcset = `${url} ${data.width}w`;
  const image = slide.content.element;
  if (image?.tagName === "IMG") image.srcset = data.srcset;
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
    const size = fullSize(photo, version) ?? scaled(photo, t.large ? 1200 : 600);
    const chosen = covering(photo, fitWidth(size), { names: ["medium", "large"] });
    const url = (c) => thumbnailUrl(photo.id, c.size, version);
    return {
      src: url(chosen[0]),
      // PhotoSwipe raises `sizes` to the shown width as one zooms; loadFull puts the full image here.
      srcset: chosen.map((c) => `${url(c)} ${c.width}w`).join(", "),
      msrc: t.medium && chosen[0].size !== "medium" ? thumbnailUrl(photo.id, "medium", version) : undefined,
      largest: chosen[chosen.length - 1].width,
      ...size,
      alt,
      photo,
      version,
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
    name: "share",
    order: 7,
    isButton: true,
    title: "Share…",
    html: '<span class="pswp-word">Share…</span>',
    onInit: (el, instance) => {
      el.setAttribute("aria-expanded", "false");
      instance.on("change", () => {
        const photo = instance.currSlide?.data.photo;
        el.toggleAttribute("hidden", !photo?.has_original || photo.media_type === "video");
        toggleShare(instance, el, false);
      });
      el.addEventListener("click", () => toggleShare(instance, el));
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

let presetList = null; // the user's presets, asked once

/** The lightbox's Share… menu: one button per preset; the chosen one's rendition goes to the
 * share sheet (or downloads where the browser cannot share files). */
function toggleShare(pswp, button, force) {
  let menu = pswp.element?.querySelector(".pswp-share");
  if (!menu && force === false) return;
  if (!menu) {
    menu = Object.assign(document.createElement("div"), { className: "pswp-share", hidden: true });
    menu.setAttribute("role", "group");
    menu.setAttribute("aria-label", "Share as");
    menu.innerHTML = '<p class="pswp-share-title">Share as</p><div class="pswp-share-presets"></div><output aria-live="polite"></output>';
    menu.addEventListener("click", (event) => {
      const chosen = event.target.closest("button[data-preset]");
      const photo = pswp.currSlide?.data.photo;
      if (!chosen || !photo) return;
      const url = `/api/photos/${photo.id}/rendition?preset=${encodeURIComponent(chosen.dataset.preset)}`;
      const out = menu.querySelector("output");
      shareRenditions({
        urls: [url],
        title: photo.filename,
        fallback: () => download(url),
        say: (text, retry) => {
          out.textContent = text;
          if (!retry) return;
          const again = Object.assign(document.createElement("button"), { type: "button", textContent: "Share now" });
          again.addEventListener("click", () => retry());
          out.append(" ", again);
        },
      });
    });
    pswp.element.append(menu);
  }
  const open = force ?? menu.hidden;
  menu.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (!open) return;
  menu.querySelector("output").textContent = "";
  presetList ??= api("/api/presets").then(({ presets }) => presets, (error) => {
    presetList = null;
    throw error;
  });
  presetList.then((presets) => {
    const box = menu.querySelector(".pswp-share-presets");
    box.innerHTML = presets.map((p) => `<button type="button" data-preset="${esc(p.name)}">${esc(p.name)}</button>`).join("");
    box.querySelector("button")?.focus();
  }, (error) => {
    menu.querySelector("output").textContent = `Could not load the presets: ${error.message}`;
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
    pullToClose(panel, () => toggleInfo(pswp, false));
    pswp.element.append(panel);
  }
  const open = force ?? panel.hidden;
  panel.hidden = !open;
  pswp.element.classList.toggle("has-info", open);
  const photo = pswp.currSlide?.data.photo;
  if (open && photo) infoPanel(panel, photo.id);
}

const SHEET = window.matchMedia("(max-width: 640px)");
const PULL_CLOSES = 60; // px a bottom sheet is pulled down to close; less springs back

/** On phones the info panel is a bottom sheet: pulled down from its top (its text not scrolled), it
 * follows the finger and closes when let go far enough down. */
function pullToClose(panel, close) {
  let start = null;
  let pulled = 0;
  const reset = () => {
    start = null;
    pulled = 0;
    panel.style.transform = "";
    panel.classList.remove("is-pulled");
  };
  panel.addEventListener("touchstart", (event) => {
    if (!SHEET.matches || event.touches.length !== 1 || panel.scrollTop > 0) return;
    start = event.touches[0].clientY;
  }, { passive: true });
  panel.addEventListener("touchmove", (event) => {
    if (start === null) return;
    pulled = Math.max(0, event.touches[0].clientY - start);
    panel.classList.toggle("is-pulled", pulled > 0);
    panel.style.transform = pulled ? `translateY(${pulled}px)` : "";
  }, { passive: true });
  panel.addEventListener("touchend", () => {
    const far = pulled >= PULL_CLOSES;
    reset();
    if (far) close();
  });
  panel.addEventListener("touchcancel", reset);
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
  pswp.on("keydown", (event) => {
    const { originalEvent } = event;
    const menu = pswp.element?.querySelector(".pswp-share");
    if (originalEvent.key === "Escape" && menu && !menu.hidden) {
      // Escape closes the Share… menu first, then the lightbox.
      event.preventDefault();
      const button = pswp.element.querySelector(".pswp__button--share");
      toggleShare(pswp, button, false);
      button?.focus();
      return;
    }
    if (originalEvent.key === "i" && !originalEvent.metaKey && !originalEvent.ctrlKey) toggleInfo(pswp);
  });
  // The full image comes after the thumbnail has shown: on zoom, or at once on a sharp screen.
  pswp.on("zoomPanUpdate", ({ slide }) => loadFull(pswp, slide, { zooming: true }).catch(() => {}));
  pswp.on("loadComplete", ({ slide }) => loadFull(pswp, slide).catch(() => {}));
  pswp.on("change", () => {
    if (pswp.currSlide?.content?.state === "loaded") loadFull(pswp, pswp.currSlide).catch(() => {});
  });
  pswp.on("restored", ({ photo }) => grid.restored?.(photo));
  pswp.init();
  return pswp;
}
