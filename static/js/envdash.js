// Small progressive enhancements; the pages work without this file.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy[data-copy]");
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.classList.add("copied");
    setTimeout(() => button.classList.remove("copied"), 1500);
  } catch {
    // Clipboard refused (insecure context or permission): select the text instead.
    const code = document.getElementById(button.getAttribute("aria-controls"));
    if (code) window.getSelection().selectAllChildren(code);
  }
});
// A confirm step for dangerous buttons without inline handlers (CSP has no unsafe-inline).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Live pages (see dashboard/live.py). base.html's #live carries the revision the page was
// built from; follow() asks /live/ for a newer one, and the server holds the question until
// the revision moves (or 25 s pass). When it moved, "envdash:changed" fires and the page's
// [data-live] regions (each with an id) are fetched again, all from one request for this
// page's own URL, and each region whose HTML changed is swapped by htmx. What the user is
// doing survives: a region holding the focused field waits until the focus leaves it; typed
// values, focus and scroll offsets inside a swapped region are put back.
const liveRegions = () => [...document.querySelectorAll("[data-live][id]")];
// The server's HTML of a region as last swapped in, to skip swaps that change nothing;
// CSRF tokens are masked anew on every render, so they are left out of the comparison.
const servedHtml = new WeakMap();
const comparable = (html) => html.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
const editing = (region) => {
  const active = document.activeElement;
  return active && region.contains(active) && active.matches("input, select, textarea");
};

// A path of child positions from `root` to `node`, to find "the same place" after a swap.
function pathOf(root, node) {
  const path = [];
  for (let at = node; at && at !== root; at = at.parentElement) {
    path.unshift([...at.parentElement.children].indexOf(at));
  }
  return path;
}
function follow(root, path) {
  let at = root;
  for (const index of path) at = at && at.children[index];
  return at;
}
const controlKey = (control, index) =>
  [control.form ? control.form.id || control.form.getAttribute("action") : "", control.name, control.type, index].join("|");
function userValues(region) {
  const values = new Map();
  const seen = new Map();
  for (const control of region.querySelectorAll("input, select, textarea")) {
    const base = `${control.name}|${control.type}`;
    const index = seen.get(base) || 0;
    seen.set(base, index + 1);
    if (control.type === "checkbox" || control.type === "radio") {
      if (control.checked !== control.defaultChecked) values.set(controlKey(control, index), control.checked);
    } else if (control.tagName === "SELECT") {
      if ([...control.options].some((option) => option.selected !== option.defaultSelected)) {
        values.set(controlKey(control, index), control.value);
      }
    } else if (control.type !== "hidden" && control.value !== control.defaultValue) {
      values.set(controlKey(control, index), control.value);
    }
  }
  return values;
}
function restoreValues(region, values) {
  if (!values.size) return;
  const seen = new Map();
  for (const control of region.querySelectorAll("input, select, textarea")) {
    const base = `${control.name}|${control.type}`;
    const index = seen.get(base) || 0;
    seen.set(base, index + 1);
    const key = controlKey(control, index);
    if (!values.has(key)) continue;
    if (control.type === "checkbox" || control.type === "radio") control.checked = values.get(key);
    else control.value = values.get(key);
  }
}

function swapRegion(region, html) {
  const id = region.id;
  const active = document.activeElement;
  const focusPath = active && region.contains(active) && !active.id ? pathOf(region, active) : null;
  const scrolled = [region, ...region.querySelectorAll("*")]
    .filter((node) => node.scrollTop || node.scrollLeft)
    .map((node) => [pathOf(region, node), node.scrollTop, node.scrollLeft]);
  const values = userValues(region);
  htmx.swap(region, html, { swapStyle: "outerHTML" });
  const fresh = document.getElementById(id);
  if (!fresh) return;
  servedHtml.set(fresh, comparable(html));
  restoreValues(fresh, values);
  for (const [path, top, left] of scrolled) {
    const node = follow(fresh, path);
    if (node) { node.scrollTop = top; node.scrollLeft = left; }
  }
  if (focusPath && !fresh.contains(document.activeElement)) {
    const node = follow(fresh, focusPath);
    if (node && node.tagName === active.tagName) node.focus({ preventScroll: true });
  }
}

let liveFetching = null;
let liveAgain = false;
async function refreshLive() {
  if (liveFetching) { liveAgain = true; return; }
  liveFetching = fetch(window.location.href, { headers: { "X-Envdash-Live": "1" } });
  try {
    const response = await liveFetching;
    if (response.redirected && new URL(response.url).pathname === "/login/") {
      window.location.reload(); // the session ended: let the login page take over
      return;
    }
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of liveRegions()) {
      const next = page.getElementById(region.id);
      if (!next) continue;
      const html = next.outerHTML;
      if (servedHtml.get(region) === comparable(html)) continue;
      if (editing(region)) {
        // Never pull a field from under the user: try again once they leave the region.
        region.addEventListener("focusout", () => setTimeout(refreshLive), { once: true });
        continue;
      }
      swapRegion(region, html);
    }
  } catch {
    // Offline for a moment (the server restarting): the next change tries again.
  } finally {
    liveFetching = null;
    if (liveAgain) { liveAgain = false; refreshLive(); }
  }
}
// Remember what the server sent, before htmx processes the page (this script is deferred).
for (const region of liveRegions()) servedHtml.set(region, comparable(region.outerHTML));
document.body.addEventListener("envdash:changed", refreshLive);

