// Add a device: the exact commands for this server, then wait for the agent to ask to pair and
// show its code as soon as it does.

import { api } from "../api.js";
import { esc } from "../format.js";

const POLL_MS = 2000;

function commands(origin, username) {
  return [
    "pipx install --python python3.12 '.[agent]'   # in a clone of Image Assistant: the agent alone",
    `image-assistant agent setup --server ${origin} --username ${username}`,
  ];
}

export function addDevicePage(main, { me }) {
  document.title = "Add a device · Image Assistant";
  const lines = commands(location.origin, me.username);
  main.innerHTML = `<div class="toolbar"><h1>Add a device</h1></div>
    <p>On the Mac (or computer) that holds your photos, in a terminal (Python 3.11 or newer).
    <code>agent setup</code> finds the library, checks it may read it, pairs, installs the
    background service and runs the first pass.</p>
    <pre class="commands" tabindex="0"><code>${lines.map(esc).join("\n")}</code></pre>
    <button type="button" class="copy">Copy commands</button>
    <p class="hint">The agent asks for a 6-digit code; it appears below as soon as the agent asks.</p>
    <section class="waiting" aria-live="polite"><p class="wait">Waiting for the agent…</p></section>`;
  const waiting = main.querySelector(".waiting");
  let known = null;
  const poll = async () => {
    const { devices } = await api("/api/devices");
    const pending = devices.filter((d) => d.status === "pending" && d.verification_code);
    if (known === null) {
      known = new Set(pending.map((d) => `${d.id}:${d.verification_code}`));
      return;
    }
    const fresh = pending.filter((d) => !known.has(`${d.id}:${d.verification_code}`));
    if (!fresh.length) return;
    const d = fresh[0];
    waiting.innerHTML = `<h2>${esc(d.name)} asks to pair</h2>
      <p class="code" aria-label="Pairing code ${d.verification_code.split("").join(" ")}">${esc(d.verification_code)}</p>
      <p class="hint">Type this code into the agent. It stays valid for 10 minutes.
      <a href="/devices">All devices</a></p>`;
  };
  main.querySelector("button.copy").addEventListener("click", () => navigator.clipboard?.writeText(lines.join("\n")));
  poll();
  const timer = setInterval(poll, POLL_MS);
  return () => clearInterval(timer);
}
