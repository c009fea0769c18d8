"""The Textual UI: the only package of ctop-py that imports Textual or Rich.

Built by `ctop_py.ui.app.make_app(source, options)`, which `ctop_py.cli` runs. Snapshots come
from a source (`ctop_py.ui.source`): live (Collector + derive in a worker thread), a recording,
or static (tests, screenshots).
"""
