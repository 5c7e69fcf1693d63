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
