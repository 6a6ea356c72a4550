"""Runs .tflite files in tflite-runtime inside ANOTHER Python (the numpy<2 .venv-tflite214); stdlib + numpy only.

Invoked as a script by :mod:`edgecnn.convert.tflite214`: reads ``{"jobs": [{"model", "input", "output"}]}`` as JSON
on stdin, where ``input`` is a ``.npy`` batch of ready input tensors; writes each output batch to ``output`` and
prints ``{model: {"ok": true} | {"ok": false, "error": "..."}, "version": "..."}`` as one JSON line.
It must not import edgecnn: edgecnn is not installed in that environment.
"""

import json
import sys

import numpy as np


def run(job):
    from tflite_runtime.interpreter import Interpreter

    interpreter = Interpreter(model_path=job["model"], num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for item in np.load(job["input"]):
        interpreter.set_tensor(inp["index"], item[None])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"])[0])
    np.save(job["output"], np.stack(results))


def main():
    import tflite_runtime

    request = json.load(sys.stdin)
    report = {"version": tflite_runtime.__version__, "models": {}}
    for job in request["jobs"]:
        try:
            run(job)
            report["models"][job["model"]] = {"ok": True}
        except Exception as err:  # noqa: BLE001 - report any interpreter failure as data, never a traceback
            lines = str(err).strip().splitlines()
            report["models"][job["model"]] = {"ok": False, "error": (lines[0] if lines else type(err).__name__)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
