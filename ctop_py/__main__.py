import sys

from ctop_py.cli import main

sys.exit(main())
