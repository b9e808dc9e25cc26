// Photos, the landing page: the whole library newest first, or one album's photos, as a grid.

import { api } from "../api.js";
import { esc } from "../format.js";
import { PhotoGrid, pager } from "../grid.js";
import { openLightbox } from "../lightbox.js";
import { Selection } from "../selection.js";

const GROUP_KEY = "ia.groupBy";

function groupChoice() {
  return localStorage.getItem(GROUP_KEY) === "month" ? "month" : "day";
}

function albumOptions(albums, selected) {
  return albums
    .map((a) => {
      const path = [...a.folder_path, a.title].join(" › ");
      const chosen = a.id === selected ? " selected" : "";
      return `<option value="${a.id}"${chosen}>${esc(path)} (${a.photo_count})</option>`;
    })
    .join("");
}

export function photosPage(main, { params, navigate }) {
  document.title = "Photos · Image Assistant";
  const album = params.get("album") || "";
  const groupBy = groupChoice();
  main.innerHTML = `<div class="toolbar">
      <h1>Photos</h1>
      <label class="filter">Album
        <select name="album"><option value="">All photos</option></select></label>
      <div class="seg" role="group" aria-label="Group by">
        <button type="button" data-group="day" aria-pressed="${groupBy === "day"}">Days</button>
        <button type="button" data-group="month" aria-pressed="${groupBy === "month"}">Months</button>
      </div>
      <button type="button" class="select-toggle" aria-pressed="false">Select</button>
    </div>
    <div class="photos"></div>`;
  const select = main.querySelector("select");
  const fillAlbums = () => api("/api/albums").then(({ albums }) => {
    select.insertAdjacentHTML("beforeend", albumOptions(albums, album));
  }, () => {});
  select.addEventListener("change", () => {
    navigate(select.value ? `/?album=${select.value}` : "/", { replace: true });
  });
  main.querySelector(".seg").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-group]");
    if (!button) return;
    localStorage.setItem(GROUP_KEY, button.dataset.group);
    navigate(location.pathname + location.search, { replace: true });
  });
  const path = album ? `/api/photos?album_id=${encodeURIComponent(album)}` : "/api/photos";
  const grid = new PhotoGrid(main.querySelector(".photos"), {
    fetchPage: pager(path),
    groupBy,
    empty: album
      ? "No photos in this album."
      : "No photos yet. Pair a device on the Devices page and its photos appear here as they sync.",
    onOpen: openLightbox,
  });
  // The album list waits for the first screen of photos: it is not what the user came for.
  const selection = new Selection(grid, main.querySelector(".select-toggle"), { navigate });
  grid.loadMore().catch(() => {}).finally(fillAlbums);
  return () => {
    selection.destroy();
    grid.destroy();
  };
}
