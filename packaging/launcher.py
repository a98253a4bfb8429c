"""The installed application's entry point: the same ``ptdoc`` command as a pip install's."""

from ptdoc.cli import main

raise SystemExit(main())
