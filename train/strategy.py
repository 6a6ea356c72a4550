"""Which ``tf.distribute`` strategy ``edgecnn train`` runs under, and the cluster ``TF_CONFIG`` describes.

``TF_CONFIG`` is read and checked here before TensorFlow is imported, so a typo is a one-line error instead of a
gRPC server that never finds its peers. Nothing here is home-made distribution: the strategies are TensorFlow's.
"""

from __future__ import annotations

import errno
import json
import os
import socket
from dataclasses import dataclass, field

from edgecnn.train.errors import StrategyError

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")
"""``--strategy`` choices: ``auto`` is multi-worker when ``TF_CONFIG`` names a cluster of more than one task,
mirrored when several GPUs are visible, one-device otherwise."""


@dataclass(frozen=True)
class Cluster:
    """The part of ``TF_CONFIG`` training needs."""

    tasks: tuple[tuple[str, str], ...]
    """``(task type, "host:port")`` of every task, chief first, then the workers in index order."""
    task_type: str
    """This process's task type (``chief`` or ``worker``)."""
    task_index: int
    """This process's index within its type."""

    @property
    def size(self) -> int:
        return len(self.tasks)

    @property
    def rank(self) -> int:
        """This process's position in :attr:`tasks` (0 is the chief: the ``chief`` task, else worker 0)."""
        return self.tasks.index((self.task_type, self.address))

    @property
    def address(self) -> str:
        return dict(_typed(self.tasks, self.task_type))[self.task_index]

    @property
    def is_chief(self) -> bool:
        return self.rank == 0


def _typed(tasks, kind):
    return [(i, address) for i, address in enumerate(a for t, a in tasks if t == kind)]


def parse_tf_config(text: str, check_port: bool = True) -> Cluster:
    """The cluster of a ``TF_CONFIG`` value; :class:`StrategyError` names what is wrong in one line.

    With ``check_port``, this task's own port must be free on this machine (TensorFlow's server will bind it).
    """
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise StrategyError(f"TF_CONFIG is not valid JSON ({err.msg} at character {err.pos}); expected "
                            '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}'
                            ) from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise StrategyError('TF_CONFIG has no "cluster" object; expected {"cluster": {"worker": ["host:port", ...]}, '
                            '"task": {...}}')
    cluster = config["cluster"]
    unknown = sorted(set(cluster) - {"chief", "worker"})
    if unknown:
        raise StrategyError(f"TF_CONFIG cluster has task type(s) {unknown}; multi-worker training uses only "
                            "'chief' and 'worker'")
    tasks = []
    for kind in ("chief", "worker"):
        addresses = cluster.get(kind, [])
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise StrategyError(f"TF_CONFIG cluster.{kind} must be a list of \"host:port\" strings, got {addresses!r}")
        tasks += [(kind, _check_address(kind, address)) for address in addresses]
    if len([t for t in tasks if t[0] == "chief"]) > 1:
        raise StrategyError("TF_CONFIG cluster.chief must list one address at most")
    if not any(kind == "worker" for kind, _ in tasks):
        raise StrategyError('TF_CONFIG cluster has no "worker" list')
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise StrategyError('TF_CONFIG has no "task" with "type" and "index" (which of the cluster\'s tasks this '
                            'process is), e.g. "task": {"type": "worker", "index": 0}')
    kind, index = task["type"], task["index"]
    count = len(_typed(tasks, kind))
    if kind not in ("chief", "worker") or not count:
        raise StrategyError(f"TF_CONFIG task.type {kind!r} is not a task type of the cluster "
                            f"({', '.join(sorted(cluster))})")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
        raise StrategyError(f"TF_CONFIG task.index {index!r} is out of range: cluster.{kind} has {count} "
                            f"address(es), so 0..{count - 1}")
    result = Cluster(tuple(tasks), kind, index)
    if check_port:
        _check_port_free(result.address)
    return result


def _check_address(kind: str, address: str) -> str:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StrategyError(f"TF_CONFIG cluster.{kind} address {address!r} is not host:port (port 1-65535)")
    return address


def _check_port_free(address: str) -> None:
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as probe:
        try:
            # TensorFlow's gRPC server listens on every interface of this port, so probe the same way.
            probe.bind(("", int(port)))
        except OSError as err:
            reason = "is already in use" if err.errno == errno.EADDRINUSE else f"cannot be bound ({err.strerror})"
            raise StrategyError(f"TF_CONFIG: this task's port {port} ({address}) {reason}; stop what holds it or "
                                "give this task another port in every worker's TF_CONFIG") from None


def cluster_from_env(environ=os.environ, check_port: bool = True) -> Cluster | None:
    """The cluster of ``$TF_CONFIG``, or None when it is unset or empty."""
    text = environ.get("TF_CONFIG", "").strip()
    return parse_tf_config(text, check_port) if text else None


