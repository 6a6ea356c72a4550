"""The data stage: the artifact folder, the typed description of the data a model was trained on, the split and
sampling rules, and the one labelled-image loader every stage uses.

Stands on :mod:`edgecnn.runtime` only (images are decoded as the runtime decodes them); never imports TensorFlow,
``train``, ``convert`` or ``devices``, so both training and conversion (and bench, bundle, smoke) can rely on it.
"""
