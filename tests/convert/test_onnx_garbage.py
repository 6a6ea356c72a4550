"""The collector that keeps tf2onnx's dropped graph copies from piling up (convert/onnx_export.py's module note)."""

import gc
import time
import weakref

from edgecnn.convert.onnx_export import collecting_garbage


class Node:
    def __init__(self):
        self.graph = self  # a reference cycle, as tf2onnx's nodes and graphs hold
        self.weights = bytearray(8 << 20)


def test_cycles_dropped_inside_the_block_are_freed_while_it_runs():
    was_enabled = gc.isenabled()
    gc.disable()  # only the block's collector may free the cycle
    try:
        with collecting_garbage(interval_s=0.05):
            dropped = weakref.ref(Node())
            deadline = time.monotonic() + 5
            while dropped() is not None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert dropped() is None
        kept_until_the_end = Node()
        probe = weakref.ref(kept_until_the_end)
        del kept_until_the_end
        assert probe() is not None  # without the collector, a cycle outlives its last name
    finally:
        if was_enabled:
            gc.enable()
