"""Where the TensorFlow Lite Micro + CMSIS-NN source tree ``tflm-cmsis-nn/`` comes from.

The tree is a plain folder of ``.cc/.c/.h`` files (layout: ``../shared/third_party/tflm/README.md``):
``tensorflow/``, ``signal/``, ``third_party/`` (CMSIS-NN, CMSIS-Core, flatbuffers, gemmlowp, ruy, kissfft)
and ``reference_kernels/`` (the TFLM reference versions of the kernels CMSIS-NN replaces).
:func:`find_tree` looks, in order, at:

1. ``$TINYHIL_TFLM_DIR`` (the tree itself; an error if it is not one);
2. ``$TINYHIL_LOCAL_DIR/third_party/tflm/tflm-cmsis-nn`` (the project's offline folder, laid out like ../shared);
3. a tree made earlier under the cache ``$TINYHIL_CACHE/tflm/src`` (default ``~/.cache/tinyhil``);
4. online (a connected machine): :func:`make_tree_online` downloads TFLM and its dependencies at the commits
   pinned in ``tflm_sources.yaml`` (each archive checked by SHA-256), runs TFLM's ``create_tflm_tree.py``
   for the reference and the CMSIS-NN kernels and assembles the tree as that README describes.

Errors: :class:`TflmTreeMissingError` (no tree; one line naming TINYHIL_LOCAL_DIR and TINYHIL_TFLM_DIR),
:class:`TflmSourceError` (the online path failed: unpinned SHA-256, download, checksum, generator).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.data.fetch import sha256_of
from harness.errors import BuildError

TREE_NAME = "tflm-cmsis-nn"
TREE_ENV = "TINYHIL_TFLM_DIR"
LOCAL_ENV = "TINYHIL_LOCAL_DIR"
LOCAL_SUBDIR = Path("third_party") / "tflm" / TREE_NAME
SOURCES_PATH = Path(__file__).with_name("tflm_sources.yaml")
ARCHIVE_URL = "https://github.com/{repo}/archive/{commit}.tar.gz"
DOWNLOADS = Path("tensorflow/lite/micro/tools/make/downloads")
GENERATOR = "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py"
DFP_DEVICES = ("ARMCM0", "ARMCM0plus", "ARMCM3", "ARMCM4", "ARMCM7", "ARMCM33", "ARMCM55", "ARMCM85")
REQUIRED = ("tensorflow", "third_party")  # top-level folders every tree has


class TflmTreeMissingError(BuildError):
    """No TFLM source tree is available (not in TINYHIL_TFLM_DIR, TINYHIL_LOCAL_DIR or the cache)."""


class TflmSourceError(TflmTreeMissingError):
    """The tree could not be made online: an unpinned (null) SHA-256, a failed download or checksum, a failed
    patch or TFLM generator run."""


def cache_root() -> Path:
    """The tinyhil cache folder: ``$TINYHIL_CACHE``, default ``~/.cache/tinyhil`` (not created here)."""
    return Path(os.environ.get("TINYHIL_CACHE") or Path.home() / ".cache" / "tinyhil")


def is_tree(path: Path) -> bool:
    """True when ``path`` is a folder holding the tree's top-level folders ``tensorflow/`` and ``third_party/``."""
    return all((Path(path) / d).is_dir() for d in REQUIRED)


def missing_message(local: Path | None = None) -> str:
    """The one-line 'no tree' message: what TINYHIL_LOCAL_DIR / TINYHIL_TFLM_DIR must hold (``local``: the
    TINYHIL_LOCAL_DIR that was looked at, named when given)."""
    seen = f" ({LOCAL_ENV}={local} has none)" if local else ""
    return (f"no TFLM source tree found{seen}: set {LOCAL_ENV} to a folder containing "
            f"{LOCAL_SUBDIR.as_posix()}/ (with tensorflow/ and third_party/, as in ../shared), or {TREE_ENV} "
            f"to such a {TREE_NAME}/ folder itself")


