import sys

from analognasbench.cli import main

sys.exit(main())
