"""``python -m dicomprint_server``: the ``dicomprint`` command."""

from .cli import main

raise SystemExit(main())
