// Photos, the landing page: the library newest first as one grid, narrowed by a search, filter
// chips, a date range, an album or a view (Favorites, Videos, a person, a place, Hidden,
// Recently Deleted). The URL holds all of it, so a search can be shared and Back undoes it.

import { api } from "../api.js";
import { esc } from "../format.js";
import { PhotoGrid, pager } from "../grid.js";
import { openLightbox } from "../lightbox.js";
import { Selection } from "../selection.js";
import { Scrubber, afterMonth } from "../scrubber.js";

const GROUP_KEY = "ia.groupBy";
const TYPING_MS = 250;
let searching = false; // the search box had the focus when the page was drawn again
let typed = false; // this search already has its history entry: further keystrokes update it

// The views of the library: each one is a set of URL parameters of the same grid.
export const VIEWS = [
  ["", "All photos"],
  ["favorites", "Favorites"],
  ["videos", "Videos"],
  ["people", "People", "/people"],
  ["places", "Places", "/places"],
  ["hidden", "Hidden"],
  ["deleted", "Recently Deleted"],
];
const CHIPS = [
  ["live", "Live"],
  ["raw", "RAW"],
  ["screenshot", "Screenshots"],
  ["selfie", "Selfies"],
  ["panorama", "Panoramas"],
  ["burst", "Bursts"],
];
// URL parameters of the page that go to the API as they are (album is album_id there).
const PASSED = ["q", "subtype", "from", "to", "person", "place"];

function groupChoice() {
  return localStorage.getItem(GROUP_KEY) === "month" ? "month" : "day";
}

