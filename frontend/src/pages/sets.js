// Publish sets: the list, and one set's page (photos large in order, drag to reorder, a note,
// click a photo to set its focal point, a zip per preset, share links with their view counts).

import { api, thumbnailUrl } from "../api.js";
import { imageAttrs } from "../srcset.js";
import { download, shareRenditions } from "../share.js";

// A set's card is at most 440 CSS px wide, 4:3 (styles.css .set-list): a 3:2 cover cropped to it
// needs about 500 px. The listing has no sizes or dimensions for the cover, so all three.
const coverAttrs = (id) => imageAttrs({ id, thumbnails: { small: true, medium: true, large: true } }, 500);
import { ago, count, esc } from "../format.js";
import { presetOptions, shareControls, shareForm, shareListHtml } from "../sharing.js";

export function setsPage(main) {
  document.title = "Sets · Image Assistant";
  main.innerHTML = `<div class="toolbar"><h1>Publish sets</h1><a href="/sets/presets">Export presets</a></div><div class="sets" aria-busy="true"></div>`;
  const list = main.querySelector(".sets");
  api("/api/publish-sets").then(({ publish_sets: sets }) => {
    list.removeAttribute("aria-busy");
    if (!sets.length) {
      list.innerHTML = `<p class="empty">No sets yet. In Photos, press Select, pick the photos of a shoot and
        choose Create set.</p>`;
      return;
    }
    list.innerHTML = `<ul class="set-list">${sets.map((s) => `<li><a href="/sets/${s.id}">
      ${s.cover_id ? `<img ${coverAttrs(s.cover_id)} alt="" loading="lazy">` : '<span class="ph"></span>'}
      <span class="set-title">${esc(s.title)}</span>
      <span class="set-meta">${count(s.photo_count, "photo")} · changed ${esc(ago(s.updated_at))}</span></a></li>`).join("")}</ul>`;
  }, (error) => {
    list.textContent = `Could not load the sets: ${error.message}`;
  });
}