def find_tree(*, download: bool = True, sources_path: Path | None = None) -> Path:
    """The TFLM source tree (absolute path), looked up as the module docstring says.

    ``download``: make the tree online when no local or cached one exists (never attempted while
    ``tflm_sources.yaml`` pins a null SHA-256).  Raises TflmTreeMissingError (one line) when nothing is found,
    also when ``$TINYHIL_TFLM_DIR`` is set but is not a tree; TflmSourceError when the online path fails.
    """
    explicit = os.environ.get(TREE_ENV)
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not is_tree(path):
            raise TflmTreeMissingError(f"{TREE_ENV}={path} is not a TFLM source tree: it must contain "
                                       f"tensorflow/ and third_party/ (a {TREE_NAME}/ folder); fix or unset it")
        return path
    local = os.environ.get(LOCAL_ENV)
    local_root = Path(local).expanduser().resolve() if local else None
    if local_root and is_tree(local_root / LOCAL_SUBDIR):
        return local_root / LOCAL_SUBDIR
    sources = load_sources(sources_path)
    cached = cached_tree_path(sources)
    if is_tree(cached):
        return cached
    if not download:
        raise TflmTreeMissingError(missing_message(local_root))
    try:
        check_pins(sources, sources_path)
    except TflmSourceError as exc:
        raise TflmSourceError(f"{missing_message(local_root)}; it cannot be made online either: {exc}") from None
    return make_tree_online(sources_path=sources_path)


# ---- pinned upstream sources ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One upstream input: GitHub ``repo`` (owner/name) at ``commit`` (40 hex digits), the archive's pinned
    ``sha256`` (None: not pinned yet), ``dest`` under TFLM's downloads folder, optional TFLM ``patch``."""

    name: str
    repo: str
    commit: str
    sha256: str | None
    dest: str
    patch: str | None = None

    @property
    def url(self) -> str:
        """The GitHub archive URL of this commit."""
        return ARCHIVE_URL.format(repo=self.repo, commit=self.commit)


