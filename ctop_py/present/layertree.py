"""Plain text for the explorer: a chain's layers, a tree, efficiency (their JSON is
`ctop_py.export.layers`, through the one encoder).

Names, targets and instructions come from images and containers: every one is escaped
(present.safe) before it reaches a terminal.
"""

from __future__ import annotations

import re

from ctop_py import present
from ctop_py.layers.efficiency import Efficiency
from ctop_py.layers.fsutil import FileType
from ctop_py.layers.image import LayerChain
from ctop_py.layers.provenance import Provenance
from ctop_py.layers.stack import Layer, LayerRole
from ctop_py.layers.tree import Mark, Node, TreeWalk

_WHAT = 60


def layer_name(layer: Layer) -> str:
    """What made a layer, for one line: the instruction, or the role for a container's own."""
    if layer.role is LayerRole.UPPER:
        return "container layer (rw)"
    if layer.role is LayerRole.INIT:
        return "container init layer"
    return layer.instruction or "(instruction unknown)"


def short_id(layer: Layer) -> str:
    ident = layer.diff_id or layer.layer_id or ""
    return ident.removeprefix("sha256:")[:12]


def format_chain(chain: LayerChain) -> str:
    rows = [["#", "id", "size", "made by"]]
    for i, layer in enumerate(chain.layers):
        size = present.size(layer.size) if layer.size is not None else ""
        rows.append([str(i), short_id(layer), size, present.safe(layer_name(layer), _WHAT)])
    out = [f"{present.safe(chain.name)}  {(chain.image_id or '')[7:19]}", *_table(rows)]
    out.extend(f"warning: {present.safe(w)}" for w in chain.warnings)
    return "\n".join(out)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {2}
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def node_label(node: Node) -> str:
    """The name as shown in a tree: escaped, '/' after a directory, the target of a link."""
    text = present.safe(node.name)
    if node.file_type is FileType.DIR:
        text += "/"
    if node.symlink_target is not None:
        text += " → " + present.safe(node.symlink_target)
    if node.opaque:
        text += "  (opaque)"
    if node.file_type is FileType.WHITEOUT:
        text += "  (whiteout)"
    return text


def _last_flags(nodes: tuple[Node, ...]) -> list[bool]:
    """Whether each node is the last of its siblings (scanning from the end)."""
    out = [False] * len(nodes)
    next_at_depth: dict[int, bool] = {}
    for i in range(len(nodes) - 1, -1, -1):
        depth = nodes[i].depth
        out[i] = not next_at_depth.get(depth, False)
        next_at_depth = {d: v for d, v in next_at_depth.items() if d < depth}
        next_at_depth[depth] = True
    return out


def format_tree(walk: TreeWalk, chain: LayerChain) -> str:
    layer = chain.layers[walk.layer]
    view = "merged view up to" if walk.merged else "layer"
    head = f"{view} {walk.layer}: {present.safe(layer_name(layer), _WHAT)}"
    if not walk.exists:
        return f"{head}\n{present.safe(walk.path)}: not a directory in this view"
    out = [head, f"  {'':1} {'size':>10}  {present.safe(walk.path)}"]
    last = _last_flags(walk.nodes)
    open_levels: list[bool] = []  # per depth: does the branch above still continue?
    for node, is_last in zip(walk.nodes, last, strict=True):
        del open_levels[node.depth :]
        prefix = "".join("│   " if more else "    " for more in open_levels)
        prefix += "└── " if is_last else "├── "
        open_levels.append(not is_last)
        size = "" if node.size is None else present.size(node.size)
        where = f"  [{node.layer}]" if walk.merged and node.layer is not None else ""
        out.append(f"{node.mark.symbol} {size:>10}  {prefix}{node_label(node)}{where}")
    counts = walk.counts()
    summary = (
        f"{walk.files} files, {walk.dirs} directories, {present.size(walk.size)}; "
        f"+ {counts[Mark.ADDED]} added, ~ {counts[Mark.MODIFIED]} modified, "
        f"- {counts[Mark.REMOVED]} removed ({present.size(walk.removed_size)})"
    )
    out.append(summary + ("; truncated" if walk.truncated else ""))
    out.extend(f"skipped {present.safe(s.path)}: {present.safe(s.reason)}" for s in walk.skipped)
    return "\n".join(out)


