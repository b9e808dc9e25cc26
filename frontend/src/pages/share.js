// The public page of a share link (/s/<token>): the set in the link's preset, a lightbox, and
// downloads of one photo or all when the link allows them; a password prompt when it has one.

import PhotoSwipe from "photoswipe";
import { count, esc } from "../format.js";

async function ask(token, path = "", init = {}) {
  const response = await fetch(`/api/shares/${encodeURIComponent(token)}${path}`, {
    credentials: "same-origin",
    ...init,
  });
  const data = await response.json().catch(() => null);
  return { status: response.status, data };
}

/** The size a photo has in the share's preset (never enlarged). */
function shownSize(photo, preset) {
  const w = photo.width || 1600;
  const h = photo.height || 1200;
  if (preset.mode === "crop") {
    const scale = Math.min(1, Math.max(preset.width / w, preset.height / h));
    if (scale < 1) return { width: preset.width, height: preset.height };
    const fit = Math.min(w / preset.width, h / preset.height);
    return { width: Math.floor(preset.width * fit), height: Math.floor(preset.height * fit) };
  }
  if (preset.mode === "fit") {
    const scale = Math.min(1, preset.width / Math.max(w, h));
    return { width: Math.round(w * scale), height: Math.round(h * scale) };
  }
  return { width: w, height: h };
}

export function sharePage(main, { match }) {
  const token = match[1];
  document.title = "Shared photos · Image Assistant";
  main.innerHTML = '<p aria-busy="true">Opening the link…</p>';
  const base = `/api/shares/${encodeURIComponent(token)}`;

  function passwordForm(wrong) {
    main.innerHTML = `<form class="share-password"><h1>This link has a password</h1>
      <label>Password <input name="password" type="password" autocomplete="current-password" required autofocus></label>
      ${wrong ? '<p class="error" role="alert">That password is not right.</p>' : ""}
      <button>Open</button></form>`;
    main.querySelector("form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const { status } = await ask(token, "/unlock", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ password: e.target.password.value }),
      });
      if (status === 204) load();
      else passwordForm(true);
    });
  }

  function show(share) {
    document.title = `${share.title} · Image Assistant`;
    const photos = share.photos;
    const all = share.allow_download
      ? `<a class="button download-all" href="${base}/download" download>Download all (${photos.length})</a>` : "";
    main.innerHTML = `<div class="toolbar share-head"><h1>${esc(share.title)}</h1>
        <span>${count(photos.length, "photo")} · ${esc(share.preset.name)}</span>${all}</div>
      ${share.note ? `<p class="share-note">${esc(share.note)}</p>` : ""}
      <ol class="share-grid">${photos.map((p, i) => {
        const src = p.has_thumbnail ? `${base}/photos/${p.id}/thumbnail` : `${base}/photos/${p.id}`;
        const one = share.allow_download
          ? `<a class="download-one" href="${base}/photos/${p.id}?download=true" download aria-label="Download ${esc(p.name)}">⬇</a>` : "";
        return `<li><button type="button" class="share-tile" data-index="${i}">
          <img src="${src}" alt="${esc(p.name)}" loading="lazy"></button>${one}<span class="order">${p.number}</span></li>`;
      }).join("")}</ol>`;
    main.querySelector(".share-grid").addEventListener("click", (e) => {
      const tile = e.target.closest(".share-tile");
      if (!tile) return;
      const slides = photos.map((p) => ({ src: `${base}/photos/${p.id}`, alt: p.name, ...shownSize(p, share.preset) }));
      new PhotoSwipe({ dataSource: slides, index: Number(tile.dataset.index), bgOpacity: 0.95 }).init();
    });
  }

  async function load() {
    const { status, data } = await ask(token);
    if (status === 200) show(data);
    else if (status === 401) passwordForm(false);
    else if (status === 410) main.innerHTML = "<h1>This link has ended</h1><p>It expired or its owner revoked it.</p>";
    else if (status === 429) main.innerHTML = "<h1>Too many tries</h1><p>Wait a minute, then reload the page.</p>";
    else main.innerHTML = "<h1>No such link</h1><p>Check the address you were given.</p>";
  }
  load();
}
