"""The image sets of ``../shared/data`` as they can be rebuilt from their public sources.

Each entry says where the images are (a GitHub repository at a pinned commit and a folder in it), how the set was
made from them (resize, split rule, JPEG quality 90 after ``convert('RGB')``), and what the result must be: the image
count of every ``<split>/<class>`` folder and a fingerprint, the SHA-256 of the set's sorted ``sha256sum`` listing
(``<sha256>  <split>/<class>/<file>.jpg`` lines), taken from ``../shared/data/SHA256SUMS``. The recipes are the ones
each ``MANIFEST.md`` records; ``edgecnn data download NAME`` (``edgecnn.data.set_download``) carries them out.

The archives' own SHA-256 cannot be known before anyone here downloads them (no internet on the machines that wrote
this, and GitHub makes its archives on request), so ``archive_sha256`` is None and the hash is pinned on first
download (written beside the cached archive and checked on every later use); the fingerprint of the images built
from it is what proves the download is the reference set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """One folder of a public repository that fills some of a set's ``<split>/<class>`` folders."""

    repo: str
    """GitHub ``owner/name``."""
    commit: str
    """The commit the manifest names (some manifests give a short SHA; GitHub resolves it)."""
    folder: str
    """The folder inside the repository, e.g. ``dataset``."""
    layout: str
    """``class_dirs`` (``folder/<class>/*``), ``split_class_dirs`` (``folder/<split>/<class>/*``) or ``flat``
    (``folder/*``, the class read from the file name by ``name_classes``)."""
    split: str | None = None
    """The split every file goes to; None: ``split_class_dirs`` names it, or the set's ``split_rule`` chooses."""
    name_classes: tuple[tuple[str, str], ...] = ()
    """``flat`` layout: (file-name prefix, class folder) pairs, e.g. ``("horse", "horses")``."""
    name_pattern: str = r".+\.(png|jpg|jpeg)"
    """Regular expression a file name must match in full to be taken (others, e.g. ``thumbs.db``, are skipped)."""
    archive_sha256: str | None = None
    """SHA-256 of the downloaded archive when known in advance; None: pinned on first download (see module doc)."""
    labels_csv: tuple[str, ...] = ()
    """``flat`` layout: CSV files of the repository (paths below its top folder) with ``filename`` and ``class``
    columns, one row per hand; a file's class is its rows' class, a file whose rows disagree is left out, a file
    with no row is skipped."""
    label_map: tuple[tuple[str, str], ...] = ()
    """(source class, class folder) pairs: the source's class folder or CSV class -> the set's; a class not
    listed is not taken. Empty: the source's classes as they are."""
    every: tuple[tuple[str, int], ...] = ()
    """(source class, n) pairs: of that class's files, in name order, every n-th is taken (the first, then every
    n-th after it): neighbouring video frames are near-duplicates. Classes not listed: all."""
    name_prefix: bool = False
    """Output names start with the source class and ``_`` (so the set's file names keep the source gesture)."""
    host: str = "https://github.com"
    """Where ``<repo>/archive/<commit>.tar.gz`` is served (a mirror, or a local server in the tests)."""

    @property
    def url(self) -> str:
        return f"{self.host}/{self.repo}/archive/{self.commit}.tar.gz"


@dataclass(frozen=True)
class PublicSet:
    """A data set of ``../shared/data`` and the recipe that rebuilds it from public files."""

    name: str
    """The folder name in ``../shared/data`` and the ``edgecnn data download`` key, e.g. ``rps-real-pi``."""
    sources: tuple[Source, ...]
    """Where its images come from."""
    resize: str
    """``none``, ``short_side_150`` (aspect kept, long side ``round(long * 150 / short)``) or ``square_150``,
    with Pillow's ``Image.BILINEAR``; ``short_side_384`` the same to 384 px with ``Image.LANCZOS``."""
    counts: dict[str, int]
    """Expected image count per ``<split>/<class>`` folder."""
    fingerprint: str
    """SHA-256 of the sorted ``sha256sum`` listing of the result (see module doc)."""
    licence: str
    """The licence the manifest names; shown on download."""
    split_rule: str = "source"
    """``source`` (the source's own split), ``md5_mod5`` (``md5(original file name) % 5 == 0`` -> validation) or
    ``session`` (the file-name part before ``_pic``, ``pic`` for names without it: one recording session;
    ``validation_sessions`` -> validation, every other -> train)."""
    validation_sessions: tuple[str, ...] = ()
    """``session`` split rule: the sessions that form the validation split."""
    dedup: bool = False
    """Drop images whose decoded pixels equal an earlier one's (first in name order kept)."""
    reference_pillow: str = "13.0.0"
    """The Pillow that encoded the reference JPEGs; another version may encode different (equally valid) bytes."""


_PI = "xParano1d/rock-paper-scissors-cnn"
_EMRE_OTHERS = ("down", "follow", "land", "left", "right", "photo", "take_off", "up", "video", "video_pause")
_CATS_TRAIN = "quoctrung163/keras-cnn-on-cats-and-dogs-dataset"