def efficiency_line(eff: Efficiency) -> str:
    return (
        f"efficiency {eff.efficiency * 100:.2f} %, wasted {present.size(eff.wasted_bytes)} "
        f"({eff.wasted_bytes} bytes), user size {present.size(eff.user_size_bytes)}"
    )


def format_efficiency(eff: Efficiency, chain: LayerChain, top: int = 20) -> str:
    out = [efficiency_line(eff) + ("; truncated" if eff.truncated else "")]
    if eff.wasted:
        rows = [["count", "wasted", "layers", "path"]]
        for w in eff.wasted[:top]:
            rows.append(
                [
                    str(len(w.layers)),
                    present.size(w.bytes),
                    ",".join(str(i) for i in w.layers),
                    present.safe(w.path),
                ]
            )
        out.extend(_table(rows))
        if len(eff.wasted) > top:
            out.append(f"… {len(eff.wasted) - top} more")
    out.extend(f"skipped {present.safe(s.path)}: {present.safe(s.reason)}" for s in eff.skipped)
    return "\n".join(out)


def _index(chain: LayerChain, layer: Layer) -> int | None:
    try:
        return chain.layers.index(layer)
    except ValueError:
        return None


def _indexes(chain: LayerChain, text: str) -> str:
    """provenance's layer labels ("lower 3", "init", "upper") as the explorer's indexes."""

    def one(match: re.Match[str]) -> str:
        label = match.group(0)
        for i, layer in enumerate(chain.layers):
            if layer.label == label:
                return f"layer {i}"
        return label

    return re.sub(r"\blower \d+\b|\binit\b|\bupper\b", one, text)


def provenance_line(chain: LayerChain, layer: int, upto: Provenance, whole: Provenance) -> str:
    """One line for the selected path: which layer provides it (as of layer `layer`), what it
    shadows, and whether a later layer replaces or deletes it."""
    path = present.safe(upto.path)
    if upto.provider is not None:
        at = _index(chain, upto.provider.layer)
        kind = upto.file_type.value if upto.file_type else "?"
        made = present.safe(layer_name(upto.provider.layer), 40)
        text = f"{path}: {kind} from layer {at} ({made})"
        merged = [_index(chain, h.layer) for h in upto.merged_from[1:]]
        if merged:
            text += "; merged with layers " + ", ".join(str(i) for i in merged)
        shadowed = [_index(chain, h.layer) for h in upto.shadowed]
        if shadowed:
            text += "; shadows layers " + ", ".join(str(i) for i in shadowed)
    else:
        text = f"{path}: not in the view up to layer {layer}"
        if upto.hidden_by:
            text += f" ({present.safe(_indexes(chain, upto.hidden_by))})"
    if upto.exists and not whole.exists:
        text += f"; deleted later: {present.safe(_indexes(chain, whole.hidden_by or 'absent'))}"
    elif upto.provider is not None and whole.provider is not None:
        later = _index(chain, whole.provider.layer)
        if later is not None and later > layer:
            text += f"; replaced in layer {later}"
    return text


def efficiency_summary(eff: Efficiency, top: int = 3) -> str:
    """The explorer's efficiency line: score, wasted bytes, the largest wasted paths."""
    text = efficiency_line(eff)
    if eff.wasted:
        shown = ", ".join(
            f"{present.safe(w.path, 60)} {present.size(w.bytes)} "
            f"[{','.join(str(i) for i in w.layers)}]"
            for w in eff.wasted[:top]
        )
        text += f"; top wasted: {shown}"
    if eff.truncated:
        text += " (truncated)"
    return text


MOUNT_KINDS = ("volume", "bind", "tmpfs")


def mounts_text(chain: LayerChain) -> str:
    """A container's volumes, binds and tmpfs mounts, one per line (what lies over the
    layers: a path under one of them is not read from the layers)."""
    lines = []
    for m in chain.mounts:
        if m.kind not in MOUNT_KINDS:
            continue
        if m.kind == "tmpfs" and m.mount_point.startswith(("/dev", "/proc/", "/sys/")):
            continue  # the runtime's own (/dev, /dev/shm, masked /proc and /sys paths)
        source = m.root if m.kind in ("bind", "volume") else m.source
        mode = "ro" if m.read_only else "rw"
        lines.append(
            f"{present.safe(m.mount_point, 40)}  {m.kind} {mode}  {present.safe(source, 120)}"
        )
    return "\n".join(lines)
