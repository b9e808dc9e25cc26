// The People and Places views: the named people (and the places) of the library with how many photos show
// them and a cover; each opens the same grid as Photos, filtered to them.

import { api } from "../api.js";
import { aspect } from "../grid.js";
import { pictureHtml } from "../srcset.js";
import { count, esc } from "../format.js";
import { viewLinks } from "./photos.js";

function cover(item) {
  const c = item.cover;
  // A square of at most 300 CSS px (styles.css .album-list), the photo cropped to fill it.
  const shown = 300 * Math.max(aspect(c ?? {}), 1 / aspect(c ?? {}));
  if (c?.thumbnails?.small) return pictureHtml(c, shown, 'alt="" loading="lazy" decoding="async"');
  return '<span class="ph" aria-hidden="true"></span>';
}

function cards(items, href, title) {
  return `<ul class="album-list">${items.map((item) => `<li><a class="album-card view-card" href="${href(item)}">
      <span class="cover">${cover(item)}</span>
      <span class="album-title">${esc(title(item))}</span>
      <span class="album-meta">${count(item.count, "photo")}</span></a></li>`).join("")}</ul>`;
}

function listPage(main, { view, heading, path, key, href, title, empty }) {
  document.title = `${heading} · Image Assistant`;
  main.innerHTML = `<div class="toolbar"><h1>${heading}</h1></div>
    <nav class="views" aria-label="Views">${viewLinks(view)}</nav><div class="cards" aria-busy="true"></div>`;
  const body = main.querySelector(".cards");
  api(path).then((answer) => {
    const items = answer[key];
    body.removeAttribute("aria-busy");
    body.innerHTML = items.length ? cards(items, href, title) : `<p class="empty">${empty}</p>`;
  }, (error) => {
    body.innerHTML = `<p class="error" role="alert">Could not load: ${esc(error.message)}</p>`;
  });
  return null;
}

export function personsPage(main) {
  return listPage(main, {
    view: "people",
    heading: "People",
    path: "/api/people",
    key: "people",
    href: (p) => `/?person=${encodeURIComponent(p.name)}`,
    title: (p) => p.name,
    empty: "No named people yet: people named in Photos appear here.",
  });
}

export function placesPage(main) {
  return listPage(main, {
    view: "places",
    heading: "Places",
    path: "/api/places",
    key: "places",
    href: (p) => `/?place=${encodeURIComponent(p.name)}`,
    title: (p) => [p.name, p.country].filter(Boolean).join(", "),
    empty: "No places yet: photos with a place in Photos appear here.",
  });
}
