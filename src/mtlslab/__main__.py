import sys

from mtlslab.cli import main

sys.exit(main())
