"""`python -m benchmarks` (`make bench`): see benchmarks/run.py."""

from benchmarks.run import main

raise SystemExit(main())
