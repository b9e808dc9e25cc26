// Live Photos: the motion plays, muted, while the pointer hovers or presses the still (grid
// tile or lightbox slide), from the playback rendition of the Live video.

import { api } from "./api.js";

export function isLive(photo) {
  return Boolean(photo.live_playback) || photo.media_type === "live" || Boolean(photo.subtypes?.includes("live"));
}

const urls = new Map(); // photo id → a promise of its motion's URL (pre-signed for an hour)

function motionUrl(id) {
  if (!urls.has(id)) {
    const found = api(`/api/photos/${id}/playback?kind=live_video`).then((p) => p.url);
    found.catch(() => urls.delete(id));
    urls.set(id, found);
  }
  return urls.get(id);
}

/** Play the Live motion of `photoId` over `host` (positioned) until `stop()`. */
export function playMotion(host, photoId) {
  let video = null;
  let stopped = false;
  motionUrl(photoId).then((url) => {
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

/** Hover and press-and-hold on the Live elements under `root` (matched by `selector`). */
export function livePlayer(root, selector, idOf) {
  let current = null;
  const start = (event) => {
    const el = event.target.closest?.(selector);
    if (!el || current?.el === el) return;
    stop();
    const id = idOf(el);
    if (id) current = { el, stop: playMotion(el, id) };
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
