// Live Photos: the motion plays, muted, while the pointer hovers or presses the still (grid
// tile or lightbox slide), from the playback rendition of the Live video: the edited one's when
// the Live Photo was edited, the original's under the lightbox's "Show original".

import { api } from "./api.js";

export function isLive(photo) {
  return Boolean(photo.live_playback) || photo.media_type === "live" || Boolean(photo.subtypes?.includes("live"));
}

const urls = new Map(); // "photo id version" → a promise of its motion's URL (pre-signed for an hour)

function motionUrl(id, version) {
  const key = `${id} ${version}`;
  if (!urls.has(key)) {
    const query = version === "original" ? "&version=original" : "";
    const found = api(`/api/photos/${id}/playback?kind=live_video${query}`).then((p) => p.url);
    found.catch(() => urls.delete(key));
    urls.set(key, found);
  }
  return urls.get(key);
}

/** Play the Live motion of `photoId` (its `version`: current or original) over `host`
 * (positioned) until `stop()`. */
export function playMotion(host, photoId, version = "current") {
  let video = null;
  let stopped = false;
  motionUrl(photoId, version).then((url) => {
    if (stopped) return;
    video = Object.assign(document.createElement("video"), {
      muted: true, autoplay: true, loop: true, playsInline: true, src: url, className: "live-motion",
    });
    video.setAttribute("aria-hidden", "true");
    host.append(video);
    video.play().catch(() => {});
  }, () => {});
  return () => {
    stopped = true;
    video?.remove();
  };
}

/** Hover and press-and-hold on the Live elements under `root` (matched by `selector`); `idOf`
 * gives the photo id of an element, or `{id, version}`. */
export function livePlayer(root, selector, idOf) {
  let current = null;
  const start = (event) => {
    const el = event.target.closest?.(selector);
    if (!el || current?.el === el) return;
    stop();
    const found = idOf(el);
    if (!found) return;
    const { id, version } = typeof found === "string" ? { id: found, version: "current" } : found;
    current = { el, stop: playMotion(el, id, version) };
  };
  const stop = () => {
    current?.stop();
    current = null;
  };
  root.addEventListener("pointerover", start);
  root.addEventListener("pointerdown", start);
  root.addEventListener("pointerout", (event) => {
    if (current && !current.el.contains(event.relatedTarget)) stop();
  });
  root.addEventListener("pointerup", (event) => {
    if (event.pointerType !== "mouse") stop();
  });
  root.addEventListener("pointercancel", stop);
  return stop;
}
