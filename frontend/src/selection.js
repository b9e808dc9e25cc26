// Selecting photos in a grid: a select mode, a tick on hover, long-press, shift-click for a
// range, `x` toggles the focused photo, arrow keys move, a day's heading selects the day; a bar
// at the bottom counts them and makes a publish set of them or adds them to one.

import { api } from "./api.js";
import { count, esc } from "./format.js";

const LONG_PRESS_MS = 500;
const TICK_PX = 34; // the tick's corner of a tile

export class Selection {
  /** @param {import("./grid.js").PhotoGrid} grid @param {HTMLElement} toggle the Select button */
  constructor(grid, toggle, { navigate }) {
    this.grid = grid;
    this.toggleButton = toggle;
    this.navigate = navigate;
    this.chosen = new Set();
    this.anchor = null;
    this.active = false;
    this.fingers = new Set(); // touch pointers down on the grid
    this.el = grid.gridEl;
    this.bar = document.createElement("div");
    this.bar.className = "select-bar";
    this.bar.setAttribute("role", "region");
    this.bar.setAttribute("aria-label", "Selected photos");
    this.bar.hidden = true;
    document.body.append(this.bar);
    this.el.classList.add("selectable");
    // The grid puts only the rows near the screen into the page: tiles it paints again get their mark back.
    this.observer = new MutationObserver(() => {
      if (!this.chosen.size) return;
      for (const tile of this.el.querySelectorAll(".tile:not(.is-selected)")) {
        if (this.chosen.has(tile.dataset.id)) this.mark(tile, true);
      }
    });
    this.observer.observe(this.el, { childList: true, subtree: true });
    this.handlers = [
      [this.el, "click", (e) => this.onClick(e), true],
      [this.el, "pointerdown", (e) => this.onPointerDown(e), false],
      // On the document: the grid may paint the row again under the finger (its tile is then gone).
      [document, "pointerup", (e) => this.onPointerUp(e), false],
      [document, "pointercancel", (e) => this.onPointerUp(e), false],
      [document, "scroll", () => clearTimeout(this.pressTimer), false],
      [this.el, "contextmenu", (e) => { if (this.pressed) e.preventDefault(); }, false],
      [document, "keydown", (e) => this.onKey(e), false],
      [toggle, "click", () => this.setActive(!this.active), false],
    ];
    for (const [target, type, fn, capture] of this.handlers) target.addEventListener(type, fn, capture);
    this.bar.addEventListener("click", (e) => this.onBar(e));
  }

  destroy() {
    this.observer.disconnect();
    for (const [target, type, fn, capture] of this.handlers) target.removeEventListener(type, fn, capture);
    this.bar.remove();
  }

  setActive(on) {
    this.active = on;
    this.el.classList.toggle("selecting", on);
    this.toggleButton.setAttribute("aria-pressed", String(on));
    this.toggleButton.textContent = on ? "Done" : "Select";
    if (!on) this.clear();
    this.renderBar();
  }

  clear() {
    this.chosen.clear();
    for (const tile of this.el.querySelectorAll(".tile.is-selected")) this.mark(tile, false);
    this.anchor = null;
    this.renderBar();
  }

  mark(tile, on) {
    tile.classList.toggle("is-selected", on);
    tile.setAttribute("aria-pressed", String(on));
  }

  toggle(tile, force) {
    this.choose(tile.dataset.id, force);
  }

  /** Select (or unselect) a photo by id, whether its tile is in the page or not. */
  choose(id, force) {
    const on = force ?? !this.chosen.has(id);
    if (on) this.chosen.add(id);
    else this.chosen.delete(id);
    const tile = this.el.querySelector(`.tile[data-id="${id}"]`);
    if (tile) this.mark(tile, on);
    if (!this.active && on) this.setActive(true);
    this.renderBar();
  }

  range(toTile) {
    const from = this.anchor ?? Number(toTile.dataset.index);
    const to = Number(toTile.dataset.index);
    const [low, high] = from < to ? [from, to] : [to, from];
    for (let i = low; i <= high; i += 1) {
      const photo = this.grid.photos[i];
      if (photo) this.choose(photo.id, true);
    }
  }

  selectGroup(group) {
    const ids = this.grid.photos.filter((p) => this.grid.groupOf(p) === group).map((p) => p.id);
    const all = ids.every((id) => this.chosen.has(id));
    for (const id of ids) this.choose(id, !all);
  }

  onClick(event) {
    const title = event.target.closest(".group-title");
    if (title && this.active) {
      const group = title.dataset.group ?? title.closest("[data-group]")?.dataset.group;
      if (group) this.selectGroup(group);
      return;
    }
    const tile = event.target.closest(".tile");
    if (!tile) return;
    if (this.suppressClick) {
      this.suppressClick = false;
      event.stopPropagation();
      event.preventDefault();
      return;
    }
    const box = tile.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    // A click from the keyboard (Enter, Space) has no position (detail 0): it opens, never ticks.
    const onTick = event.detail > 0 && x >= 0 && y >= 0 && x < TICK_PX && y < TICK_PX;
    if (!(this.active || onTick || event.shiftKey)) return; // an ordinary click opens the lightbox
    event.stopPropagation();
    event.preventDefault();
    if (event.shiftKey && this.anchor !== null) this.range(tile);
    else this.toggle(tile);
    this.anchor = Number(tile.dataset.index);
    tile.focus({ preventScroll: true });
  }

