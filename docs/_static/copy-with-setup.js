// "Copy with setup": next to a code cell's copy button, a second button that
// copies the cell together with the earlier code it needs. Its slice, the
// numbers of those cells, is in an empty <template> written by
// docs/_ext/book_sphinx/copy_with_setup.py; the code is the cells' own, as the page shows
// it (a cell whose input is hidden has its code in a template of its own).
// A cell whose slice cannot be offered gets a visible label with the reason.
(function () {
  "use strict";

  const LABEL = "Copy with setup";

  function cellCode(number) {
    const shown = document.querySelector(`template.copy-with-setup[data-cell="${number}"]`);
    const block = shown && shown.parentElement.querySelector("div.highlight pre");
    if (block) return block.textContent;
    const hidden = document.querySelector(`template.copy-with-setup-source[data-cell="${number}"]`);
    if (hidden) return hidden.content.textContent;
    throw new Error(`copy with setup: the page has no code for cell ${number}`);
  }

  // As cell_slices.slice_source joins them: a blank line between the cells.
  function snippet(template) {
    const parts = template.dataset.cells.split(" ").map(
      (number) => cellCode(number).replace(/^\n+|\n+$/g, ""));
    return parts.join("\n\n") + "\n";
  }

  function addButton(template, block) {
    const lines = template.dataset.lines;
    const what = `Copy this cell together with the earlier code it needs (${lines} lines)`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-with-setup";
    button.dataset.cell = template.dataset.cell;
    button.textContent = LABEL;
    button.title = what;
    button.setAttribute("aria-label", `${LABEL}: ${what.toLowerCase()}`);
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(snippet(template));
        button.textContent = "Copied";
      } catch (error) {
        button.textContent = "Copy failed";
      }
      setTimeout(() => { button.textContent = LABEL; }, 2000);
    });
    block.after(button);
  }

  function addLabel(template, block) {
    const note = document.createElement("p");
    note.className = "copy-with-setup-label";
    note.textContent =
      `Runs as part of the chapter: ${template.dataset.label}. ` +
      "Download the chapter's notebook to run it.";
    block.after(note);
  }

  function decorate() {
    for (const template of document.querySelectorAll("template.copy-with-setup")) {
      const block = template.parentElement.querySelector("div.highlight");
      if (!block) continue;
      if (template.dataset.label) {
        addLabel(template, block);
      } else if (template.dataset.cells.split(" ").length > 1) {
        addButton(template, block);  // a cell that needs nothing is its own snippet
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", decorate);
  } else {
    decorate();
  }
})();
