"""One file per registered model; the file name is its key (see :mod:`edgecnn.train.registry`)."""
