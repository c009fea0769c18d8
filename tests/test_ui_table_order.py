"""A tick whose changed rows keep their places sorts nothing: the table computes the sort
value of the changed rows only and checks each against its neighbours on screen; the order
it shows is, every tick, the one a fresh sort of all the rows gives (`columns.order`), when
a row moves up, joins a group of equal values (ties by name) or stays put."""

from __future__ import annotations

from textual.pilot import Pilot

from ctop_py.model import Snapshot
from ctop_py.ui import columns as cols
from ctop_py.ui.app import CtopApp
from ctop_py.ui.columns import RowInput
from ctop_py.ui.history import container_key
from tests.test_ui import drive, keys_in_order, make_app, step, table
from tests.test_ui_table_caches import _moving

ROWS = 40
JITTER, JUMPER, JOINER = 10, 30, 35  # rows: one whose CPU moves a little every tick, ...
JUMP_AT, JOIN_AT = 15, 17  # ... one that goes to the top, one that joins the tied rows


def _cpu(tick: int, n: int) -> float:
    if n == JITTER:
        return 181.0 + (tick % 2) * 0.5  # between its neighbours' 182 and 180
    if n == JUMPER and tick >= JUMP_AT:
        return 500.0
    if 20 <= n < 25 or (n == JOINER and tick >= JOIN_AT):
        return 50.0  # equal values: by name
    return 200.0 - 2 * n


def test_rows_that_keep_their_places_are_not_sorted_again_and_the_order_is_a_fresh_sort() -> None:
    app = make_app(_moving(20, lambda tick: ROWS, _cpu))
    column = cols.BY_KEY["cpu"]
    sort_value = column.sort
    assert sort_value is not None
    asked: list[RowInput] = []

    def counted(r: RowInput) -> cols.SortValue:
        asked.append(r)
        return sort_value(r)

    def fresh_order(snapshot: Snapshot | None) -> list[str]:
        assert snapshot is not None
        rows = {
            container_key(v): RowInput(v, app.histories.get(container_key(v)))
            for v in snapshot.containers
        }
        return cols.order(rows, column, False)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 10)  # the sparklines are full: only the jitter's row changes
        t = table(app)
        object.__setattr__(column, "sort", counted)  # Column is frozen
        try:
            for tick in range(10, 20):
                asked.clear()
                kept = t.orders_kept
                await step(app, pilot)
                by_table = [r.view.name for r in asked]
                assert keys_in_order(app) == fresh_order(app.snapshot), tick
                if tick in (JUMP_AT, JOIN_AT):  # a row moved: every row sorted again
                    assert len(by_table) >= ROWS and t.orders_kept == kept
                else:  # the rows whose inputs changed (the jitter's; a mover's sparkline)
                    assert by_table[0].endswith(f"-{JITTER:03d}") and len(by_table) <= 3
                    assert t.orders_kept == kept + 1
        finally:
            object.__setattr__(column, "sort", sort_value)
        # The jumper on top, the joiner among the tied rows by its name (last of them).
        order = keys_in_order(app)
        assert app.snapshot is not None
        by_key = {container_key(v): v.name for v in app.snapshot.containers}
        assert by_key[order[0]].endswith(f"-{JUMPER:03d}")
        tied = [by_key[k] for k in order if int(by_key[k][-3:]) in {20, 21, 22, 23, 24, JOINER}]
        assert tied == sorted(tied) and tied[-1].endswith(f"-{JOINER:03d}") and len(order) == ROWS

    drive(app, scenario)


def test_in_order_agrees_with_the_sort_for_every_pair() -> None:
    """`columns.in_order` says of two rows what `columns.order_of` does: both directions,
    unknown values, equal values (by name, then key), numbers and names."""
    import itertools
    import random

    rng = random.Random(16)
    for column in (cols.BY_KEY["cpu"], cols.BY_KEY["name"]):
        for reverse in (False, True):
            for _ in range(50):
                keys: dict[str, cols.OrderKey] = {}
                for i in range(8):
                    value: cols.SortValue = rng.choice([None, 1.0, 2.0, 2.0, 3.5, 0.0])
                    if column.key == "name" and value is not None:
                        value = rng.choice(["a", "b", "b", "c"])
                    keys[f"k{rng.randrange(4)}{i}"] = (value, rng.choice(["x", "y", "y"]))
                place = {k: i for i, k in enumerate(cols.order_of(keys, column, reverse))}
                for a, b in itertools.permutations(keys, 2):
                    said = cols.in_order((a, keys[a]), (b, keys[b]), column, reverse)
                    assert said == (place[a] < place[b]), (a, b, keys[a], keys[b])
    nan = cols.in_order(("a", (float("nan"), "x")), ("b", (1.0, "y")), cols.BY_KEY["cpu"], False)
    assert nan is None
