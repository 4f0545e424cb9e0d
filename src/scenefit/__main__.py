"""``python -m scenefit``: the command line (see :mod:`scenefit.cli`)."""

from .cli import main

raise SystemExit(main())