export function setPage(main, { match, navigate }) {
  const id = match[1];
  document.title = "Set · Image Assistant";
  main.innerHTML = '<p aria-busy="true">Loading the set…</p>';
  let photos = [];
  let set = null;

  const save = (body) => api(`/api/publish-sets/${id}`, { method: "PUT", body }).then((fresh) => {
    set = fresh;
    photos = fresh.photos;
    return fresh;
  });

  function photoItem(p, i) {
    const { x, y } = p.focal_point;
    return `<li class="set-photo" draggable="true" data-id="${p.id}">
      <span class="order" aria-label="Number ${i + 1}">${i + 1}</span>
      <div class="frame" title="Click to set the point crops keep" style="aspect-ratio:${p.width || 4}/${p.height || 3}">
        <img src="${thumbnailUrl(p.id, "large")}" alt="${esc(p.filename)}" draggable="false">
        <span class="focal" style="left:${x * 100}%;top:${y * 100}%" aria-hidden="true"></span>
      </div>
      <button type="button" class="remove" aria-label="Remove ${esc(p.filename)} from the set">×</button>
    </li>`;
  }

  function renderPhotos() {
    const ol = main.querySelector(".set-photos");
    ol.innerHTML = photos.map(photoItem).join("");
    main.querySelector(".photo-count").textContent = count(photos.length, "photo");
  }

  function render(presets) {
    const options = presetOptions(presets);
    main.innerHTML = `<div class="toolbar set-head">
        <h1><input class="title" aria-label="Set title" value="${esc(set.title)}" maxlength="200"></h1>
        <span class="photo-count"></span>
        <button type="button" class="delete-set">Delete set</button>
      </div>
      <label class="note">Note <textarea rows="2" maxlength="10000">${esc(set.note)}</textarea></label>
      <section class="set-actions">
        <form class="download"><label>Preset <select name="preset">${options}</select></label>
          <button>Download zip</button> <button type="button" class="share-files">Share…</button>
          <a href="/sets/presets">Presets…</a>
          <output class="download-status" aria-live="polite"></output>
          <output class="share-state" aria-live="polite"></output></form>
        ${shareForm(presets)}
      </section>
      <ol class="set-photos"></ol>
      ${shareListHtml}`;
    renderPhotos();
    shareControls(main, `/api/publish-sets/${id}`);
    wire();
  }

  // Share…: the chosen preset's renditions, in the set's order, to the share sheet; the zip
  // where the browser cannot share files.
  function shareSet(form) {
    const preset = encodeURIComponent(form.preset.value);
    const state = form.querySelector(".share-state");
    const say = (text, retry) => {
      state.textContent = text;
      if (!retry) return;
      const again = Object.assign(document.createElement("button"), { type: "button", textContent: "Share now" });
      again.addEventListener("click", () => retry());
      state.append(" ", again);
    };
    shareRenditions({
      urls: photos.map((p) => `/api/publish-sets/${id}/photos/${p.id}/rendition?preset=${preset}`),
      title: set.title,
      fallback: () => downloadZip(form.querySelector(".download-status"), id, form.preset.value),
      say,
    });
  }

  function wire() {
    main.querySelector(".title").addEventListener("change", (e) => save({ title: e.target.value }));
    main.querySelector(".note textarea").addEventListener("change", (e) => save({ note: e.target.value }));
    main.querySelector(".delete-set").addEventListener("click", async () => {
      if (!confirm(`Delete the set “${set.title}”? Its share links stop working.`)) return;
      await api(`/api/publish-sets/${id}`, { method: "DELETE" });
      navigate("/sets");
    });
    main.querySelector(".download").addEventListener("submit", (e) => {
      e.preventDefault();
      downloadZip(main.querySelector(".download-status"), id, e.target.preset.value);
    });
    main.querySelector(".share-files").addEventListener("click", (e) => shareSet(e.target.form));
    const ol = main.querySelector(".set-photos");
    // A thumbnail still being made leaves its frame as a placeholder of the photo's shape.
    ol.addEventListener("error", (e) => {
      if (e.target.tagName === "IMG") e.target.style.visibility = "hidden";
    }, true);
    ol.addEventListener("click", (e) => {
      const item = e.target.closest(".set-photo");
      if (!item) return;
      if (e.target.closest(".remove")) {
        save({ photo_ids: photos.filter((p) => p.id !== item.dataset.id).map((p) => p.id) }).then(renderPhotos);
        return;
      }
      const img = e.target.closest(".frame")?.querySelector("img");
      if (!img) return;
      const box = img.getBoundingClientRect();
      const x = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
      const y = Math.min(1, Math.max(0, (e.clientY - box.top) / box.height));
      const marker = item.querySelector(".focal");
      marker.style.left = `${x * 100}%`;
      marker.style.top = `${y * 100}%`;
      save({ focal_points: { [item.dataset.id]: { x: Number(x.toFixed(3)), y: Number(y.toFixed(3)) } } });
    });
    let dragged = null;
    ol.addEventListener("dragstart", (e) => {
      dragged = e.target.closest(".set-photo");
      dragged?.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
    });
    ol.addEventListener("dragover", (e) => {
      const over = e.target.closest(".set-photo");
      if (!dragged || !over || over === dragged) return;
      e.preventDefault();
      const box = over.getBoundingClientRect();
      const after = e.clientX > box.left + box.width / 2;
      over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
    });
    ol.addEventListener("dragend", () => {
      dragged?.classList.remove("dragging");
      dragged = null;
      const order = [...ol.querySelectorAll(".set-photo")].map((li) => li.dataset.id);
      if (order.join() === photos.map((p) => p.id).join()) return;
      save({ photo_ids: order }).then(renderPhotos);
    });
  }

  Promise.all([api(`/api/publish-sets/${id}`), api("/api/presets")]).then(([fresh, { presets }]) => {
    set = fresh;
    photos = fresh.photos;
    document.title = `${set.title} · Image Assistant`;
    render(presets);
  }, (error) => {
    main.innerHTML = `<h1>Not found</h1><p>${esc(error.message)}. <a href="/sets">All sets</a></p>`;
  });
}

// The page asks whether the zip would stream now (a large set is first rendered in the queue:
// the page shows its progress meanwhile), then lets the browser fetch the zip once, saving it
// as it streams (never in memory).
const POLL_MS = 1000;

async function downloadZip(status, id, preset) {
  const query = `?preset=${encodeURIComponent(preset)}`;
  const url = `/api/publish-sets/${id}/download${query}`;
  const button = status.closest("form").querySelector("button");
  button.disabled = true;
  status.textContent = "";
  try {
    for (let asked = 0; ; asked++) {
      const { state, done, total } = await api(`/api/publish-sets/${id}/download/state${query}`);
      if (state === "ready") {
        if (asked) {
          status.querySelector("progress").value = total;
          status.append(" Ready: downloading.");
        }
        download(url);
        return;
      }
      status.innerHTML = `<progress max="${total}" value="${done}"></progress> Rendering ${done} of ${total} photos…`;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (!status.isConnected) return; // the page was left
    }
  } catch (error) {
    status.innerHTML = `<span class="error">Could not download: ${esc(error.message)}</span>`;
  } finally {
    button.disabled = false;
  }
}
