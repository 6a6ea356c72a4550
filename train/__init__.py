"""Training stage: the chapter's models (``edgecnn.train.models``), data loading, augmentation and fitting.

Importing this package does not import TensorFlow; the functions that need it import it when they run.
"""
