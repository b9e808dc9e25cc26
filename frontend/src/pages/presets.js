// Export presets: the built-in platform sizes, and the user's own (fit in a long edge or crop to
// an exact size, JPEG quality, file name pattern), made and deleted here. The server checks every
// field; its message is shown as it is.

import { api } from "../api.js";
import { esc } from "../format.js";

const TOKENS = ["{set}", "{n}", "{date}", "{name}", "{preset}"];

function size(p) {
  if (p.mode === "full") return "Full size";
  if (p.mode === "crop") return `Crop to ${p.width} × ${p.height}`;
  return `Long edge ${p.width}`;
}

function row(p) {
  const action = p.builtin
    ? '<span class="muted">Built in</span>'
    : `<button type="button" class="delete" aria-label="Delete preset ${esc(p.name)}">Delete</button>`;
  return `<tr data-name="${esc(p.name)}"><td class="name">${esc(p.name)}</td><td>${esc(size(p))}</td>
    <td>${p.quality}</td><td><code>${esc(p.filename_pattern)}</code></td><td>${action}</td></tr>`;
}

const FORM = `<form class="new-preset" novalidate>
    <h2>New preset</h2>
    <label>Name <input name="name" required maxlength="64" placeholder="shop-1600" autocomplete="off"></label>
    <fieldset><legend>Size</legend>
      <label><input type="radio" name="mode" value="fit" checked> Fit in a long edge</label>
      <label><input type="radio" name="mode" value="crop"> Crop to an exact size</label>
    </fieldset>
    <label>Width (px) <input name="width" type="number" min="16" max="12000" value="1600" required></label>
    <label class="height">Height (px) <input name="height" type="number" min="16" max="12000" value="1600" disabled></label>
    <label>JPEG quality <input name="quality" type="number" min="1" max="100" value="85" required></label>
    <label>File name pattern <input name="filename_pattern" value="{set}-{n}" maxlength="200" required></label>
    <p class="hint">The pattern needs <code>{n}</code> (the photo's number in the set) and may use
      ${TOKENS.map((t) => `<code>${t}</code>`).join(" ")}; “.jpg” is added.</p>
    <button>Create preset</button>
    <p class="error" role="alert" hidden></p>
  </form>`;

function formBody(form) {
  const crop = form.mode.value === "crop";
  const number = (input) => (input.value.trim() === "" ? null : Number(input.value));
  return {
    name: form.name.value.trim(),
    mode: form.mode.value,
    width: number(form.width),
    height: crop ? number(form.height) : null,
    quality: number(form.quality),
    filename_pattern: form.filename_pattern.value,
  };
}

export function presetsPage(main) {
  document.title = "Presets · Image Assistant";
  main.innerHTML = `<div class="toolbar"><p class="crumbs"><a href="/sets">Sets</a></p><h1>Export presets</h1></div>
    <p>A preset says how each photo of a set is made for one platform. Sets download and share in any of them.</p>
    <table class="preset-list"><thead><tr><th>Name</th><th>Size</th><th>Quality</th><th>File names</th><th></th></tr></thead>
    <tbody aria-busy="true"></tbody></table>${FORM}`;
  const body = main.querySelector(".preset-list tbody");
  const form = main.querySelector(".new-preset");
  const problem = form.querySelector(".error");
  const show = (message) => {
    problem.textContent = message;
    problem.hidden = !message;
  };
  const refresh = () => api("/api/presets").then(({ presets }) => {
    body.removeAttribute("aria-busy");
    body.innerHTML = presets.map(row).join("");
  }, (error) => show(`Could not load the presets: ${error.message}`));

  form.addEventListener("change", (e) => {
    if (e.target.name === "mode") form.height.disabled = form.mode.value !== "crop";
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    show("");
    try {
      const made = await api("/api/presets", { method: "POST", body: formBody(form) });
      form.name.value = "";
      await refresh();
      main.querySelector(`tr[data-name="${CSS.escape(made.name)}"]`)?.classList.add("is-new");
    } catch (error) {
      show(error.message);
      return;
    }
  });
  body.addEventListener("click", async (e) => {
    const name = e.target.closest("button.delete")?.closest("tr")?.dataset.name;
    if (!name || !confirm(`Delete the preset “${name}”? Share links made in it stop working.`)) return;
    try {
      await api(`/api/presets/${encodeURIComponent(name)}`, { method: "DELETE" });
    } catch (error) {
      show(error.message);
    }
    refresh();
  });
  refresh();
}