@dataclass
class StrategyRun:
    """The strategy a training run uses and this process's place in it."""

    name: str
    """The strategy actually chosen (``one-device``, ``mirrored`` or ``multi-worker``)."""
    strategy: object
    """The ``tf.distribute.Strategy``."""
    cluster: Cluster | None = None
    """The multi-worker cluster, None on one machine."""
    devices: list[str] = field(default_factory=list)
    """This process's logical devices (``/device:GPU:0`` ...)."""

    @property
    def is_chief(self) -> bool:
        return self.cluster is None or self.cluster.is_chief

    @property
    def workers(self) -> int:
        return 1 if self.cluster is None else self.cluster.size

    @property
    def worker(self) -> int:
        return 0 if self.cluster is None else self.cluster.rank

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def describe(self) -> str:
        where = f"worker {self.worker} of {self.workers}, " if self.cluster else ""
        role = " (chief: writes the artifact)" if self.cluster and self.is_chief else ""
        return (f"strategy {self.name}: {where}{self.replicas} replica(s) in sync, devices here: "
                f"{', '.join(self.devices) or 'none'}{role}")


def resolve(name: str, cluster: Cluster | None, gpus: int | None = None) -> str:
    """The strategy ``--strategy NAME`` means here (``auto`` resolved); checks it can run."""
    if name not in STRATEGIES:
        raise StrategyError(f"--strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    if name == "multi-worker" and cluster is None:
        raise StrategyError("--strategy multi-worker needs TF_CONFIG naming the cluster and this task, e.g. "
                            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                            '"task": {"type": "worker", "index": 0}}\'')
    if name == "auto":
        if cluster is not None and cluster.size > 1:
            return "multi-worker"
        return "mirrored" if (gpus or 0) > 1 else "one-device"
    return name


def start(name: str, cluster: Cluster | None) -> StrategyRun:
    """Creates the strategy. Call before any other TensorFlow work: the multi-worker collectives must be configured
    before TensorFlow's runtime starts."""
    import tensorflow as tf

    if name == "multi-worker" or (name == "auto" and cluster is not None and cluster.size > 1):
        implementation = tf.distribute.experimental.CommunicationImplementation
        # RING works on CPUs and across machines; NCCL (AUTO's pick on GPUs) needs GPUs on every worker.
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=implementation.AUTO if tf.config.list_physical_devices("GPU") else implementation.RING)
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        chosen = "multi-worker"
    else:
        chosen = resolve(name, cluster, len(tf.config.list_physical_devices("GPU")))
        if chosen == "mirrored":
            strategy = tf.distribute.MirroredStrategy()
        else:
            # TensorFlow's default strategy: one device (the first GPU when there is one), no input re-distribution,
            # the same run as before --strategy existed (the recorded results reproduce).
            strategy = tf.distribute.get_strategy()
    devices = [d.name for d in tf.config.list_logical_devices() if d.device_type in ("CPU", "GPU")]
    if cluster is not None and chosen == "multi-worker":
        devices = [d for d in devices if f"/task:{cluster.rank}/" in d] or devices
    return StrategyRun(chosen, strategy, cluster if chosen == "multi-worker" else None, devices)


def per_replica_batch(run: StrategyRun, batch_size: int) -> int:
    """The batch each replica takes so that one step across the cluster consumes ``batch_size`` examples."""
    if batch_size % run.replicas:
        raise StrategyError(f"--batch-size {batch_size} does not split evenly over {run.replicas} replicas "
                            f"({run.describe()}); give a multiple of {run.replicas}")
    return batch_size // run.replicas


def multi_worker_compatible(model, strategy, sample) -> None:
    """Lets Keras 3's ``fit``/``evaluate`` drive ``model`` under MultiWorkerMirroredStrategy.

    Keras 3.x (checked on 3.15) breaks there in two places (keras-team/keras#20585, tensorflow/tensorflow#72388):
    before the first step it all-reduces a whole input batch to learn its shapes, which fails for an ``(x, y)``
    tuple, and it reduces each step's scalar metrics with ``axis=0``, which fails for scalars. The model's loss,
    metrics and optimizer are built beforehand from ``sample`` (a local ``(x, y)`` batch, so no shapes are
    needed), Keras then takes the strategy from the enclosing ``strategy.scope()``, and the step functions are
    Keras' own ``train_step``/``test_step`` run by ``strategy.run`` with the metrics averaged over replicas.
    Gradients are all-reduced by Keras' optimizer as under any strategy.
    """
    import tensorflow as tf
    from keras import tree

    x, y = sample
    with strategy.scope():  # the metric and optimizer variables are created once, mirrored, not in a replica step
        predicted = model(x, training=False)
        model.compute_loss(x, y, predicted)
        model.compute_metrics(x, y, predicted, sample_weight=None)
        model.reset_metrics()
        model.optimizer.build(model.trainable_variables)
    model._distribute_strategy = None  # noqa: SLF001 - see the docstring; fit runs inside strategy.scope()

    def distributed(step):
        @tf.function(reduce_retracing=True)
        def one_step(iterator):
            outputs = strategy.run(step, args=(next(iterator),))
            return tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), outputs)

        return one_step

    model.train_function = distributed(model.train_step)
    model.test_function = distributed(model.test_step)
