// A virtualized justified grid of photos fed page by page from a cursor API, grouped by day or month.
//
// The layout (rows of tiles at one height, each tile as wide as its photo's aspect ratio allows)
// is computed here from the API's width/height, before any pixel arrives; only the rows near the
// viewport are in the page, absolutely placed in a box as tall as the whole layout, so a
// 100,000-photo library keeps a few hundred elements. A grid opened further down the timeline
// (a jump of the scrubber) loads newer pages as the reader scrolls up, keeping what is on screen
// where it is. Pending thumbnails show a placeholder and are re-checked while visible.
//
// On a phone each row holds the chosen number of tiles (3, 4 or 5: the Columns control, or a
// two-finger pinch on the grid), remembered in localStorage.

import { api } from "./api.js";
import { altText, count, dayKey, esc, groupTitle, monthKey } from "./format.js";
import { isLive, livePlayer } from "./live.js";
import { pictureHtml } from "./srcset.js";

const AHEAD_PX = 2000; // fetch the next page two screens before the end
const OVERSCAN_PX = 800; // rows kept in the page above and below the viewport
const RECHECK_MS = 5000;
const RECHECK_BATCH = 24;
const GAP = 4;
const HEADER_H = 48;
const NARROW = 640; // px: a phone's width, where rows hold 3-5 tiles
const GROUPERS = { day: dayKey, month: monthKey };
const COLUMNS_KEY = "ia.columns";
const COLUMN_CHOICES = [3, 4, 5];
const PINCH = 1.25; // fingers this much further apart (or closer): one column fewer (or more)

/** The phone grid's tiles a row, as last chosen (3 unless chosen otherwise). */
export function columnChoice() {
  const chosen = Number(localStorage.getItem(COLUMNS_KEY));
  return COLUMN_CHOICES.includes(chosen) ? chosen : COLUMN_CHOICES[0];
}

function densityHtml(current) {
  const buttons = COLUMN_CHOICES.map((n) =>
    `<button type="button" data-columns="${n}" aria-pressed="${n === current}" aria-label="${n} columns">${n}</button>`);
  return `<div class="density seg" role="group" aria-label="Columns">${buttons.join("")}</div>`;
}

function spread(touches) {
  return Math.hypot(touches[0].clientX - touches[1].clientX, touches[0].clientY - touches[1].clientY);
}

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
  if (photo.media_type === "live" || photo.subtypes?.includes("live")) {
    return '<span class="badge" aria-hidden="true">Live</span>';
  }
  if (photo.burst_id) {
    const frames = photo.burst_count > 1 ? ` · ${photo.burst_count}` : "";
    return `<span class="badge" aria-hidden="true">Burst${frames}</span>`;
  }
  return "";
}

/** A tile's content; `box` is its {width, height} in CSS px (the image covers it). */
export function tileInner(photo, box) {
  const status = state(photo);
  const alt = esc(altText(photo));
  const fav = photo.is_favorite ? '<span class="fav" aria-hidden="true">♥</span>' : "";
  if (status === "ready") {
    const image = pictureHtml(photo, coverWidth(photo, box), `alt="${alt}" decoding="async" draggable="false"`);
    return `${image}${badge(photo)}${fav}`;
  }
  const mark = status === "failed" ? '<span class="mark" aria-hidden="true">!</span>' : "";
  return `<span class="ph" role="img" aria-label="${alt} (${STATE_LABELS[status]})">${mark}</span>${badge(photo)}${fav}`;
}

/** How wide the image must be to cover the tile with object-fit: cover. */
function coverWidth(photo, box) {
  if (!box) return 200;
  return Math.max(box.width, box.height * aspect(photo));
}

function tileHtml(photo, index, x, width, height) {
  const status = state(photo);
  const title = status === "failed" ? ` title="${esc(photo.thumbnail_error || "The preview could not be made")}"` : "";
  const live = isLive(photo) ? " data-live" : "";
  return `<button type="button" class="tile is-${status}" data-id="${photo.id}" data-index="${index}"${live}
    style="left:${x}px;width:${width}px;height:${height}px"${title}>${tileInner(photo, { width, height })}</button>`;
}

