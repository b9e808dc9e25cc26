// The timeline scrubber: a rail of years (and months on a long rail) along the grid, each placed
// by how many photos come before it, from `GET /api/photos/months`. A click or a drag picks a
// month; the grid then loads from that month down (and newer photos as one scrolls back up).
// Months are UTC months throughout the rail (counts, jumps, the "you are here" mark); the grid's
// headings name each photo's own local day, so a photo taken late on a month's last evening west
// of UTC is headed in that month and counted in the next.

import { api } from "./api.js";
import { esc } from "./format.js";

const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The first instant after `month` ("YYYY-MM"), as the API's `before` takes it. */
export function afterMonth(month) {
  const [y, m] = month.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  return `${next}-01`;
}

/** The UTC month ("YYYY-MM") of a capture time given with its offset. */
export function utcMonth(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso.slice(0, 7) : at.toISOString().slice(0, 7);
}

export class Scrubber {
  /**
   * @param {HTMLElement} root the rail's element
   * @param {{query: string, onJump: (month: string) => void}} options
   */
  constructor(root, { query, onJump }) {
    this.root = root;
    this.onJump = onJump;
    this.months = [];
    this.root.className = "scrubber";
    this.root.setAttribute("role", "navigation");
    this.root.setAttribute("aria-label", "Timeline");
    this.root.hidden = true;
    this.root.addEventListener("click", (event) => {
      const link = event.target.closest("[data-month]");
      if (link) {
        event.preventDefault();
        this.jump(link.dataset.month);
        return;
      }
      this.jump(this.monthAt(event.clientY));
    });
    this.root.addEventListener("pointermove", (event) => this.hover(event.clientY));
    this.root.addEventListener("pointerleave", () => {
      this.tip.hidden = true;
    });
    const sep = query ? "?" : "";
    this.ready = api(`/api/photos/months${sep}${query}`).then(
      ({ months }) => this.draw(months),
      () => {},
    );
  }

  draw(months) {
    this.months = months;
    const total = months.reduce((sum, m) => sum + m.count, 0);
    if (months.length < 2 || !total) return;
    let before = 0;
    this.starts = [];
    const years = [];
    for (const m of months) {
      this.starts.push(before / total);
      const year = m.month.slice(0, 4);
      if (!years.length || years[years.length - 1].year !== year) {
        years.push({ year, month: m.month, at: before / total });
      }
      before += m.count;
    }
    // Labels closer than 3% of the rail would overlap: the later (older) one gives way.
    let last = -1;
    const labels = years.map((y) => {
      const shown = y.at - last >= 0.03;
      if (shown) last = y.at;
      return `<a href="#" class="year${shown ? "" : " is-dot"}" data-month="${esc(y.month)}" data-year="${esc(y.year)}"
        style="top:${(y.at * 100).toFixed(3)}%" aria-label="${esc(y.year)}">${shown ? esc(y.year) : ""}</a>`;
    });
    this.root.innerHTML = `${labels.join("")}<span class="mark-now" aria-hidden="true"></span>
      <span class="tip" hidden></span>`;
    this.tip = this.root.querySelector(".tip");
    this.now = this.root.querySelector(".mark-now");
    this.root.hidden = false;
    this.show(this.shown); // the grid may have told where it is before the rail was drawn
  }

  monthAt(clientY) {
    if (!this.months.length) return null;
    const box = this.root.getBoundingClientRect();
    const at = Math.min(Math.max((clientY - box.top) / box.height, 0), 1);
    let i = 0;
    while (i + 1 < this.starts.length && this.starts[i + 1] <= at) i += 1;
    return this.months[i].month;
  }

  hover(clientY) {
    const month = this.monthAt(clientY);
    if (!month || !this.tip) return;
    const [y, m] = month.split("-");
    this.tip.textContent = `${MONTH_NAMES[Number(m) - 1] ?? ""} ${y}`;
    this.tip.style.top = `${clientY - this.root.getBoundingClientRect().top}px`;
    this.tip.hidden = false;
  }

  /** Move the "you are here" mark to the month of the photo at the top of the screen: its UTC
   * month, as the rail counts it (the grid's headings name the photo's own local day). */
  show(photo) {
    this.shown = photo;
    if (!this.now || !photo?.taken_at) return;
    const month = utcMonth(photo.taken_at);
    const i = this.months.findIndex((m) => m.month <= month);
    if (i < 0) return;
    this.now.style.top = `${(this.starts[i] * 100).toFixed(3)}%`;
    this.root.dataset.current = this.months[i].month;
  }

  jump(month) {
    if (month) this.onJump(month);
  }
}
