// The lightbox's info panel: title, caption, keywords, people, place, coordinates (with a link to
// open them in a map site; nothing is loaded from there), camera and exposure, the files with
// their sizes and downloads, and the albums the photo is in.

import { api } from "./api.js";
import { bytes, captureTime, esc, place } from "./format.js";

const FILE_LABELS = {
  original: "Original",
  edited: "Edited version",
  live_video: "Live video",
  edited_live_video: "Edited Live video",
  raw: "RAW",
};

function row(label, value) {
  return value ? `<dt>${esc(label)}</dt><dd>${value}</dd>` : "";
}

function list(items, cls) {
  if (!items?.length) return "";
  return `<ul class="${cls}">${items.map((item) => `<li>${esc(item)}</li>`).join("")}</ul>`;
}

function exposure(camera) {
  if (!camera) return "";
  const parts = [];
  if (camera.aperture) parts.push(`ƒ/${camera.aperture}`);
  if (camera.shutter) {
    const s = Number(camera.shutter);
    parts.push(s > 0 && s < 1 ? `1/${Math.round(1 / s)} s` : `${camera.shutter} s`);
  }
  if (camera.focal_length) parts.push(`${camera.focal_length} mm`);
  if (camera.iso) parts.push(`ISO ${camera.iso}`);
  return parts.join(" · ");
}

function mapLink(location) {
  if (!location) return "";
  const { lat, lng } = location;
  const href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=15/${lat}/${lng}`;
  return `${esc(place(location))} <a href="${esc(href)}" target="_blank" rel="noopener noreferrer">Open in map</a>`;
}

function filesList(photo) {
  const files = photo.files ?? [];
  if (!files.length) return "";
  return `<ul class="info-files">${files.map((f) => {
    const label = FILE_LABELS[f.kind] ?? f.kind;
    const href = `/api/photos/${photo.id}/download/${encodeURIComponent(f.kind)}?redirect=true`;
    return `<li><span>${esc(label)}: ${esc(f.filename || "")} <span class="hint">${esc(bytes(f.size))}</span></span>
      <a href="${href}" download>Download</a></li>`;
  }).join("")}</ul>`;
}

/** The panel's HTML for the photo with id `id` (its details and albums asked from the API). */
export async function infoHtml(id) {
  const [photo, albums] = await Promise.all([
    api(`/api/photos/${id}`),
    api(`/api/photos/${id}/albums`).then((a) => a.albums, () => []),
  ]);
  const where = photo.place
    ? [photo.place.name, photo.place.city, photo.place.country].filter(Boolean).join(", ")
    : "";
  const camera = photo.camera
    ? [photo.camera.make, photo.camera.model].filter(Boolean).join(" ")
    : "";
  return `<h2 class="info-title">${esc(photo.title || photo.filename || "Untitled")}</h2>
    ${photo.description ? `<p class="info-caption">${esc(photo.description)}</p>` : ""}
    <dl class="info-facts">
      ${row("Taken", esc(captureTime(photo.taken_at)))}
      ${row("Keywords", list(photo.keywords, "info-keywords"))}
      ${row("People", list(photo.persons, "info-people"))}
      ${row("Place", esc(where))}
      ${row("Coordinates", mapLink(photo.location))}
      ${row("Camera", esc(camera))}
      ${row("Lens", esc(photo.camera?.lens || ""))}
      ${row("Exposure", esc(exposure(photo.camera)))}
      ${row("Size", photo.width && photo.height ? esc(`${photo.width} × ${photo.height}`) : "")}
      ${row("Files", filesList(photo))}
      ${row("Albums", albums.length ? `<ul class="info-albums">${albums.map((a) =>
        `<li><a href="/albums/${esc(a.id)}">${esc(a.title)}</a></li>`).join("")}</ul>` : "")}
    </dl>`;
}

/** Fill `panel` for the photo; a later call wins over an earlier one still on its way. */
export async function infoPanel(panel, id) {
  panel.dataset.photoId = id;
  panel.setAttribute("aria-busy", "true");
  try {
    const html = await infoHtml(id);
    if (panel.dataset.photoId === id) panel.innerHTML = `<button type="button" class="info-close" aria-label="Close info">×</button>${html}`;
  } catch (error) {
    if (panel.dataset.photoId === id) panel.innerHTML = `<p class="error">Could not load the info: ${esc(error.message)}</p>`;
  } finally {
    panel.removeAttribute("aria-busy");
  }
}
