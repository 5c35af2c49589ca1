import sys

from services.metrics.cli import main

sys.exit(main())
