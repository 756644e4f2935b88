// Copy buttons, where JavaScript and the clipboard are available; the page works
// without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  const copied = document.body.dataset.copied || "Copied";
  for (const button of document.querySelectorAll("button.copy")) {
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = copied;
        setTimeout(() => { button.textContent = label; }, 1500);
      } catch (_) {
        // No permission: the value stays on the page to select by hand.
      }
    });
  }
});
