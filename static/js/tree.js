// The dependency tree's filter (templates/dashboard/tree.html): as you type, only the rows
// whose package name holds the text stay, with the rows on their paths from the top (the
// server's ?q= does the same without JavaScript). Delegated: the tree is loaded by htmx.
"use strict";
function filterTree(box) {
  const tree = box.closest("[data-tree]");
  if (!tree) return;
  const rows = [...tree.querySelectorAll("li[data-depth]")];
  const query = box.value.trim().toLowerCase();
  const keep = new Set();
  const path = [];
  for (const row of rows) {
    path.length = Number(row.dataset.depth);
    path.push(row);
    if (!query || row.dataset.name.includes(query)) for (const above of path) keep.add(above);
  }
  for (const row of rows) row.hidden = !keep.has(row);
  const count = tree.querySelector("[data-tree-count]");
  if (count) count.textContent = `${keep.size} of ${rows.length} row${rows.length === 1 ? "" : "s"}`;
}
document.addEventListener("input", (event) => {
  const box = event.target.closest("[data-tree-filter]");
  if (box) filterTree(box);
});
// Typing filters already: Enter must not reload the page.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("[data-tree-form]");
  if (form) event.preventDefault();
});

// The section stays open, and its filter typed, across the page's live updates (which
// replace it) and reloads: remembered per page for this tab (sessionStorage).
const treeKey = () => `envdash:tree:${window.location.pathname}`;
document.addEventListener("toggle", (event) => {
  if (event.target.id === "tree-section") {
    sessionStorage.setItem(treeKey(), event.target.open ? "open" : "");
  }
}, true);
document.addEventListener("input", (event) => {
  if (event.target.closest("#tree-section [data-tree-filter]")) {
    sessionStorage.setItem(`${treeKey()}:q`, event.target.value);
  }
});
function reopenTree() {
  const section = document.getElementById("tree-section");
  if (section && !section.open && sessionStorage.getItem(treeKey()) === "open") section.open = true;
}
// The tree as first loaded into the section: put the remembered filter back.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!event.detail.target.classList.contains("tree-body")) return;
  const box = event.detail.target.querySelector("[data-tree-filter]");
  const query = sessionStorage.getItem(`${treeKey()}:q`);
  if (box && query) {
    box.value = query;
    filterTree(box);
  }
});
reopenTree();
new MutationObserver(reopenTree).observe(document.body, { childList: true, subtree: true });