// One held question per browser, not one per tab. A browser opens at most 6 connections to
// one host: a held question in every open tab would leave none for a click after 6 tabs.
// So the visible tabs of the dashboard elect one (a Web Lock, let go when that tab is hidden
// or closed and taken by the next visible tab) to hold the question, and it tells the others
// what changed (a BroadcastChannel): every visible tab shows a change at once, however many
// are open. A hidden tab asks nothing and ignores what it hears (a tab left in the
// background all day costs nothing); shown again, it asks once at once, catching up on what
// changed meanwhile, and queues for the lock. Without Web Locks (only secure contexts have
// them: loopback is one, a team server over plain http is not) only the focused window
// holds a question; other visible windows ask a quick one every 2 s, and the window that
// gets the focus holds at once. A quick "nothing new" to a held question means the server
// holds no more (all its holds are taken): ask again after 2 s, as a plain poll. Errors (the
// server restarting) back off up to 30 s.
const HELD_SECONDS = 25;
const live = document.getElementById("live");
let since = live?.dataset.since;
let pause = 0;
let wakeEarly = null;
const sleep = (ms) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  wakeEarly = () => { clearTimeout(timer); resolve(); };
});
const shown = () => new Promise((resolve) => {
  if (!document.hidden) { resolve(); return; }
  document.addEventListener("visibilitychange", function again() {
    if (document.hidden) return;
    document.removeEventListener("visibilitychange", again);
    resolve();
  });
});
let asking = null;
let holding = false;
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) return;
  if (asking) asking.abort();
  if (wakeEarly) wakeEarly();
});
window.addEventListener("blur", () => { if (holding && asking) asking.abort(); });
window.addEventListener("focus", () => { if (wakeEarly) wakeEarly(); });
const channel = "BroadcastChannel" in window ? new BroadcastChannel("envdash-live") : null;
const newer = (revision) => Number(revision) > Number(since);
function changed(revision) {
  since = revision;
  document.body.dispatchEvent(new CustomEvent("envdash:changed"));
}
if (channel) {
  channel.addEventListener("message", ({ data }) => {
    if (!document.hidden && newer(data)) changed(data);
  });
}

// One question to the server, held up to `wait` seconds; sets the pause before the next.
async function ask(wait) {
  asking = new AbortController();
  const started = performance.now();
  try {
    const url = `${live.dataset.src}?since=${encodeURIComponent(since)}&wait=${wait}`;
    const response = await fetch(url, {
      signal: asking.signal, cache: "no-store", headers: { "X-Envdash-Live": "1" },
    });
    if (response.redirected && new URL(response.url).pathname === "/login/") {
      window.location.reload(); // the session ended: let the login page take over
      await new Promise(() => {});
    }
    if (response.status === 204) {
      pause = !wait || performance.now() - started < 1000 ? 2000 : 0;
    } else if (response.ok) {
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      const revision = next.getElementById("live")?.dataset.since;
      pause = 0;
      if (revision !== undefined && revision !== since) { // a reset database goes back
        changed(revision);
        if (channel) channel.postMessage(revision);
      }
    } else {
      pause = Math.min(Math.max(pause * 2, 2000), 30000);
    }
  } catch {
    // Aborted (the tab was hidden, or lost the focus while holding) or offline for a moment.
    pause = asking.signal.aborted ? 0 : Math.min(Math.max(pause * 2, 2000), 30000);
  } finally {
    asking = null;
    wakeEarly = null;
  }
}

// The tab holding the lock: held questions for the whole browser while it is shown.
async function lead() {
  pause = 0;
  while (!document.hidden) {
    if (pause) await sleep(pause);
    if (document.hidden) break;
    await ask(HELD_SECONDS);
  }
}
async function followShared() {
  for (let first = true; ; first = false) {
    await shown();
    if (!first) await ask(0); // what changed while this tab was hidden
    const hidden = new AbortController();
    const onHidden = () => { if (document.hidden) hidden.abort(); };
    document.addEventListener("visibilitychange", onHidden);
    try {
      await navigator.locks.request("envdash-live", { signal: hidden.signal }, lead);
    } catch {
      // Hidden while another tab held the lock: nothing to let go.
    } finally {
      document.removeEventListener("visibilitychange", onHidden);
    }
  }
}
async function followAlone() {
  for (;;) {
    await shown();
    if (pause) await sleep(pause);
    if (document.hidden) continue;
    holding = document.hasFocus();
    await ask(holding ? HELD_SECONDS : 0);
    holding = false;
  }
}
if (live && liveRegions().length) (channel && navigator.locks ? followShared : followAlone)();
else live?.remove(); // nothing to update

// A job's log follows its newest line, like a terminal or a CI log, unless the user
// scrolled up to read: then it stays where they are until they scroll back to the end.
for (const log of document.querySelectorAll("pre.log")) {
  const atEnd = () => log.scrollHeight - log.scrollTop - log.clientHeight < 4;
  let following = true;
  log.addEventListener("scroll", () => { following = atEnd(); }, { passive: true });
  const toEnd = () => { if (following) log.scrollTop = log.scrollHeight; };
  new MutationObserver(toEnd).observe(log, { childList: true });
  toEnd();
}
