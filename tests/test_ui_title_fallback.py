"""The containers table's border title: where Textual's `border_title` is a data descriptor
(Textual 8), the table wraps it so that a new title repaints the lines above the rows only;
where it is not, the table keeps Textual's own (and its whole repaint). Decided when the module
is imported: both ways are checked by importing a fresh copy of the module."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from textual.widget import Widget

from ctop_py.ui.widgets import container_table

MODULE = container_table.__name__


def _fresh_copy() -> ModuleType:
    """The module executed again, as if imported now (not registered in sys.modules)."""
    spec = importlib.util.find_spec(MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sys.modules[MODULE] is container_table  # the app's module is untouched
    return module


def test_textuals_title_descriptor_is_wrapped() -> None:
    textuals = vars(Widget)["border_title"]
    assert hasattr(textuals, "__set__"), "Textual's border_title is no longer a data descriptor"
    copy = _fresh_copy()
    wrapper = vars(copy.ContainerTable)["border_title"]
    assert type(wrapper).__name__ == "_TitleLinesOnly"
    assert wrapper.textuals is textuals


def test_without_a_data_descriptor_the_table_keeps_textuals_title(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NotADataDescriptor:  # a Textual whose border_title cannot be set through the class
        def __get__(self, obj: object, owner: object = None) -> str:
            return "textual's"

    plain = NotADataDescriptor()
    monkeypatch.setattr(Widget, "border_title", plain)
    copy = _fresh_copy()
    assert "border_title" not in vars(copy.ContainerTable)
    assert copy.ContainerTable.border_title == "textual's"  # resolved to Widget's own
