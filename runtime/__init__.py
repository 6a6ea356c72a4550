"""Runtime stage: classify frames from a camera, video, image or folder with one interpreter.

Runs on a Pi with only numpy, OpenCV and one of ai-edge-litert, tflite-runtime or onnxruntime. It never imports
TensorFlow or the other stages (a test checks ``sys.modules`` in a subprocess).
"""
