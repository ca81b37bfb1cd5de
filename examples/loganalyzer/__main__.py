"""Allow ``python -m loganalyzer``."""

from .cli import main

raise SystemExit(main())
