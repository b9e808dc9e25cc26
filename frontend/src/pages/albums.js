// Albums in the folders the user made in Photos.app, and one album's grid in its own order.

import { api } from "../api.js";
import { imageAttrs } from "../srcset.js";
import { count, esc } from "../format.js";
import { PhotoGrid, pager } from "../grid.js";
import { openLightbox } from "../lightbox.js";
import { shareControls, shareForm, shareListHtml } from "../sharing.js";

const FOLDER_ICON = `<svg aria-hidden="true" class="icon" viewBox="0 0 24 24" width="18" height="18">
  <path d="M3 6.5A1.5 1.5 0 0 1 4.5 5h4.3l2 2h8.7A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z"
  fill="currentColor" opacity=".75"/></svg>`;
const KIND_ORDER = { favorites: 0, smart: 1, shared: 2, user: 3 };
const KIND_BADGE = { favorites: "♥ Favorites", smart: "Smart album", shared: "Shared" };

function tree(albums) {
  const root = { name: "", path: [], folders: new Map(), albums: [] };
  for (const album of albums) {
    let node = root;
    for (const name of album.folder_path) {
      if (!node.folders.has(name)) {
        node.folders.set(name, { name, path: [...node.path, name], folders: new Map(), albums: [] });
      }
      node = node.folders.get(name);
    }
    node.albums.push(album);
  }
  return root;
}

// A cover is a square at most 300 CSS px wide (styles.css .album-list: columns of 150 px and up);
// a 3:2 photo cropped to it needs 1.5 times that.
const COVER_PX = 450;

function cover(album) {
  const c = album.cover;
  if (c && c.thumbnail_status === "completed") {
    // The album's cover comes without sizes or dimensions: offer all three.
    const photo = { id: c.id, thumbnails: { small: true, medium: true, large: true } };
    return `<img ${imageAttrs(photo, COVER_PX)} alt="" loading="lazy" decoding="async">`;
  }
  const mark = c && c.thumbnail_status === "failed" ? '<span class="mark" aria-hidden="true">!</span>' : "";
  return `<span class="ph${c ? "" : " is-empty"}" aria-hidden="true">${mark}</span>`;
}

function card(album) {
  const kind = KIND_BADGE[album.album_type];
  const badge = kind ? `<span class="kind kind-${album.album_type}">${kind}</span>` : "";
  return `<li><a class="album-card" href="/albums/${album.id}" data-album-id="${album.id}">
      <span class="cover">${cover(album)}</span>
      <span class="album-title">${esc(album.title)}</span>
      <span class="album-meta">${count(album.photo_count, "photo")} ${badge}</span>
    </a></li>`;
}

function cards(albums) {
  return albums.length ? `<ul class="album-list">${albums.map(card).join("")}</ul>` : "";
}

function folderHtml(node, depth) {
  const albums = [...node.albums].sort(
    (a, b) => (KIND_ORDER[a.album_type] ?? 9) - (KIND_ORDER[b.album_type] ?? 9),
  );
  const inner = cards(albums) + [...node.folders.values()].map((f) => folderHtml(f, depth + 1)).join("");
  if (depth === 0) return inner;
  const level = Math.min(depth + 1, 6);
  const total = node.albums.length + node.folders.size;
  return `<details class="folder" open data-folder="${esc(node.path.join("/"))}">
      <summary><span role="heading" aria-level="${level}" class="folder-title">
        ${FOLDER_ICON} ${esc(node.name)}</span>
        <span class="folder-meta">${count(total, "item")}</span></summary>
      <div class="folder-body">${inner}</div>
    </details>`;
}

export function albumsPage(main) {
  document.title = "Albums · Image Assistant";
  main.innerHTML = '<div class="toolbar"><h1>Albums</h1></div><div class="albums" aria-busy="true"></div>';
  const body = main.querySelector(".albums");
  api("/api/albums").then(({ albums }) => {
    body.removeAttribute("aria-busy");
    body.innerHTML = albums.length
      ? folderHtml(tree(albums), 0)
      : '<p class="empty">No albums yet. Albums you make in Photos.app appear here after the next sync.</p>';
  }, (error) => {
    body.innerHTML = `<p class="error">Could not load albums: ${esc(error.message)}</p>`;
  });
  return null;
}

export function albumPage(main, { match }) {
  const id = match[1];
  main.innerHTML = `<div class="toolbar album-head"><p class="crumbs"><a href="/albums">Albums</a></p>
      <h1>Album</h1><p class="album-meta"></p>
      <button type="button" class="share-album" aria-expanded="false" aria-controls="album-share">Share…</button></div>
      <section id="album-share" class="album-share" hidden></section><div class="photos"></div>`;
  main.querySelector(".share-album").addEventListener("click", (e) => toggleSharing(main, id, e.currentTarget));
  const fetchPage = pager(`/api/albums/${id}`);
  let described = false;
  const grid = new PhotoGrid(main.querySelector(".photos"), {
    fetchPage: async (cursor) => {
      const page = await fetchPage(cursor);
      if (!described) {
        described = true;
        describe(main, page.page);
      }
      return page;
    },
    groupBy: null,
    empty: "This album is empty.",
    onOpen: openLightbox,
  });
  grid.loadMore().catch((error) => {
    if (error.status === 404) main.querySelector("h1").textContent = "Album not found";
  });
  return () => grid.destroy();
}

function describe(main, album) {
  document.title = `${album.title} · Image Assistant`;
  main.querySelector("h1").textContent = album.title;
  const crumbs = ['<a href="/albums">Albums</a>', ...album.folder_path.map(esc)];
  main.querySelector(".crumbs").innerHTML = crumbs.join(' <span aria-hidden="true">›</span> ');
  const kind = KIND_BADGE[album.album_type];
  main.querySelector(".album-meta").innerHTML =
    `${count(album.photo_count, "photo")}${kind ? ` · <span class="kind">${kind}</span>` : ""}
     · <a href="/?album=${album.id}">Show in Photos by date</a>`;
}

// The album's share links: a link follows the album as it changes (photos added or removed in
// Photos.app show to whoever holds it after the next sync).
async function toggleSharing(main, id, button) {
  const panel = main.querySelector(".album-share");
  const open = panel.hidden;
  panel.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (!open || panel.childElementCount) return;
  panel.setAttribute("aria-busy", "true");
  try {
    const { presets } = await api("/api/presets");
    panel.innerHTML = `<p class="hint">Anyone with a link sees this album as it is when they open it.</p>
      ${shareForm(presets, { label: "Create album link" })}${shareListHtml}`;
    await shareControls(panel, `/api/albums/${id}`);
  } catch (error) {
    panel.innerHTML = `<p class="error">Could not load the sharing options: ${esc(error.message)}</p>`;
  } finally {
    panel.removeAttribute("aria-busy");
  }
}
