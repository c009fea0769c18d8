"""The Textual UI: the only package of ctop-py that imports Textual or Rich.

Entry point: `ctop_py.ui.app.run_app(root, args)`. Snapshots come from a source
(`ctop_py.ui.source`): live (Collector + derive in a worker thread) or static (tests, screenshots).
"""
