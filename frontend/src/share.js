// Share…: a preset's renditions handed to the phone's share sheet as files (Web Share API,
// after navigator.canShare), or downloaded where the browser cannot share files.

import { ApiError } from "./api.js";

const PROBE = () => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xd9])], "probe.jpg", { type: "image/jpeg" });

/** Whether this browser can hand JPEG files to apps at all (asked before fetching anything). */
export function canShareFiles() {
  if (typeof navigator.share !== "function" || typeof navigator.canShare !== "function") return false;
  try {
    return navigator.canShare({ files: [PROBE()] });
  } catch {
    return false;
  }
}

/** Start a download of `href` (a URL or an object URL) as `name`. */
export function download(href, name = "") {
  const link = Object.assign(document.createElement("a"), { href, download: name });
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

async function fetchFile(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const error = await response.json().then((b) => b.error ?? {}, () => ({}));
    throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText);
  }
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "photo.jpg";
  return new File([await response.blob()], name, { type: "image/jpeg" });
}

/**
 * Fetch the renditions at `urls` as files, in order, and open the share sheet with them.
 * `fallback()` downloads instead where files cannot be shared (it runs before anything is
 * fetched when the browser cannot share files at all). `say(text, retry?)` reports progress;
 * when fetching outlasted the click's user activation, `retry` opens the sheet from a new click.
 */
export async function shareRenditions({ urls, title, fallback, say }) {
  if (!canShareFiles()) {
    say("This browser cannot share files: downloading instead.");
    fallback();
    return "downloaded";
  }
  say(urls.length > 1 ? `Preparing ${urls.length} photos…` : "Preparing the photo…");
  let files;
  try {
    files = await Promise.all(urls.map(fetchFile));
  } catch (error) {
    say(`Could not prepare the photos: ${error.message}`);
    return "failed";
  }
  if (!navigator.canShare({ files })) {
    say("These files cannot be shared from this browser: downloading instead.");
    fallback();
    return "downloaded";
  }
  const open = async () => {
    try {
      await navigator.share({ files, title });
      say("Shared.");
      return "shared";
    } catch (error) {
      if (error?.name === "AbortError") {
        say("");
        return "cancelled";
      }
      if (error?.name === "NotAllowedError") {
        say(`${files.length === 1 ? "The photo is" : `${files.length} photos are`} ready.`, open);
        return "ready";
      }
      say(`Could not share: ${error?.message ?? error}`);
      return "failed";
    }
  };
  return open();
}
