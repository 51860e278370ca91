"""The style of the chapter's HTML table of rows, inlined into the table itself.

The table is a cell output, so the notebook a reader downloads carries its
style with it. The sheet is kept in a module (not a ``.css`` file) so that
the book's execution fingerprint, which follows the Python modules a chapter
imports, re-executes the chapter when the style changes. ``!important``
marks what the theme would otherwise override in a cell output.
"""

TABLE_STYLE = """<style>
/* !important: the theme sets table-layout: auto on every table in a cell output. */
table.api-table { border-collapse: collapse; font-size: 0.8em; width: 100% !important;
  table-layout: fixed !important; }
table.api-table th, table.api-table td { border: 1px solid var(--pst-color-border, #ccc);
  padding: 0.3em 0.45em; vertical-align: top; overflow-wrap: anywhere; }
table.api-table caption { caption-side: bottom; text-align: left; font-size: 0.95em;
  color: var(--pst-color-text-muted, #555); padding-top: 0.3em; }
table.api-table tr.task th { text-align: left; font-weight: 600;
  background: var(--pst-color-surface, #f3f4f5); }
table.api-table tr.task th .verdict { float: right; font-weight: normal; }
table.api-table tr.task.differs th .verdict { font-weight: 600; color: #a04a00; }
table.api-table tr.task.differs th { background: rgba(255, 143, 0, 0.18); }
table.api-table pre { margin: 0; padding: 0; background: none; border: none;
  font-size: 1em; white-space: pre-wrap; overflow-wrap: anywhere; }
table.api-table .attempt + .attempt { margin-top: 0.45em; border-top: 1px dashed #bbb;
  padding-top: 0.3em; }
table.api-table .result { color: var(--pst-color-text-muted, #555); }
table.api-table .raised { color: #c62828; }
table.api-table .not-numpy { color: #a04a00; }
</style>"""
