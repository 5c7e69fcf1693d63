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
