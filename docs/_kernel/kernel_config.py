# IPython kernel settings for executing the book's chapters.
# The build copies this file into the IPYTHONDIR it gives the kernel.
c = get_config()  # noqa: F821

# Native libraries (TensorFlow's C++ logging, oneDNN notices) write straight
# to file descriptor 2. With fd capture off they go to the build log instead
# of the page; Python-level warnings still reach the page through sys.stderr.
c.IPKernelApp.capture_fd_output = False
# Hide the kernel's own notices (e.g. "running over TCP without encryption").
c.IPKernelApp.log_level = "ERROR"
c.HistoryManager.enabled = False
# An intended error (a cell tagged raises-exception) shows its exception line,
# not the frames inside the framework that raised it.
c.InteractiveShell.xmode = "Minimal"

# Vector figures: sharp at any zoom, and small for line drawings.
c.InlineBackend.figure_formats = {"svg"}
c.InlineBackend.rc = {"svg.hashsalt": "pytorch-vs-tensorflow", "figure.dpi": 100}
