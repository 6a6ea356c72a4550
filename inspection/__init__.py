"""Inspect: see what the network sees (filters, pooling, feature maps, the parameter walk-through)."""