/** Binary search: the first block whose bottom is below `y`. */
function firstBelow(blocks, y) {
  let lo = 0;
  let hi = blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid].top + blocks[mid].height < y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class PhotoGrid {
  /**
   * @param {HTMLElement} root where the grid goes
   * @param {{fetchPage: (cursor: string|null, options?: object) => Promise<{photos: object[], next: string|null, prev?: string|null}>,
   *          groupBy: "day"|"month"|null, empty: string, onOpen: (grid: PhotoGrid, index: number) => void,
   *          onPosition?: (photo: object) => void, topInset?: () => number}} options
   */
  constructor(root, options) {
    this.options = options;
    this.destroyed = false;
    this.columns = columnChoice();
    root.innerHTML = `${densityHtml(this.columns)}<div class="grid-top" role="status"></div>
      <div class="grid" aria-live="off"></div>
      <div class="grid-end" role="status"><span class="spinner" aria-hidden="true"></span> Loading photos…</div>`;
    this.topEl = root.querySelector(".grid-top");
    this.gridEl = root.querySelector(".grid");
    this.endEl = root.querySelector(".grid-end");
    this.reset(null);
    this.gridEl.addEventListener("click", (event) => this.onClick(event));
    this.gridEl.addEventListener("error", (event) => this.onImageError(event), true);
    this.removed = new Set();
    this.densityEl = root.querySelector(".density");
    this.densityEl.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-columns]");
      if (button) this.setColumns(Number(button.dataset.columns));
    });
    this.watchPinch();
    livePlayer(this.gridEl, ".tile[data-live]", (tile) => tile.dataset.id);
    this.endEl.addEventListener("click", (event) => {
      if (event.target.closest("button.retry")) this.loadMore();
    });
    this.onScroll = () => {
      if (this.scrollQueued) return;
      this.scrollQueued = true;
      requestAnimationFrame(() => {
        this.scrollQueued = false;
        if (this.destroyed) return;
        this.paint();
        this.continueIfNeeded();
      });
    };
    this.onResize = () => {
      if (this.gridEl.clientWidth !== this.width) this.relayout();
    };
    window.addEventListener("scroll", this.onScroll, { passive: true });
    window.addEventListener("resize", this.onResize);
    this.recheckTimer = setInterval(() => this.recheck(), RECHECK_MS);
  }

  /** Start over, empty, at the top of the listing or (with `before`) further down it. */
  reset(before) {
    this.generation = (this.generation ?? 0) + 1;
    this.photos = [];
    this.ids = new Set();
    this.cursor = null;
    this.prevCursor = null;
    this.before = before;
    this.done = false;
    this.topDone = !before;
    this.loading = null;
    this.loadingNewer = null;
    this.blocks = [];
    this.rendered = new Map();
    this.gridEl.replaceChildren();
    this.gridEl.style.height = "0px";
    this.width = this.gridEl.clientWidth;
    this.endEl.classList.remove("is-done");
    this.endEl.innerHTML = '<span class="spinner" aria-hidden="true"></span> Loading photos…';
    this.topEl.textContent = "";
  }

  /** Show the listing from `before` (an ISO moment) down, its first row at the top of the
   * screen; newer photos load above it (off screen) and when scrolling up. */
  jumpTo(before) {
    this.reset(before);
    window.scrollTo(0, 0);
    const generation = this.generation;
    return this.loadMore().then(() => {
      if (generation === this.generation && !this.destroyed) this.scrollToGridTop();
    });
  }

  /** Scroll the top of the grid to the top of the screen, just under the page's sticky header. */
  scrollToGridTop() {
    const y = this.gridEl.getBoundingClientRect().top + window.scrollY - this.topInset();
    window.scrollTo(0, Math.max(0, y));
  }

  /** How much of the top of the viewport the page's sticky header covers. */
  topInset() {
    return this.options.topInset?.() ?? 0;
  }

  destroy() {
    this.destroyed = true;
    window.removeEventListener("scroll", this.onScroll);
    window.removeEventListener("resize", this.onResize);
    clearInterval(this.recheckTimer);
  }

  /** How rows are filled: `fill` is the height at which tiles fill a row, `most` the tiles a row
   * holds at most, `cap` the tallest a row may grow, `rest` the height of a last, short row. On a
   * phone a row holds the chosen number of tiles (fewer only for very wide photos); else rows are
   * about 200 px high. */
  rowRules() {
    if (this.width >= NARROW) return { fill: 200, most: Infinity, cap: 400, rest: 200 };
    const square = Math.max(40, Math.floor((this.width - GAP * (this.columns - 1)) / this.columns));
    return { fill: square / 2, most: this.columns, cap: square * 2, rest: square };
  }

  /** Show `n` tiles a row on a phone from now on (and next time). */
  setColumns(n) {
    if (!COLUMN_CHOICES.includes(n)) return;
    localStorage.setItem(COLUMNS_KEY, String(n));
    for (const button of this.densityEl.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.columns) === n));
    }
    if (n === this.columns) return;
    this.columns = n;
    if (this.width < NARROW) this.relayout();
  }

  /** Two fingers spread apart on the grid: bigger tiles (fewer a row); pinched together: more. */
  watchPinch() {
    let start = 0;
    let last = 0;
    this.gridEl.addEventListener("touchstart", (event) => {
      if (event.touches.length === 2) start = last = spread(event.touches);
    }, { passive: true });
    this.gridEl.addEventListener("touchmove", (event) => {
      if (start && event.touches.length === 2) last = spread(event.touches);
    }, { passive: true });
    this.gridEl.addEventListener("touchend", () => {
      if (!start) return;
      const ratio = last / start;
      start = 0;
      const at = COLUMN_CHOICES.indexOf(this.columns);
      if (ratio >= PINCH) this.setColumns(COLUMN_CHOICES[Math.max(0, at - 1)]);
      else if (ratio <= 1 / PINCH) this.setColumns(COLUMN_CHOICES[Math.min(COLUMN_CHOICES.length - 1, at + 1)]);
    });
  }

  // -- loading -------------------------------------------------------------------------------

  /** The next (older) page, once at a time; resolves when it is laid out. */
  loadMore() {
    if (this.done || this.destroyed) return Promise.resolve();
    if (!this.loading) {
      const generation = this.generation;
      this.loading = this.fetchOlder(generation).finally(() => {
        if (generation !== this.generation) return;
        this.loading = null;
        this.continueIfNeeded();
      });
    }
    return this.loading;
  }

  async fetchOlder(generation) {
    this.endEl.innerHTML = '<span class="spinner" aria-hidden="true"></span> Loading photos…';
    try {
      const first = !this.photos.length && !this.cursor;
      const page = await this.options.fetchPage(this.cursor, first && this.before ? { before: this.before } : {});
      if (this.destroyed || generation !== this.generation) return;
      if (first) {
        this.prevCursor = page.prev ?? null;
        this.topDone = !this.prevCursor;
        if (!this.topDone) this.topEl.innerHTML = '<button type="button" class="newer">Show newer photos</button>';
        this.topEl.querySelector("button.newer")?.addEventListener("click", () => this.loadNewer());
      }
      this.append(page.photos);
      this.cursor = page.next;
      this.done = !page.next;
      if (this.done) this.showEnd();
      else this.endEl.textContent = "";
    } catch (error) {
      if (this.destroyed || generation !== this.generation) return;
      this.endEl.innerHTML = `Could not load photos: ${esc(error.message)}
        <button type="button" class="retry">Try again</button>`;
      throw error;
    }
  }

  /** The page just newer than the first photo shown, put above it without moving the screen. */
  loadNewer() {
    if (this.topDone || this.destroyed || this.loadingNewer || !this.prevCursor) return Promise.resolve();
    const generation = this.generation;
    this.loadingNewer = (async () => {
      const page = await this.options.fetchPage(this.prevCursor, { newer: true });
      if (this.destroyed || generation !== this.generation) return;
      this.prevCursor = page.prev ?? null;
      this.topDone = !this.prevCursor;
      if (this.topDone) this.topEl.textContent = "";
      this.prepend(page.photos);
    })().finally(() => {
      if (generation === this.generation) this.loadingNewer = null;
    });
    return this.loadingNewer;
  }

  continueIfNeeded() {
    if (this.destroyed || !this.endEl.isConnected) return;
    if (!this.done && !this.loading) {
      const top = this.endEl.getBoundingClientRect().top;
      if (top < window.innerHeight + AHEAD_PX) this.loadMore();
    }
    if (!this.topDone && !this.loadingNewer && this.photos.length) {
      const gridTop = this.gridEl.getBoundingClientRect().top;
      if (gridTop > -AHEAD_PX / 2) this.loadNewer().catch(() => {});
    }
  }

  showEnd() {
    if (!this.done) return;
    this.endEl.classList.add("is-done");
    this.endEl.textContent = this.photos.length
      ? `${count(this.photos.length, "photo")}${this.before ? " from here on" : ""}, that's everything.`
      : this.options.empty;
    this.endEl.dataset.total = String(this.photos.length);
  }

  groupOf(photo) {
    const by = GROUPERS[this.options.groupBy];
    return by ? by(photo.taken_at) : "all";
  }

  append(photos) {
    const fresh = photos.filter((p) => !this.ids.has(p.id)); // a page boundary must never show a photo twice
    if (!fresh.length) return;
    for (const photo of fresh) this.ids.add(photo.id);
    const from = this.photos.length;
    this.photos.push(...fresh);
    const changed = this.layoutFrom(from);
    for (const [b, el] of this.rendered) {
      if (b >= changed) {
        el.remove();
        this.rendered.delete(b);
      }
    }
    this.paint(true);
  }

  prepend(photos) {
    const fresh = photos.filter((p) => !this.ids.has(p.id));
    if (!fresh.length) return;
    for (const photo of fresh) this.ids.add(photo.id);
    const before = this.totalHeight();
    this.photos.unshift(...fresh);
    this.blocks = [];
    this.layoutFrom(0);
    this.clearRendered();
    window.scrollBy(0, this.totalHeight() - before); // what was on screen stays where it was
    this.paint(true);
  }

  relayout() {
    this.width = this.gridEl.clientWidth;
    this.blocks = [];
    this.layoutFrom(0);
    this.clearRendered();
    this.paint(true);
  }

  clearRendered() {
    this.rendered = new Map();
    this.gridEl.replaceChildren();
  }

  // -- layout --------------------------------------------------------------------------------

  totalHeight() {
    const last = this.blocks[this.blocks.length - 1];
    return last ? last.top + last.height : 0;
  }

  /** Lay out again from photo `from` on (from the start of the group it falls in); returns the
   * first block that changed. */
  layoutFrom(from) {
    let start = from;
    if (from > 0 && this.blocks.length) {
      const group = this.groupOf(this.photos[from - 1]);
      let b = this.blocks.length - 1;
      while (b >= 0 && this.blocks[b].group === group) b -= 1;
      this.blocks.length = b + 1;
      start = from;
      while (start > 0 && this.groupOf(this.photos[start - 1]) === group) start -= 1;
    }
    const changed = this.blocks.length;
    const width = this.width || this.gridEl.clientWidth || 1000;
    const { fill, most, cap, rest } = this.rowRules();
    const headers = Boolean(this.options.groupBy);
    let top = this.totalHeight();
    let i = start;
    while (i < this.photos.length) {
      const group = this.groupOf(this.photos[i]);
      if (headers) {
        this.blocks.push({ kind: "header", group, top, height: HEADER_H });
        top += HEADER_H;
      }
      let row = [];
      let sum = 0;
      const flush = (full) => {
        const fits = (width - GAP * (row.length - 1)) / sum; // the height at which the row is flush
        const height = Math.min(fits, full ? cap : rest);
        let x = 0;
        const items = row.map((index) => {
          const w = Math.max(1, Math.floor(aspect(this.photos[index]) * height));
          const item = { index, x, w };
          x += w + GAP;
          return item;
        });
        if (full && items.length) {
          const last = items[items.length - 1];
          last.w = Math.max(1, Math.round(width - last.x)); // absorb rounding: rows end flush
        }
        const h = Math.round(height);
        this.blocks.push({ kind: "row", group, top, height: h, items });
        top += h + GAP;
        row = [];
        sum = 0;
      };
      while (i < this.photos.length && this.groupOf(this.photos[i]) === group) {
        row.push(i);
        sum += aspect(this.photos[i]);
        if (sum * fill + GAP * (row.length - 1) >= width || row.length >= most) flush(true);
        i += 1;
      }
      if (row.length) flush(false);
    }
    this.gridEl.style.height = `${this.totalHeight()}px`;
    return changed;
  }

  // -- painting ------------------------------------------------------------------------------

  /** Put the blocks near the viewport into the page and take the others out. */
  paint(force = false) {
    if (!this.blocks.length) return;
    const gridTop = this.gridEl.getBoundingClientRect().top;
    const from = firstBelow(this.blocks, -gridTop - OVERSCAN_PX);
    let to = from;
    const bottom = -gridTop + window.innerHeight + OVERSCAN_PX;
    while (to < this.blocks.length && this.blocks[to].top < bottom) to += 1;
    if (!force && from === this.paintedFrom && to === this.paintedTo) {
      this.reportPosition(gridTop);
      return;
    }
    this.paintedFrom = from;
    this.paintedTo = to;
    for (const [b, el] of this.rendered) {
      if (b < from || b >= to) {
        el.remove();
        this.rendered.delete(b);
      }
    }
    let html = "";
    const added = [];
    for (let b = from; b < to; b += 1) {
      if (this.rendered.has(b)) continue;
      html += this.blockHtml(this.blocks[b], b);
      added.push(b);
    }
    if (!html) {
      this.reportPosition(gridTop);
      return;
    }
    this.gridEl.insertAdjacentHTML("beforeend", html);
    for (const b of added) this.rendered.set(b, this.gridEl.querySelector(`:scope > [data-block="${b}"]`));
    this.reportPosition(gridTop);
  }

  /** Tell the scrubber which photo is at the top of the screen (under the sticky header). */
  reportPosition(gridTop) {
    if (!this.options.onPosition) return;
    const top = firstBelow(this.blocks, -gridTop + this.topInset() + 1);
    const firstRow = this.blocks[top]?.kind === "row" ? this.blocks[top] : this.blocks[top + 1];
    if (firstRow?.items?.length) this.options.onPosition(this.photos[firstRow.items[0].index]);
  }

  blockHtml(block, b) {
    const where = `data-block="${b}" data-top="${block.top}" data-group="${esc(block.group)}"
      style="top:${block.top}px;height:${block.height}px"`;
    if (block.kind === "header") {
      return `<h2 class="group-title" ${where}>${esc(groupTitle(block.group))}</h2>`;
    }
    const tiles = block.items
      .filter(({ index }) => !this.removed.has(this.photos[index].id))
      .map(({ index, x, w }) => tileHtml(this.photos[index], index, x, w, block.height))
      .join("");
    return `<div class="row" ${where}>${tiles}</div>`;
  }

  onClick(event) {
    const tile = event.target.closest(".tile");
    if (tile) this.options.onOpen(this, Number(tile.dataset.index));
  }

  onImageError(event) {
    const tile = event.target.closest?.(".tile");
    if (!tile || event.target.tagName !== "IMG") return;
    tile.classList.replace("is-ready", "is-failed");
    event.target.replaceWith(Object.assign(document.createElement("span"), { className: "ph" }));
  }

  tile(index) {
    return this.gridEl.querySelector(`.tile[data-index="${index}"]`);
  }

  /** A photo that left this listing (restored from Recently Deleted): its tile goes at once;
   * the rows close up when the lightbox closes (it pages through the same list meanwhile). */
  restored(photo) {
    this.removed.add(photo.id);
    this.gridEl.querySelector(`.tile[data-id="${CSS.escape(photo.id)}"]`)?.remove();
  }

  dropRemoved() {
    if (!this.removed.size) return;
    this.photos = this.photos.filter((p) => !this.removed.has(p.id));
    for (const id of this.removed) this.ids.delete(id);
    this.removed.clear();
    this.relayout();
    if (this.done) this.showEnd();
  }

  /** Scroll the photo at `index` into view (its row is put into the page) and focus it. */
  focusTile(index) {
    if (this.removed.size) {
      this.dropRemoved();
      return;
    }
    const block = this.blocks.find((b) => b.kind === "row" && b.items.some((item) => item.index === index));
    if (!block) return;
    const gridTop = this.gridEl.getBoundingClientRect().top + window.scrollY;
    const y = gridTop + block.top;
    if (y < window.scrollY + 60 || y + block.height > window.scrollY + window.innerHeight) {
      window.scrollTo(0, Math.max(0, y - window.innerHeight / 3));
    }
    this.paint(true);
    this.tile(index)?.focus({ preventScroll: true });
  }

  /** Visible placeholders ask again whether their thumbnail is ready. */
  async recheck() {
    if (document.hidden) return;
    const ids = [];
    for (const tile of this.gridEl.querySelectorAll(".tile.is-pending")) {
      const box = tile.getBoundingClientRect();
      if (box.bottom > -200 && box.top < window.innerHeight + 200) ids.push(tile.dataset.id);
      if (ids.length >= RECHECK_BATCH) break;
    }
    if (!ids.length) return;
    const fresh = await Promise.all(ids.map((id) => api(`/api/photos/${id}`).catch(() => null)));
    for (const photo of fresh) {
      if (photo && !this.destroyed) this.refresh(photo);
    }
  }

  refresh(photo) {
    const tile = this.gridEl.querySelector(`.tile[data-id="${photo.id}"]`);
    if (!tile) return;
    const index = Number(tile.dataset.index);
    if (this.photos[index]?.id !== photo.id) return;
    const before = state(this.photos[index]);
    this.photos[index] = { ...this.photos[index], ...photo };
    const after = state(photo);
    if (after === before) return;
    tile.classList.replace(`is-${before}`, `is-${after}`);
    tile.innerHTML = tileInner(photo, { width: tile.offsetWidth, height: tile.offsetHeight });
  }
}

/** A cursor page fetcher over any list endpoint with `photos`, `next_cursor` (and `prev_cursor`). */
export function pager(path, limit = 100) {
  return async (cursor, { before, newer } = {}) => {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cursor) params.set("cursor", cursor);
    if (before) params.set("before", before);
    if (newer) params.set("direction", "newer");
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}${params}`, { priority: "high" });
    return { photos: page.photos, next: page.next_cursor, prev: page.prev_cursor ?? null, page };
  };
}