def load_sources(path: Path | None = None) -> list[Source]:
    """The pinned sources of ``tflm_sources.yaml`` (or ``path``), in order, TFLM first.
    Raises TflmSourceError when the file is unreadable or an entry lacks a field."""
    path = Path(path or SOURCES_PATH)
    try:
        doc = yaml.safe_load(path.read_text())
        sources = [Source(**entry) for entry in doc["sources"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise TflmSourceError(f"{path} is not a valid TFLM sources table ({type(exc).__name__}: {exc}); "
                              "restore it from the repository") from None
    if not sources or sources[0].dest != ".":
        raise TflmSourceError(f"{path}: the first source must be TFLM itself (dest: .)")
    return sources


def check_pins(sources: list[Source], path: Path | None = None) -> None:
    """Raise TflmSourceError (one line) when any source has a null or malformed SHA-256 or commit."""
    where = Path(path or SOURCES_PATH)
    for s in sources:
        if s.sha256 is None:
            unpinned = ", ".join(f"{x.repo}@{x.commit[:12]}" for x in sources if x.sha256 is None)
            raise TflmSourceError(f"{where} pins sha256: null for {unpinned}; refusing to use unchecked archives: "
                                  "fill in each archive's SHA-256 on a connected machine")
        if len(s.sha256) != 64 or len(s.commit) != 40:
            raise TflmSourceError(f"{where}: {s.name} needs a 40-hex commit and a 64-hex sha256; fix the entry")


def sources_id(sources: list[Source]) -> str:
    """16 hex digits identifying the pinned set (repos, commits, checksums, patches)."""
    text = "\n".join(f"{s.repo} {s.commit} {s.sha256} {s.dest} {s.patch}" for s in sources)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_tree_path(sources: list[Source]) -> Path:
    """Where :func:`make_tree_online` puts the tree for these sources (it may not exist)."""
    return cache_root() / "tflm" / "src" / sources_id(sources) / TREE_NAME


# ---- the online path --------------------------------------------------------------------------------------
def fetch_archive(source: Source, archive_dir: Path, *, url: str | None = None, timeout_s: float = 120.0) -> Path:
    """Download ``source``'s archive (``url`` overrides the GitHub one) into ``archive_dir`` unless a copy with
    the pinned SHA-256 is there; returns its path.  Raises TflmSourceError for a null pin (before any network
    access), a failed download or a checksum mismatch."""
    if source.sha256 is None:
        raise TflmSourceError(f"{source.repo}@{source.commit[:12]} has sha256: null in {SOURCES_PATH.name}; "
                              "refusing an unchecked archive: fill in its SHA-256 on a connected machine")
    archive_dir.mkdir(parents=True, exist_ok=True)
    out = archive_dir / f"{source.repo.replace('/', '_')}-{source.commit}.tar.gz"
    if out.is_file() and sha256_of(out) == source.sha256:
        return out
    part = out.with_name(out.name + f".part{os.getpid()}")
    try:
        with urllib.request.urlopen(url or source.url, timeout=timeout_s) as resp, open(part, "wb") as f:
            shutil.copyfileobj(resp, f, 1 << 20)
    except OSError as exc:  # URLError, HTTPError and timeouts are OSErrors
        part.unlink(missing_ok=True)
        raise TflmSourceError(f"cannot download {url or source.url} ({exc}); set {LOCAL_ENV} or {TREE_ENV} "
                              "to a local TFLM tree") from None
    got = sha256_of(part)
    if got != source.sha256:
        part.unlink(missing_ok=True)
        raise TflmSourceError(f"{url or source.url} has SHA-256 {got[:16]}..., pinned {source.sha256[:16]}...; "
                              f"check the pin in {SOURCES_PATH.name} or the download")
    os.replace(part, out)
    return out


def extract_archive(archive: Path, dest: Path) -> None:
    """Unpack a .tar.gz into ``dest`` without its single top-level folder (like ``tar --strip-components=1``);
    members leaving ``dest`` are rejected (tarfile's ``data`` filter).  Raises TflmSourceError."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = []
            for m in tar.getmembers():
                _, sep, rest = m.name.partition("/")
                if not sep or not rest:
                    continue  # the top-level folder itself
                m.name = rest
                if m.islnk():
                    m.linkname = m.linkname.partition("/")[2]
                members.append(m)
                if Path(m.name).is_absolute() or ".." in Path(m.name).parts:
                    raise tarfile.TarError(f"member {m.name} leaves the destination")
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.10.12 / 3.11.4
            tar.extractall(dest, members=members, **safe)
    except (OSError, tarfile.TarError) as exc:
        raise TflmSourceError(f"cannot unpack {archive} ({exc}); delete it and try again") from None


def apply_patch(folder: Path, patch: Path) -> None:
    """Apply a -p1 unified diff inside ``folder`` with GNU patch (git apply, confined to ``folder``, when patch
    is missing).  Raises TflmSourceError naming the patch."""
    if shutil.which("patch"):
        cmd = ["patch", "-p1", "--batch", "--forward", "-i", str(patch.resolve())]
    else:  # outside any repository: GIT_CEILING_DIRECTORIES stops git from finding an enclosing one
        cmd = ["git", "apply", str(patch.resolve())]
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(folder.resolve().parent)}
    proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise TflmSourceError(f"patch {patch.name} did not apply in {folder}: {detail[0]}")


def run_generator(tflm_root: Path, out: Path, *, cmsis_nn: bool) -> None:
    """Run TFLM's ``create_tflm_tree.py`` in ``tflm_root`` (cortex_m_generic, Cortex-M7+fp; with
    ``OPTIMIZED_KERNEL_DIR=cmsis_nn`` when ``cmsis_nn``) into ``out``.  ``TARGET_TOOLCHAIN_ROOT`` names the
    installed arm-none-eabi-gcc so the Makefile does not download one.  Raises TflmSourceError."""
    if not shutil.which("make"):
        raise TflmSourceError("making the TFLM tree needs GNU make (Debian package make); install it")
    gcc = shutil.which("arm-none-eabi-gcc")
    toolchain_root = (str(Path(gcc).parent) if gcc else "/usr/bin") + "/"
    options = f"TARGET=cortex_m_generic TARGET_ARCH=cortex-m7+fp TARGET_TOOLCHAIN_ROOT={toolchain_root}"
    if cmsis_nn:
        options += " OPTIMIZED_KERNEL_DIR=cmsis_nn"
    cmd = [sys.executable, GENERATOR, f"--makefile_options={options}", str(out)]
    proc = subprocess.run(cmd, cwd=tflm_root, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not is_tree(out):
        log = out.parent / f"generator-{'cmsis_nn' if cmsis_nn else 'reference'}.log"
        log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
        raise TflmSourceError(f"TFLM's create_tflm_tree.py failed (status {proc.returncode}); see {log}")


def assemble_tree(cmsis_out: Path, reference_out: Path, downloads: Path, dest: Path, *,
                  tflm_root: Path | None = None) -> Path:
    """Assemble ``dest`` (the final ``tflm-cmsis-nn/``) from the generator's CMSIS-NN and reference outputs and
    TFLM's downloads folder, as the README's step 3 says: the CMSIS-NN output; every file only the reference
    output has (its kernels) under ``reference_kernels/``; CMSIS-Core's ``m-profile/`` headers; Cortex_DFP's
    ``Device/ARMCMx/Include`` folders and LICENSE; ruy's LICENSE (and TFLM's LICENSE when missing).
    Returns ``dest``.  Raises TflmSourceError when an input is missing or the reference output adds nothing."""
    shutil.copytree(cmsis_out, dest)
    only_ref = [p for p in sorted(reference_out.rglob("*")) if p.is_file()
                and p.relative_to(reference_out).parts[0] != "third_party"
                and not (cmsis_out / p.relative_to(reference_out)).exists()]
    if not only_ref:
        raise TflmSourceError(f"{reference_out} has no file the CMSIS-NN output lacks: the generator outputs "
                              "are not a reference/CMSIS-NN pair")
    for p in only_ref:
        target = dest / "reference_kernels" / p.relative_to(reference_out)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, target)
    cmsis, dfp = downloads / "cmsis", downloads / "cmsis" / "Cortex_DFP"
    copies = [(cmsis / "CMSIS/Core/Include/m-profile", "third_party/cmsis/CMSIS/Core/Include/m-profile"),
              (dfp / "LICENSE", "third_party/cmsis/Cortex_DFP/LICENSE"),
              (downloads / "ruy" / "LICENSE", "third_party/ruy/LICENSE")]
    copies += [(dfp / "Device" / d / "Include", f"third_party/cmsis/Cortex_DFP/Device/{d}/Include")
               for d in DFP_DEVICES]
    if tflm_root is not None and not (dest / "LICENSE").exists():
        copies.append((tflm_root / "LICENSE", "LICENSE"))
    for src, rel in copies:
        if not src.exists():
            raise TflmSourceError(f"{src} not found while assembling the TFLM tree; the downloads are incomplete")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest / rel, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / rel)
    return dest


def make_tree_online(*, sources_path: Path | None = None) -> Path:
    """Download, check, lay out, generate and assemble the tree into the cache (see the module docstring);
    returns it.  One process at a time (file lock); the finished tree appears by one atomic rename.
    Raises TflmSourceError (null pin, download, checksum, patch or generator failure)."""
    sources = load_sources(sources_path)
    check_pins(sources, sources_path)
    final = cached_tree_path(sources)
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_tree(final):
            return final
        with tempfile.TemporaryDirectory(dir=final.parent, prefix="work-") as tmp:
            work = Path(tmp)
            root = work / "tflite-micro"
            for s in sources:
                folder = root / DOWNLOADS / s.dest if s.dest != "." else root
                extract_archive(fetch_archive(s, cache_root() / "tflm" / "archives"), folder)
                if s.patch:
                    apply_patch(folder, root / s.patch)
            (root / DOWNLOADS / "pigweed").mkdir(parents=True, exist_ok=True)  # skips pigweed's git clone
            run_generator(root, work / "cmsis_nn", cmsis_nn=True)
            run_generator(root, work / "reference", cmsis_nn=False)
            assemble_tree(work / "cmsis_nn", work / "reference", root / DOWNLOADS, work / TREE_NAME, tflm_root=root)
            os.replace(work / TREE_NAME, final)
    return final


