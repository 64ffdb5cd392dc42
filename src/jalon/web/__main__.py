"""``python -m jalon.web``: run the ingest server without the ``jalon`` CLI."""

from jalon.web.server import main

main()
