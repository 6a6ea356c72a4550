"""edgecnn: the chapter's CNN image classifiers from training to a live camera on a Raspberry Pi.

Stages are subpackages: ``edgecnn.data``, ``edgecnn.train``, ``edgecnn.convert``, ``edgecnn.runtime``,
``edgecnn.devices``.
This module stays import-light: ``edgecnn.runtime`` must load on a Pi without TensorFlow.
"""

__version__ = "0.1.0"
