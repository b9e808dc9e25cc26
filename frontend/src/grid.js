// A justified grid of photos fed page by page from a cursor API, grouped by day or month.
//
// Every tile's box comes from the API's width/height before any pixel arrives, so nothing
// moves when thumbnails load. Pending thumbnails show a placeholder and are re-checked
// while visible; failed ones carry a mark.

import { api, thumbnailUrl } from "./api.js";
import { altText, count, dayKey, esc, groupTitle, monthKey } from "./format.js";

const AHEAD = "0px 0px 2000px 0px"; // start fetching two screens before the end
const RECHECK_MS = 5000;
const RECHECK_BATCH = 24;
const GROUPERS = { day: dayKey, month: monthKey };

export function aspect(photo) {
  const { width, height } = photo;
  if (!width || !height) return 1;
  return Math.min(Math.max(width / height, 0.25), 5);
}

function state(photo) {
  if (photo.thumbnails?.small) return "ready";
  if (photo.thumbnail_status === "failed") return "failed";
  if (!photo.has_original) return "waiting";
  return "pending";
}

const STATE_LABELS = {
  pending: "preview being made",
  waiting: "original not uploaded yet",
  failed: "preview failed",
};

function badge(photo) {
  if (photo.media_type === "video") return '<span class="badge" aria-hidden="true">▶ Video</span>';
  if (photo.media_type === "live") return '<span class="badge" aria-hidden="true">Live</span>';
  return "";
}

export function tileInner(photo) {
  const status = state(photo);
  const alt = esc(altText(photo));
  const fav = photo.is_favorite ? '<span class="fav" aria-hidden="true">♥</span>' : "";
  if (status === "ready") {
    return `<i style="padding-bottom:${100 / aspect(photo)}%"></i><img src="${thumbnailUrl(photo.id, "small")}"
      alt="${alt}" loading="lazy" decoding="async" draggable="false">${badge(photo)}${fav}`;
  }
  const mark = status === "failed" ? '<span class="mark" aria-hidden="true">!</span>' : "";
  return `<i style="padding-bottom:${100 / aspect(photo)}%"></i><span class="ph" role="img"
    aria-label="${alt} (${STATE_LABELS[status]})">${mark}</span>${badge(photo)}${fav}`;
}

function tileHtml(photo, index) {
  const status = state(photo);
  const title = status === "failed" ? ` title="${esc(photo.thumbnail_error || "The preview could not be made")}"` : "";
  return `<button type="button" class="tile is-${status}" data-id="${photo.id}" data-index="${index}"
    style="--r:${aspect(photo)}"${title}>${tileInner(photo)}</button>`;
}

