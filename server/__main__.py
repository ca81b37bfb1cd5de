"""Allow `python -m perfpilot.server`."""

from perfpilot.server.cli import main

raise SystemExit(main())