  onPointerDown(event) {
    this.pressed = false;
    if (event.pointerType !== "touch") return; // a mouse has the tick and shift-click
    clearTimeout(this.pressTimer);
    if (event.isPrimary) this.fingers.clear(); // the first finger down: none other is
    this.fingers.add(event.pointerId);
    const tile = event.target.closest(".tile");
    if (!tile || this.fingers.size > 1) return; // a second finger: a pinch (the grid's density)
    this.pressTimer = setTimeout(() => {
      this.pressed = true;
      this.suppressClick = true;
      this.toggle(tile, true);
      this.anchor = Number(tile.dataset.index);
    }, LONG_PRESS_MS);
  }

  onPointerUp(event) {
    clearTimeout(this.pressTimer);
    this.fingers.delete(event.pointerId);
  }

  onKey(event) {
    const tile = document.activeElement?.closest?.(".tile");
    if (!tile || !this.el.contains(tile) || event.ctrlKey || event.metaKey || event.altKey) return;
    const index = Number(tile.dataset.index);
    if (event.key === "x") {
      event.preventDefault();
      this.toggle(tile);
      this.anchor = index;
      return;
    }
    if (event.key === "Escape" && this.active) {
      this.setActive(false);
      return;
    }
    const next = this.neighbour(tile, event.key);
    if (next === null) return;
    event.preventDefault();
    this.grid.focusTile(next);
    if (event.shiftKey && this.grid.photos[next]) this.choose(this.grid.photos[next].id, true);
  }

  /** The index the arrow key moves to: the next or previous tile, or the nearest one a row up or down. */
  neighbour(tile, key) {
    const index = Number(tile.dataset.index);
    if (key === "ArrowRight") return this.grid.tile(index + 1) ? index + 1 : null;
    if (key === "ArrowLeft") return index > 0 ? index - 1 : null;
    if (key !== "ArrowDown" && key !== "ArrowUp") return null;
    const here = tile.getBoundingClientRect();
    const down = key === "ArrowDown";
    let best = null;
    let bestScore = Infinity;
    for (const other of this.el.querySelectorAll(".tile")) {
      const box = other.getBoundingClientRect();
      const ahead = down ? box.top >= here.bottom - 2 : box.bottom <= here.top + 2;
      if (!ahead) continue;
      const rows = Math.abs(down ? box.top - here.bottom : here.top - box.bottom);
      const score = rows * 10 + Math.abs(box.left + box.width / 2 - (here.left + here.width / 2));
      if (score < bestScore) {
        bestScore = score;
        best = Number(other.dataset.index);
      }
    }
    return best;
  }

  ordered() {
    return this.grid.photos.filter((p) => this.chosen.has(p.id)).map((p) => p.id);
  }

  async renderBar() {
    const n = this.chosen.size;
    this.bar.hidden = !this.active;
    if (!this.active) return;
    this.bar.innerHTML = `<span class="count" aria-live="polite">${n ? count(n, "photo") + " selected" : "Select photos"}</span>
      <form class="new-set"><input name="title" placeholder="New set title" aria-label="New set title"
        value="${esc(this.lastTitle ?? "")}" ${n ? "" : "disabled"}><button ${n ? "" : "disabled"}>Create set</button></form>
      <form class="add-set"><select name="set" aria-label="Publish set" ${n ? "" : "disabled"}></select>
        <button ${n ? "" : "disabled"}>Add to set</button></form>
      <button type="button" class="clear" ${n ? "" : "disabled"}>Clear</button>
      <button type="button" class="done">Done</button>`;
    this.bar.querySelector(".new-set").addEventListener("submit", (e) => this.createSet(e));
    this.bar.querySelector(".add-set").addEventListener("submit", (e) => this.addToSet(e));
    if (n) {
      this.sets ??= api("/api/publish-sets").then((b) => b.publish_sets, () => []);
      const sets = await this.sets;
      const select = this.bar.querySelector("select");
      if (select) select.innerHTML = sets.map((s) => `<option value="${s.id}">${esc(s.title)} (${s.photo_count})</option>`).join("")
        || "<option value=\"\">No sets yet</option>";
    }
  }

  onBar(event) {
    if (event.target.closest(".clear")) this.clear();
    if (event.target.closest(".done")) this.setActive(false);
  }

  async createSet(event) {
    event.preventDefault();
    const title = event.target.title.value.trim() || "New set";
    const made = await api("/api/publish-sets", { method: "POST", body: { title, photo_ids: this.ordered() } });
    this.destroy();
    this.navigate(`/sets/${made.id}`);
  }

  async addToSet(event) {
    event.preventDefault();
    const id = event.target.set.value;
    if (!id) return;
    await api(`/api/publish-sets/${id}/photos`, { method: "POST", body: { photo_ids: this.ordered() } });
    this.destroy();
    this.navigate(`/sets/${id}`);
  }
}
