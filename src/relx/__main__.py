import sys

from relx.cli import main

sys.exit(main())
