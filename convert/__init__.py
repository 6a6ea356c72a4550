"""Conversion stage: exports a trained model to TFLite and ONNX and checks parity with the original."""
