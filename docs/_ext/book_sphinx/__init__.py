"""The book's own Sphinx extensions, one module per concern.

``docs/conf.py`` lists them by module (``book_sphinx.claims``,
``book_sphinx.copy_with_setup``, ...). They know nothing of the companion
package or of the frameworks: what they need of the book (which package to
fingerprint, which distributions to name) comes from its configuration.
``nox -s docs`` installs them (``pip install -e docs/_ext``); the README's
"The build" describes each one.
"""
