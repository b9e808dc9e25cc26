// The gallery's shell: a header with navigation, and a router that mounts one page at a time.

import "photoswipe/style.css";
import "./styles.css";
import { api, loginUrl } from "./api.js";
import { esc } from "./format.js";
import { accountPage } from "./pages/account.js";
import { addDevicePage } from "./pages/adddevice.js";
import { albumPage, albumsPage } from "./pages/albums.js";
import { devicesPage } from "./pages/devices.js";
import { loginPage } from "./pages/login.js";
import { peoplePage } from "./pages/people.js";
import { photosPage } from "./pages/photos.js";
import { presetsPage } from "./pages/presets.js";
import { personsPage, placesPage } from "./pages/views.js";
import { setPage, setsPage } from "./pages/sets.js";
import { sharePage } from "./pages/share.js";
import { syncPage } from "./pages/sync.js";
import { welcomePage } from "./pages/welcome.js";

const ROUTES = [
  [/^\/$/, photosPage, "Photos"],
  [/^\/albums$/, albumsPage, "Albums"],
  [/^\/albums\/([0-9a-fA-F-]{36})$/, albumPage, "Albums"],
  [/^\/people$/, personsPage, "Photos"],
  [/^\/places$/, placesPage, "Photos"],
  [/^\/sets$/, setsPage, "Sets"],
  [/^\/sets\/presets$/, presetsPage, "Sets"],
  [/^\/sets\/([0-9a-fA-F-]{36})$/, setPage, "Sets"],
  [/^\/sync$/, syncPage, "Sync"],
  [/^\/devices$/, devicesPage, "Devices"],
  [/^\/devices\/add$/, addDevicePage, "Devices"],
  [/^\/account$/, accountPage, "Account"],
  [/^\/admin\/accounts$/, peoplePage, "People"],
];
// Pages for people who are not signed in.
const PUBLIC = { "/login": loginPage, "/welcome": welcomePage };
const NAV = [["/", "Photos"], ["/albums", "Albums"], ["/sets", "Sets"], ["/sync", "Sync"], ["/devices", "Devices"]];

const app = document.getElementById("app");
let unmount = null;
// The server puts the signed-in user into the page; the API is asked only when it did not.
let me = JSON.parse(document.getElementById("ia-user")?.textContent || "null");

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

function shell(section) {
  const nav = me.is_admin ? [...NAV, ["/admin/accounts", "People"]] : NAV;
  const links = nav.map(([href, label]) => {
    const current = label === section ? ' aria-current="page"' : "";
    return `<a href="${href}"${current}>${label}</a>`;
  }).join("");
  app.innerHTML = `<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/" aria-label="Image Assistant, Photos">Image Assistant</a>
      <nav aria-label="Gallery">${links}</nav>
      <div class="who"><a class="user" href="/account" title="Your account"
        ${section === "Account" ? 'aria-current="page"' : ""}>${esc(me.username)}</a>
        <button type="button" class="signout">Sign out</button></div>
    </header>
    <main id="main" tabindex="-1"></main>`;
  app.querySelector(".signout").addEventListener("click", signOut);
  return app.querySelector("main");
}

async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } finally {
    me = null;
    location.assign("/login");
  }
}

async function render() {
  unmount?.();
  unmount = null;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  if (PUBLIC[path]) {
    app.innerHTML = '<main id="main" class="login-main"></main>';
    unmount = PUBLIC[path](app.querySelector("main"), { params });
    return;
  }
  const shared = path.match(/^\/s\/([A-Za-z0-9_-]{1,128})$/);
  if (shared) {
    // A share link's page is public: no sign-in, no navigation to the owner's gallery.
    app.innerHTML = '<main id="main" class="share-main" tabindex="-1"></main>';
    unmount = sharePage(app.querySelector("main"), { match: shared }) ?? null;
    return;
  }
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!me) {
    try {
      me = await api("/api/auth/me");
    } catch {
      location.assign(loginUrl());
      return;
    }
  }
  const main = shell(route ? route[2] : "");
  if (!route) {
    main.innerHTML = '<h1>Not found</h1><p>There is no page here. <a href="/">Back to Photos</a></p>';
    return;
  }
  const match = path.match(route[0]);
  unmount = route[1](main, { params, match, navigate, me }) ?? null;
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.target || link.hasAttribute("download") || link.origin !== location.origin) return;
  if (link.pathname.startsWith("/api/") || link.pathname.startsWith("/static/")) return;
  if (link.getAttribute("href").startsWith("#")) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
  document.getElementById("main")?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
});
window.addEventListener("popstate", render);
render();

// Offline: the service worker serves the shell and what was seen lately; say so plainly.
function showConnection() {
  let banner = document.getElementById("offline-banner");
  if (navigator.onLine) {
    banner?.remove();
    return;
  }
  if (!banner) {
    banner = document.createElement("p");
    banner.id = "offline-banner";
    banner.className = "offline-banner";
    banner.setAttribute("role", "status");
    banner.textContent = "You are offline: showing the photos this device has kept.";
    document.body.prepend(banner);
  }
}
window.addEventListener("online", showConnection);
window.addEventListener("offline", showConnection);
showConnection();
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}
