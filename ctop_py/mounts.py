"""/proc/<pid>/mountinfo: bytes → typed records, and overlayfs super options → layer paths.

Path fields keep the exact bytes of the name: they are decoded with surrogateescape, so
`fsencode(field)` gives back what the kernel printed (after its octal escapes are undone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ctop_py.host import HostRoot, Malformed, read_bytes

_OCTAL = re.compile(rb"\\([0-3][0-7][0-7])")

# Filesystems that hold files on a disk: a mount of one of these with a sub-root is a bind.
_DISK_FSTYPES = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "exfat", "ntfs3", "nfs", "nfs4"}
)
_PSEUDO_FSTYPES = frozenset(
    {
        "proc",
        "sysfs",
        "devpts",
        "mqueue",
        "cgroup",
        "cgroup2",
        "securityfs",
        "debugfs",
        "tracefs",
        "bpf",
        "pstore",
        "configfs",
        "fusectl",
        "hugetlbfs",
        "nsfs",
        "binfmt_misc",
        "autofs",
        "devtmpfs",
    }
)


def fsdecode(raw: bytes) -> str:
    """Exact bytes → str, independent of the locale (undecodable bytes become surrogates)."""
    return raw.decode("utf-8", "surrogateescape")


def fsencode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def unescape_octal(raw: bytes) -> bytes:
    r"""Undo the kernel's `\ooo` escapes (space \040, tab \011, newline \012, \ \134, , \054)."""
    if b"\\" not in raw:
        return raw
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), raw)


def unescape_backslash(text: str) -> str:
    r"""Overlay's own unescaping of a mount(2) option value: `\X` → `X` (e.g. `\:`, `\,`)."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class MountInfo:
    """One line of mountinfo. Path fields are unescaped; `super_options` split then unescaped."""

    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str  # path inside the mounted filesystem: the source of a bind mount
    mount_point: str
    mount_options: tuple[str, ...]
    optional_fields: tuple[str, ...]  # shared:N, master:N, propagate_from:N, unbindable
    fstype: str
    source: str
    super_options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.mount_options

    @property
    def kind(self) -> str:
        """A coarse label for display: volume, bind, tmpfs, pseudo, overlay or other."""
        if self.fstype == "overlay":
            return "overlay"
        if self.fstype in ("tmpfs", "ramfs"):
            return "tmpfs"
        if self.fstype in _PSEUDO_FSTYPES:
            return "pseudo"
        if "/volumes/" in self.root and self.root.endswith("/_data"):
            return "volume"
        if self.root != "/" or self.fstype in _DISK_FSTYPES:
            return "bind"
        return "other"


@dataclass(frozen=True)
class OverlayOptions:
    """The layers of an overlay mount as the kernel printed them (not resolved yet)."""

    lowerdirs: tuple[str, ...]  # top first
    datadirs: tuple[str, ...]  # data-only layers (after `::`, or `datadir+=`): not in the view
    upperdir: str | None  # None for a read-only overlay
    workdir: str | None
    other: tuple[str, ...]  # every other option as printed, e.g. "userxattr", "index=off"
    new_api: bool  # lowerdir+= form (fsconfig), whose paths are not backslash-escaped

    @property
    def xattr_prefix(self) -> str:
        # With userxattr (rootless) overlay keeps whiteout/opaque marks in user.overlay.*.
        return "user.overlay." if "userxattr" in self.other else "trusted.overlay."


def _int(field: bytes, what: str, path: str, lineno: int) -> int:
    try:
        return int(field)
    except ValueError:
        raise Malformed(path, f"line {lineno}: {what} {field!r} is not a number") from None


def parse_mountinfo(data: bytes, path: str = "mountinfo") -> tuple[MountInfo, ...]:
    """Parse a whole mountinfo file. `path` only names the file in errors."""
    records: list[MountInfo] = []
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        fields = line.split(b" ")
        try:
            sep = fields.index(b"-", 6)
        except ValueError:
            raise Malformed(path, f"line {lineno}: no ' - ' separator") from None
        if len(fields) < sep + 3:
            raise Malformed(path, f"line {lineno}: missing fstype or source")
        major, _, minor = fields[2].partition(b":")
        super_raw = fields[sep + 3] if len(fields) > sep + 3 else b""
        records.append(
            MountInfo(
                mount_id=_int(fields[0], "mount id", path, lineno),
                parent_id=_int(fields[1], "parent id", path, lineno),
                major=_int(major, "major", path, lineno),
                minor=_int(minor, "minor", path, lineno),
                root=fsdecode(unescape_octal(fields[3])),
                mount_point=fsdecode(unescape_octal(fields[4])),
                mount_options=tuple(fsdecode(o) for o in fields[5].split(b",")),
                optional_fields=tuple(fsdecode(f) for f in fields[6:sep]),
                fstype=fsdecode(unescape_octal(fields[sep + 1])),
                source=fsdecode(unescape_octal(fields[sep + 2])),
                # Split first: a comma inside a value is printed as \054, a separator is not.
                super_options=tuple(fsdecode(unescape_octal(o)) for o in super_raw.split(b",")),
            )
        )
    return tuple(records)


def split_lowerdir(value: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    r"""Legacy `lowerdir=A:B::C` (already octal-decoded) → (lowers top-first, data-only layers).

    `:` separates layers unless escaped with `\`; the first `::` starts the data-only layers.
    """
    lowers: list[str] = []
    data: list[str] = []
    current: list[str] = []
    in_data = False
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i + 1])
            i += 2
            continue
        if ch == ":":
            (data if in_data else lowers).append("".join(current))
            current = []
            if value[i + 1 : i + 2] == ":":
                in_data = True
                i += 2
            else:
                i += 1
            continue
        current.append(ch)
        i += 1
    (data if in_data else lowers).append("".join(current))
    return tuple(lowers), tuple(data)


def parse_overlay_options(super_options: tuple[str, ...]) -> OverlayOptions:
    lowers: list[str] = []
    data: list[str] = []
    other: list[str] = []
    upper: str | None = None
    work: str | None = None
    new_api = False
    for option in super_options:
        key, _, value = option.partition("=")
        if key == "lowerdir":
            legacy_lowers, legacy_data = split_lowerdir(value)
            lowers.extend(legacy_lowers)
            data.extend(legacy_data)
        elif key == "lowerdir+":
            # fsconfig paths are taken verbatim by the kernel: no backslash unescaping.
            new_api = True
            lowers.append(value)
        elif key == "datadir+":
            new_api = True
            data.append(value)
        elif key == "upperdir":
            upper = unescape_backslash(value)
        elif key == "workdir":
            work = unescape_backslash(value)
        elif option:
            other.append(option)
    return OverlayOptions(
        lowerdirs=tuple(lowers),
        datadirs=tuple(data),
        upperdir=upper,
        workdir=work,
        other=tuple(other),
        new_api=new_api,
    )


def mountinfo_path(root: HostRoot, pid: int) -> Path:
    return root.proc / str(pid) / "mountinfo"


def read_mountinfo(root: HostRoot, pid: int) -> tuple[MountInfo, ...]:
    """The mounts a process sees. A zombie's mountinfo fails with EINVAL: that raises Gone."""
    path = mountinfo_path(root, pid)
    return parse_mountinfo(read_bytes(path), str(path))


def root_mount(mounts: tuple[MountInfo, ...]) -> MountInfo | None:
    """The mount a process sees at `/`: the last one listed there (later mounts stack on top)."""
    found: MountInfo | None = None
    for mount in mounts:
        if mount.mount_point == "/":
            found = mount
    return found