/** The API query for the page's URL parameters. */
export function apiQuery(params) {
  const query = new URLSearchParams();
  for (const name of PASSED) {
    const value = params.get(name);
    if (value) query.set(name, value);
  }
  if (params.get("album")) query.set("album_id", params.get("album"));
  const view = params.get("view");
  if (view === "favorites") query.set("favorite", "true");
  if (view === "videos") query.set("media_type", "video");
  if (view === "hidden") query.set("hidden", "true");
  if (view === "deleted") query.set("deleted", "true");
  return query.toString();
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

// What the server answers today (the rest of VIEWS and the search come with it).
const READY = new Set(["", "favorites", "videos", "people", "places", "hidden", "deleted"]);

export function viewLinks(current) {
  return VIEWS.filter(([key]) => READY.has(key)).map(([key, label, href]) => {
    const url = href ?? (key ? `/?view=${key}` : "/");
    const here = key === current ? ' aria-current="page"' : "";
    return `<a href="${url}" data-view="${key}"${here}>${label}</a>`;
  }).join("");
}

function chipButtons(current) {
  return CHIPS.map(([key, label]) =>
    `<button type="button" class="chip" data-subtype="${key}" aria-pressed="${current === key}">${label}</button>`,
  ).join("");
}

/** "Filters", with how many are in use (a view other than all photos counts as one). */
function refineLabel(params) {
  const used = ["view", "subtype", "from", "to", "album"].filter((name) => params.get(name)).length;
  return used ? `Filters (${used})` : "Filters";
}

function heading(params) {
  const view = VIEWS.find(([key]) => key === (params.get("view") || ""));
  if (params.get("person")) return esc(params.get("person"));
  if (params.get("place")) return esc(params.get("place"));
  return view ? view[1] === "All photos" ? "Photos" : view[1] : "Photos";
}

function emptyText(params) {
  if (params.get("q")) return `Nothing matches “${esc(params.get("q"))}”.`;
  const view = params.get("view");
  if (view === "hidden") return "No hidden photos.";
  if (view === "deleted") return "Nothing was deleted recently.";
  if ([...PASSED, "album", "view"].some((name) => params.get(name))) return "No photos match these filters.";
  return "No photos yet. Pair a device on the Devices page and its photos appear here as they sync.";
}

export function photosPage(main, { params, navigate }) {
  const view = params.get("view") || "";
  document.title = `${heading(params)} · Image Assistant`;
  const album = params.get("album") || "";
  const groupBy = groupChoice();
  main.innerHTML = `<div class="toolbar">
      <h1>${heading(params)}</h1>
      <form class="search" role="search">
        <label class="sr-only" for="q">Search photos</label>
        <input id="q" name="q" type="search" placeholder="Search titles, people, places, keywords…"
          autocomplete="off" value="${esc(params.get("q") || "")}">
      </form>
      <div class="seg" role="group" aria-label="Group by">
        <button type="button" data-group="day" aria-pressed="${groupBy === "day"}">Days</button>
        <button type="button" data-group="month" aria-pressed="${groupBy === "month"}">Months</button>
      </div>
      <button type="button" class="select-toggle" aria-pressed="false">Select</button>
      <button type="button" class="refine-toggle" aria-expanded="false" aria-controls="refine">${refineLabel(params)}</button>
    </div>
    <div class="refine" id="refine">
    <nav class="views" aria-label="Views">${viewLinks(view)}</nav>
    <div class="filters">
      <div class="chips" role="group" aria-label="Kind">${chipButtons(params.get("subtype") || "")}</div>
      <label class="filter">From <input type="date" name="from" value="${esc(params.get("from") || "")}"></label>
      <label class="filter">To <input type="date" name="to" value="${esc(params.get("to") || "")}"></label>
      <label class="filter">Album
        <select name="album"><option value="">All albums</option></select></label>
    </div>
    </div>
    <div class="photos-area"><div class="photos"></div><div class="rail"></div></div>`;

  /** The same page with some URL parameters changed: a new entry in the history, or in place. */
  const go = (changes, { replace = false } = {}) => {
    const next = new URLSearchParams(location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    const query = next.toString();
    navigate(query ? `/?${query}` : "/", { replace });
  };

  // On a phone the views and filters fold away behind one button, so the first screen is photos.
  const refineToggle = main.querySelector(".refine-toggle");
  refineToggle.addEventListener("click", () => {
    const open = refineToggle.getAttribute("aria-expanded") !== "true";
    refineToggle.setAttribute("aria-expanded", String(open));
    main.querySelector(".refine").classList.toggle("open", open);
  });

  const select = main.querySelector("select[name=album]");
  const fillAlbums = () => api("/api/albums").then(({ albums }) => {
    select.insertAdjacentHTML("beforeend", albumOptions(albums, album));
  }, () => {});
  select.addEventListener("change", () => go({ album: select.value }));
  for (const input of main.querySelectorAll("input[type=date]")) {
    input.addEventListener("change", () => go({ [input.name]: input.value }));
  }
  main.querySelector(".chips").addEventListener("click", (event) => {
    const chip = event.target.closest("button[data-subtype]");
    if (chip) go({ subtype: chip.getAttribute("aria-pressed") === "true" ? "" : chip.dataset.subtype });
  });
  main.querySelector(".seg").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-group]");
    if (!button) return;
    localStorage.setItem(GROUP_KEY, button.dataset.group);
    navigate(location.pathname + location.search, { replace: true });
  });

  // Typing searches as it goes: the first keystroke makes a history entry, the next ones
  // update it, so Back returns to what was shown before the search.
  const search = main.querySelector("input[name=q]");
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      searching = document.activeElement === search;
      go({ q: search.value.trim() }, { replace: typed });
      typed = true;
    }, TYPING_MS);
  });
  main.querySelector("form.search").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(typing);
    go({ q: search.value.trim() }, { replace: typed });
    typed = false;
  });
  if (searching) {
    search.focus();
    search.setSelectionRange(search.value.length, search.value.length);
  } else {
    typed = false;
  }
  searching = false;

  const query = apiQuery(params);
  const path = query ? `/api/photos?${query}` : "/api/photos";
  const rail = new Scrubber(main.querySelector(".rail"), {
    query,
    onJump: (month) => {
      grid.jumpTo(afterMonth(month)).catch(() => {});
    },
  });
  const grid = new PhotoGrid(main.querySelector(".photos"), {
    fetchPage: pager(path),
    groupBy,
    empty: emptyText(params),
    onOpen: openLightbox,
    onPosition: (photo) => rail.show(photo),
    topInset: () => document.querySelector("header.top")?.getBoundingClientRect().bottom ?? 0,
  });
  // The album list waits for the first screen of photos: it is not what the user came for.
  const selection = new Selection(grid, main.querySelector(".select-toggle"), { navigate });
  grid.loadMore().catch(() => {}).finally(fillAlbums);
  return () => {
    selection.destroy();
    clearTimeout(typing);
    grid.destroy();
  };
}
