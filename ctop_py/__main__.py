import gc
import sys

# Without the cyclic collector while the modules load (its passes over the freshly made
# classes: ~25 at start-up, 5 ms); main() turns it back on for every command but the
# one-shot ones.
gc.disable()

from ctop_py.cli import main  # noqa: E402

sys.exit(main())
