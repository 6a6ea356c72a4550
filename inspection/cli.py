"""``edgecnn inspect``: filters and pooling on any image, feature maps of a model, the parameter walk-through.

``edgecnn inspect MODEL IMAGE`` is short for ``edgecnn inspect features MODEL IMAGE``. Nothing heavy is imported
here: TensorFlow loads only for ``.keras`` / registry models, and only when the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgecnn.help_format import DefaultsHelpFormatter, count
from edgecnn.inspect.kernels import KERNELS

SUBCOMMANDS = ("filters", "features", "summary")


class _AnyWord(dict):
    """Subcommand table that lets argparse accept any first word (a MODEL path); lookups stay exact."""

    def __contains__(self, key) -> bool:
        return True


class _DefaultToFeatures(argparse._SubParsersAction):
    """Routes ``inspect MODEL IMAGE`` (first word not a subcommand) to ``inspect features MODEL IMAGE``."""

    def accept_any_first_word(self) -> None:
        """Call after the subcommands are added: argparse checks the first word against ``choices`` before it
        calls the action, so ``choices`` must accept a MODEL path; :meth:`__call__` then routes it."""
        self.choices = _AnyWord(self._name_parser_map)

    def __call__(self, parser, namespace, values, option_string=None):
        if values and values[0] not in self._name_parser_map:
            values = ["features", *values]
        super().__call__(parser, namespace, values, option_string)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="see what a network sees: filters, pooling, feature maps, parameter counts",
        formatter_class=DefaultsHelpFormatter,
        description="See what the network sees.\n\n"
                    "  edgecnn inspect filters IMAGE      a hand-written 3x3 filter, then 2x2 max pooling\n"
                    "  edgecnn inspect MODEL IMAGE        feature maps after each conv/pool layer (= features)\n"
                    "  edgecnn inspect summary MODEL      layer table with the parameter arithmetic\n\n"
                    "MODEL: an artifact folder, a .keras or .tflite file, or a registered model name (untrained).\n"
                    ".keras files and registry models need TensorFlow (edgecnn[train]); .tflite files and the\n"
                    "filters view need only the runtime install.")
    inner = parser.add_subparsers(dest="inspect_command", metavar="{filters,features,summary}",
                                  action=_DefaultToFeatures)
    inner.required = True
    _register_filters(inner)
    _register_features(inner)
    _register_summary(inner)
    inner.accept_any_first_word()


def _register_filters(inner) -> None:
    kernels = "\n".join(f"  {name:12s} {kernel.weights}  {kernel.description}" for name, kernel in KERNELS.items())
    parser = inner.add_parser(
        "filters", help="apply a 3x3 filter and 2x2 max pooling to an image", formatter_class=DefaultsHelpFormatter,
        description=f"Filter an image with a 3x3 kernel, then max-pool it 2x2, side by side.\n\nkernels:\n{kernels}")
    parser.add_argument("image", type=Path, metavar="IMAGE", help="any image file OpenCV reads")
    parser.add_argument("--kernel", default="vertical", metavar="|".join(KERNELS) + "|FILE",
                        help="a registered kernel, or a file with a 3x3 kernel (JSON list of lists or 3 text lines)")
    parser.add_argument("--out", type=Path, default=Path("inspect-filters.png"), help="PNG to write")
    parser.set_defaults(handler=_run_filters)


def _register_features(inner) -> None:
    parser = inner.add_parser(
        "features", help="feature maps of a model for one image (also: inspect MODEL IMAGE)",
        formatter_class=DefaultsHelpFormatter,
        description="A grid of the feature maps after each convolution and pooling layer, and the class\n"
                    "probabilities; the image is preprocessed exactly as 'edgecnn run' does.")
    parser.add_argument("model", metavar="MODEL", help="artifact folder, .keras, .tflite, or registry name")
    parser.add_argument("image", type=Path, metavar="IMAGE", help="image file")
    parser.add_argument("--out", type=Path, default=Path("inspect-feature-maps.png"), help="PNG to write")
    parser.add_argument("--invert", action="store_true",
                        help="invert the image first (dark-on-light photos for light-on-dark Fashion-MNIST models)")
    parser.add_argument("--channels", type=count(1, 4096), default=8, help="channels shown per layer")
    parser.add_argument("--layers", type=count(0, 100_000), default=24, help="layers shown (the first ones; 0 = all)")
    parser.add_argument("--json", action="store_true", help="also print shapes and probabilities as JSON")
    parser.set_defaults(handler=_run_features)


def _register_summary(inner) -> None:
    parser = inner.add_parser(
        "summary", help="layer table: output shapes and parameter counts worked out by hand",
        formatter_class=DefaultsHelpFormatter,
        description="Every layer's output shape and parameter count, worked out from its configuration\n"
                    "(kernel h x w x input channels x filters + biases; inputs x units + biases), and the total\n"
                    "checked against Keras' count_params() and the chapter's figure. Exit code 1 on a mismatch.")
    parser.add_argument("model", metavar="MODEL", help="artifact folder, .keras, .tflite, or registry name")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.set_defaults(handler=_run_summary)


def _run_filters(args) -> int:
    from edgecnn.inspect.filters import filter_image_file
    from edgecnn.inspect.kernels import get_kernel
    from edgecnn.inspect.pictures import filter_picture
    from edgecnn.inspect.render import write_png

    result = filter_image_file(args.image, get_kernel(args.kernel))
    write_png(args.out, filter_picture(result))
    sizes = " -> ".join("x".join(map(str, a.shape)) for a in (result.original, result.filtered, result.pooled))
    print(f"{args.out}: kernel {result.kernel.name}, original -> filtered -> pooled: {sizes} (h x w)")
    return 0


def _run_features(args) -> int:
    from edgecnn.inspect.errors import InspectError
    from edgecnn.inspect.feature_maps import inspect_image
    from edgecnn.inspect.model_source import resolve_model
    from edgecnn.inspect.pictures import GridOptions, feature_map_picture
    from edgecnn.inspect.render import write_png

    if args.channels < 1 or args.layers < 0:
        raise InspectError(f"--channels must be >= 1 and --layers >= 0, got {args.channels} and {args.layers}")
    report = inspect_image(resolve_model(args.model), args.image, invert=args.invert)
    write_png(args.out, feature_map_picture(report, GridOptions(max_channels=args.channels, max_layers=args.layers)))
    best = max(report.probabilities, key=report.probabilities.get)
    if args.json:
        print(json.dumps({"out": str(args.out), "layers": [{"name": m.layer, "op": m.op, "shape": list(m.shape)}
                                                           for m in report.maps],
                          "probabilities": report.probabilities}))
    else:
        for feature_map in report.maps:
            print(f"{feature_map.layer:32s} {feature_map.op:18s} {feature_map.shape}")
        print(f"{args.out}: {len(report.maps)} conv/pool layers; top class {best} "
              f"({report.probabilities[best]:.3f})")
    return 0


def _run_summary(args) -> int:
    from edgecnn.inspect.model_source import resolve_model
    from edgecnn.inspect.summary import format_summary, summarize

    summary = summarize(resolve_model(args.model))
    print(json.dumps(summary.to_dict()) if args.json else format_summary(summary))
    return 0 if summary.consistent else 1
