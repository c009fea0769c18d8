"""The root of ctop-py's own errors. Each says in one line what failed (and where, for a
host read); `ctop_py.cli` prints it on stderr and exits 2, never with a traceback.

    CtopError
      HostError (host.py): a read failed, naming its path
        Gone, NoAccess, Malformed; NetError (net.py)
      RecordingError (record.py): a recording could not be written or read
      StackError (stacks.py): py-spy could not show a process's stacks, with a `kind`
      CliError (commands/common.py): the command line asked for something impossible
      TimeError (sources.py): a time that cannot be read (also a ValueError)

errno is mapped to these in one place: `ctop_py.host.error_from_errno`."""

from __future__ import annotations


class CtopError(Exception):
    """Anything ctop-py says it could not do; str() is one line for the user."""