PUBLIC_SETS = {spec.name: spec for spec in (
    PublicSet(
        name="rps-real-pi", licence="CC BY-SA 4.0 (Julien de la Bruère-Terreault)",
        sources=(Source(_PI, "8deead72110f7d8d12877baafb3a2a54d317d73c", "dataset", "class_dirs",
                        name_pattern=r".+\.png"),),
        resize="short_side_150", split_rule="md5_mod5",
        counts={"train/paper": 568, "train/rock": 572, "train/scissors": 584,
                "validation/paper": 144, "validation/rock": 154, "validation/scissors": 166},
        fingerprint="e8754955903bbdd962c7c7c06783401d00c622b313826594f93ed0d27d5d18d4"),
    PublicSet(
        name="rps-real-kaust", licence="CDLA-Sharing-1.0 (KAUST DSA-299, from Roboflow 'Rock Paper Scissors SXSW')",
        # Only its training/ folder: the manifest's copy leaves testing/ out, and the tests expect that set.
        sources=(Source("tsyurii/kaust-dsa299-rps-dataset", "78d6481ca930ac4b732056c53890cfaf103ebcf5",
                        "training", "class_dirs", split="train", name_pattern=r".+\.jpg"),),
        resize="short_side_150",
        counts={"train/paper": 553, "train/rock": 740, "train/scissors": 584},
        fingerprint="848d06d6428c886dfb8e513fee7f6cbd3d785cee19a685e944954997118ffe2f"),
    PublicSet(
        name="rps-cgi-28px", licence="CC BY 2.0 (Laurence Moroney)",
        sources=(Source("dlwoguq0928/aiffel-exp-1", "72526bc227a25169906b08c4eef1e57883853424", "dataset",
                        "split_class_dirs", name_pattern=r".+\.png"),),
        resize="none",
        counts={"test/paper": 124, "test/rock": 124, "test/scissors": 124,
                "train/paper": 840, "train/rock": 840, "train/scissors": 840},
        fingerprint="9475ff334de32d44f66e856afdb3a97c47bbc1c825f6fea51a6ce1b458d4e01b"),
    PublicSet(
        name="horses-or-humans", licence="CC BY 2.0 (Laurence Moroney)",
        sources=(Source("yesorn0/Machine-Learning_Object-Recognition-horse-or-human-", "eab8741",
                        "imgs_horse_human", "flat", name_classes=(("horse", "horses"), ("human", "humans")),
                        name_pattern=r".+\.png"),),
        resize="none", split_rule="md5_mod5",
        counts={"train/horses": 412, "train/humans": 413, "validation/horses": 88, "validation/humans": 114},
        fingerprint="f1bad4a45cc948c784cd097fcbc91a1783eaa90c9a8cfd5eaee36fefb316039e"),
    PublicSet(
        name="cats-vs-dogs", licence="none stated (Kaggle 'Dogs vs. Cats' images)",
        sources=(
            # train/ holds cat.N.jpg and dog.N.jpg side by side; the set takes N = 0..1000 of each.
            Source(_CATS_TRAIN, "8eb7e53", "train", "flat", split="train",
                   name_classes=(("cat.", "cats"), ("dog.", "dogs")),
                   name_pattern=r"(cat|dog)\.([0-9]|[1-9][0-9]{1,2}|1000)\.jpg"),
            Source("chanakya2734/Image-classification-using-CNN", "bf746c6", "dataset/test_set", "class_dirs",
                   split="validation", name_pattern=r"(cat|dog)\.[0-9]+\.jpg"),
        ),
        resize="square_150",
        counts={"train/cats": 1001, "train/dogs": 1001, "validation/cats": 1000, "validation/dogs": 1000},
        fingerprint="929e092873dc7e43e32dd9b6da229f4474f24378c0ef0edcdd7dbf16510b33df"),
    PublicSet(
        name="rps-webcam-subhih", licence="Apache-2.0 (SubhiH/HandsDataset)",
        # Number of open fingers per hand: 0 rock, 5 paper, 2 scissors (V signs), 1, 3 and 4 another gesture.
        sources=(Source("SubhiH/HandsDataset", "73228cb5ba6a8d454663aa9873157862b69a1c4c", "images", "flat",
                        name_pattern=r".+\.jpg", labels_csv=("data/train_labels.csv", "data/test_labels.csv"),
                        label_map=(("0-hand", "rock"), ("5-hand", "paper"), ("2-hand", "scissors"),
                                   ("1-hand", "other_gesture"), ("3-hand", "other_gesture"),
                                   ("4-hand", "other_gesture"))),),
        resize="short_side_384", split_rule="session", dedup=True,
        validation_sessions=("pic", "1528664299.56", "996", "35"),
        counts={"train/other_gesture": 468, "train/paper": 186, "train/rock": 275, "train/scissors": 166,
                "validation/other_gesture": 181, "validation/paper": 105, "validation/rock": 89,
                "validation/scissors": 53},
        fingerprint="d860798312f206b9a835d57f511a9ab561c4d88273516e3fa1d04cc60888ff94"),
    PublicSet(
        name="gestures-room-emrecandir9", licence="MIT (emrecandir9/custom-gesture-dataset)",
        sources=(Source("emrecandir9/custom-gesture-dataset", "921f6b96145a55756feb3939774236b729f55a03",
                        "dataset/photos/hand", "class_dirs", split="train", name_pattern=r".+\.(jpg|jpeg|png)",
                        label_map=(("emergency", "rock"), ("palm", "paper"), ("closer", "scissors"),
                                   ("further", "scissors"), ("no_class", "no_gesture"))
                        + tuple((name, "other_gesture") for name in _EMRE_OTHERS),
                        every=(("emergency", 2), ("palm", 2), ("closer", 2), ("further", 2), ("no_class", 2))
                        + tuple((name, 12) for name in _EMRE_OTHERS),
                        name_prefix=True),),
        resize="short_side_384", dedup=True,
        counts={"train/no_gesture": 278, "train/other_gesture": 226, "train/paper": 135, "train/rock": 135,
                "train/scissors": 269},
        fingerprint="5fd98ef863b91fb82beddeef267a29cc1c3ec7f049bc9708d3d8537f026b8047"),
)}