export class PhotoGrid {
  /**
   * @param {HTMLElement} root where the grid goes
   * @param {{fetchPage: (cursor: string|null) => Promise<{photos: object[], next: string|null}>,
   *          groupBy: "day"|"month"|null, empty: string, onOpen: (grid: PhotoGrid, index: number) => void}} options
   */
  constructor(root, options) {
    this.options = options;
    this.photos = [];
    this.ids = new Set();
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.destroyed = false;
    this.visiblePending = new Set();
    root.innerHTML = `<div class="grid" aria-live="off"></div>
      <div class="grid-end" role="status"><span class="spinner" aria-hidden="true"></span> Loading photos…</div>`;
    this.gridEl = root.querySelector(".grid");
    this.endEl = root.querySelector(".grid-end");
    this.lastGroup = null;
    this.lastTiles = null;
    this.gridEl.addEventListener("click", (event) => this.onClick(event));
    this.gridEl.addEventListener("error", (event) => this.onImageError(event), true);
    this.endEl.addEventListener("click", (event) => {
      if (event.target.closest("button.retry")) this.loadMore();
    });
    this.endObserver = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { rootMargin: AHEAD });
    this.endObserver.observe(this.endEl);
    // The observer only reports changes: a jump to the end (End key, scrollbar drag) while a
    // page is loading leaves the end visible throughout, so scrolling checks too.
    this.onScroll = () => {
      if (this.scrollQueued) return;
      this.scrollQueued = true;
      requestAnimationFrame(() => {
        this.scrollQueued = false;
        this.continueIfNeeded();
      });
    };
    window.addEventListener("scroll", this.onScroll, { passive: true });
    this.pendingObserver = new IntersectionObserver((entries) => this.trackPending(entries), {
      rootMargin: "200px",
    });
    this.recheckTimer = setInterval(() => this.recheck(), RECHECK_MS);
  }

  destroy() {
    this.destroyed = true;
    window.removeEventListener("scroll", this.onScroll);
    this.endObserver.disconnect();
    this.pendingObserver.disconnect();
    clearInterval(this.recheckTimer);
  }

  /** The next page, once at a time; resolves when it is on screen. */
  loadMore() {
    if (this.done || this.destroyed) return Promise.resolve();
    if (!this.loading) {
      this.loading = this.fetchAndAppend().finally(() => {
        this.loading = null;
        this.continueIfNeeded();
      });
    }
    return this.loading;
  }

  async fetchAndAppend() {
    this.endEl.innerHTML = '<span class="spinner" aria-hidden="true"></span> Loading photos…';
    try {
      const page = await this.options.fetchPage(this.cursor);
      if (this.destroyed) return;
      this.append(page.photos);
      this.cursor = page.next;
      this.done = !page.next;
      if (this.done) this.showEnd();
      else this.endEl.textContent = "";
    } catch (error) {
      if (this.destroyed) return;
      this.endEl.innerHTML = `Could not load photos: ${esc(error.message)}
        <button type="button" class="retry">Try again</button>`;
      throw error;
    }
  }

  continueIfNeeded() {
    if (this.done || this.destroyed || this.loading || !this.endEl.isConnected) return;
    const top = this.endEl.getBoundingClientRect().top;
    if (top < window.innerHeight + 2000) this.loadMore();
  }

  showEnd() {
    if (!this.done) return;
    this.endEl.classList.add("is-done");
    this.endEl.textContent = this.photos.length
      ? `${count(this.photos.length, "photo")}, that's everything.`
      : this.options.empty;
    this.endEl.dataset.total = String(this.photos.length);
  }

  groupOf(photo) {
    const by = GROUPERS[this.options.groupBy];
    return by ? by(photo.taken_at) : "all";
  }

  append(photos) {
    let html = "";
    const flush = () => {
      if (html) this.lastTiles.insertAdjacentHTML("beforeend", html);
      html = "";
    };
    const first = this.photos.length;
    for (const photo of photos) {
      if (this.ids.has(photo.id)) continue; // a page boundary must never show a photo twice
      const group = this.groupOf(photo);
      if (group !== this.lastGroup) {
        flush();
        this.startGroup(group);
      }
      this.ids.add(photo.id);
      html += tileHtml(photo, this.photos.length);
      this.photos.push(photo);
    }
    flush();
    // Only thumbnails being made are asked after; a missing original arrives with a later sync.
    for (const tile of this.gridEl.querySelectorAll(".tile.is-pending:not([data-watched])")) {
      if (Number(tile.dataset.index) < first) continue;
      tile.dataset.watched = "";
      this.pendingObserver.observe(tile);
    }
  }

  startGroup(group) {
    const section = document.createElement("section");
    section.className = "group";
    section.dataset.group = group;
    if (this.options.groupBy) {
      const id = `g-${group}`;
      section.setAttribute("aria-labelledby", id);
      section.innerHTML = `<h2 class="group-title" id="${id}">${esc(groupTitle(group))}</h2>`;
    }
    const tiles = document.createElement("div");
    tiles.className = "tiles";
    section.append(tiles);
    this.gridEl.append(section);
    this.lastGroup = group;
    this.lastTiles = tiles;
  }

  onClick(event) {
    const tile = event.target.closest(".tile");
    if (tile) this.options.onOpen(this, Number(tile.dataset.index));
  }

  onImageError(event) {
    const tile = event.target.closest?.(".tile");
    if (!tile || event.target.tagName !== "IMG") return;
    tile.className = "tile is-failed";
    event.target.replaceWith(Object.assign(document.createElement("span"), { className: "ph" }));
  }

  tile(index) {
    return this.gridEl.querySelector(`.tile[data-index="${index}"]`);
  }

  focusTile(index) {
    const tile = this.tile(index);
    if (!tile) return;
    tile.scrollIntoView({ block: "nearest" });
    tile.focus({ preventScroll: true });
  }

  trackPending(entries) {
    for (const entry of entries) {
      const id = entry.target.dataset.id;
      if (entry.isIntersecting) this.visiblePending.add(id);
      else this.visiblePending.delete(id);
    }
  }

  /** Visible placeholders ask again whether their thumbnail is ready. */
  async recheck() {
    const ids = [...this.visiblePending].slice(0, RECHECK_BATCH);
    if (!ids.length || document.hidden) return;
    const fresh = await Promise.all(ids.map((id) => api(`/api/photos/${id}`).catch(() => null)));
    for (const photo of fresh) {
      if (photo && !this.destroyed) this.refresh(photo);
    }
  }

  refresh(photo) {
    const tile = this.gridEl.querySelector(`.tile[data-id="${photo.id}"]`);
    if (!tile) return;
    const index = Number(tile.dataset.index);
    const before = state(this.photos[index]);
    this.photos[index] = photo;
    const after = state(photo);
    if (after === before) return;
    tile.className = `tile is-${after}`;
    tile.innerHTML = tileInner(photo);
    if (after !== "pending") {
      this.pendingObserver.unobserve(tile);
      this.visiblePending.delete(photo.id);
    }
  }
}

/** A cursor page fetcher over any list endpoint with `photos` and `next_cursor`. */
export function pager(path, limit = 100) {
  return async (cursor) => {
    const sep = path.includes("?") ? "&" : "?";
    const query = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await api(path + query, { priority: "high" });
    return { photos: page.photos, next: page.next_cursor, page };
  };
}
