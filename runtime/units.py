"""One way to print a file size everywhere (export table, verify table, bench table, report): decimal kB and MB."""

from __future__ import annotations


def format_size(num_bytes: int) -> str:
    """``958`` kB below one megabyte (``980.8 kB``), MB from there on (``3.51 MB``); 1 kB = 1000 bytes."""
    return f"{num_bytes / 1e3:.1f} kB" if num_bytes < 1e6 else f"{num_bytes / 1e6:.2f} MB"
