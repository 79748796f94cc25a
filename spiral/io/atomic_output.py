"""Outputs written whole or not at all, by one writer at a time.

Every command that writes results opens its outputs before it starts work: the place is
checked (not a file where a folder is due, writable, not somebody else's folder) and
locked, so a second command writing to the same place is refused at once. Files are
written into a hidden staging sibling (``.NAME.PID.tmp``) in the same folder and moved
into place only when everything is written and flushed to disk: a results folder is
swapped in whole (an atomic exchange where the system has one), a file is renamed over
the old one. An interrupted command (Ctrl-C, SIGTERM, ``kill -9``, a full disk) leaves the
previous results as they were, or nothing; the next writer clears any staging left over.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from spiral.model.errors import problem

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

STAGE = ".tmp"
ASIDE = ".old"
MARK = "spiral-"  # staging is named .NAME.spiral-PID.tmp: never a user's file, nor another name's


def _unix_error(error: OSError) -> str:
    return error.strerror or str(error)


class OutputLock:
    """An exclusive lock on an output place: a hidden ``.NAME.lock`` file beside it."""

    def __init__(self, target: Path, option: str) -> None:
        self.target = target
        self.option = option
        self.path = target.parent / f".{target.name}.lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or refuse (ScenarioError) when another command holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise problem(
                str(self.target), self.option, f"cannot be written ({_unix_error(error)})"
            ) from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 32).decode(errors="replace").strip()
                os.close(fd)
                who = f" (process {holder})" if holder.isdigit() else ""
                raise problem(
                    str(self.target),
                    self.option,
                    f"another spiral command{who} is writing here; expected one writer at a "
                    "time (wait for it, or choose another place)",
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self) -> None:
        """Give the lock back and remove its file."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # before unlocking: a waiting writer then finds no stale file
        os.close(self.fd)
        self.fd = None


def _fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder`` and the folders themselves to disk."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every system can sync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        rename = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    rename.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, exchange = -100, 2
    if rename(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


class _Output:
    """What folders and files share: the place, its lock, its staging sibling."""

    def __init__(self, path: Path, option: str) -> None:
        self.path = Path(path)
        self.option = option
        self.lock = OutputLock(self.path, option)
        self.stage = self.path.parent / f".{self.path.name}.{MARK}{os.getpid()}{STAGE}"
        self.opened = False

    def _fail(self, what: str) -> Exception:
        return problem(str(getattr(self, "shown", self.path)), self.option, what)

    def _prepare(self) -> None:
        if self.path.is_symlink():
            target = Path(os.path.realpath(self.path))
            if not target.exists():
                raise self._fail(
                    f"is a link to {target}, which does not exist; expected a place that can be "
                    "written"
                )
        parent = self.path.parent
        existing = next(p for p in (parent, *parent.parents) if p.exists() or p == p.parent)
        if existing.exists() and not existing.is_dir():
            raise self._fail(
                f"cannot create the folder {parent}: {existing} is a file; expected a place "
                "that can be written"
            )
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise self._fail(
                f"cannot create the folder {parent} ({_unix_error(error)}); expected a place "
                "that can be written"
            ) from None
        if not parent.is_dir():
            raise self._fail(f"{parent} is not a folder; expected a place that can be written")
        self.lock.acquire()
        try:
            self._clear_leftovers()
        except BaseException:
            self.lock.release()
            raise

    def _leftovers(self, suffix: str) -> list[Path]:
        """Return this place's own staging of writers that died (``.NAME.spiral-PID.SUFFIX``)."""
        own = re.compile(rf"^\.{re.escape(self.path.name)}\.{MARK}\d+{re.escape(suffix)}$")
        return [e for e in self.path.parent.iterdir() if own.match(e.name)]

    def _clear_leftovers(self) -> None:
        """Remove staging left by writers that died; put back a folder moved aside."""
        # under the lock no other writer of this place is live: its staging is stale
        for entry in self._leftovers(STAGE):
            _remove(entry)
        for entry in self._leftovers(ASIDE):
            if not self.path.exists():
                os.rename(entry, self.path)  # a swap interrupted half-way
            else:
                _remove(entry)

    def __enter__(self):  # noqa: ANN204 - returns the subclass
        self.open()
        return self

    def __exit__(self, kind, error, traceback) -> None:  # noqa: ANN001
        if kind is None:
            self.commit()
        else:
            self.abort()

    def open(self) -> None:
        """Check and lock the place and make the staging area."""
        raise NotImplementedError

    def commit(self) -> None:
        """Move what was written into place."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop what was written; the place keeps what it had."""
        if not self.opened:
            return
        _remove(self.stage)
        self.lock.release()
        self.opened = False


class OutputFolder(_Output):
    """A results folder replaced whole: staged beside it, then swapped in.

    ``known(name)`` says whether a file in an existing folder is one spiral writes; a
    folder holding anything else is refused rather than replaced (it may be the user's).
    ``whole=False`` adds the staged files to the folder instead (pictures beside others).
    """

    def __init__(
        self,
        path: Path,
        option: str = "--out",
        known: Callable[[str], bool] | None = None,
        whole: bool = True,
        names: frozenset[str] = frozenset(),
    ) -> None:
        shown = Path(path)
        if shown.is_symlink() and Path(os.path.realpath(shown)).is_dir():
            path = Path(os.path.realpath(shown))  # the link stays; the folder it names is replaced
        super().__init__(path, option)
        self.shown = shown
        self.known = known or (lambda name: True)
        self.whole = whole
        self.names = names  # files this output will add (checked before any work)

    def open(self) -> None:
        """Check and lock the folder and make its staging sibling (ScenarioError if bad)."""
        if self.path.exists() and not self.path.is_dir():
            raise self._fail("is a file; expected a folder for the results")
        self._prepare()
        try:
            if self.whole and self.path.is_dir():
                strangers = sorted(
                    str(p.relative_to(self.path))
                    for p in self.path.rglob("*")
                    if p.is_file() and not self.known(str(p.relative_to(self.path)))
                )
                if strangers:
                    shown = ", ".join(strangers[:3]) + (" ..." if len(strangers) > 3 else "")
                    raise self._fail(
                        f"holds files spiral did not write ({shown}); expected a new folder or "
                        "one a spiral command wrote"
                    )
            blocked = sorted(n for n in self.names if (self.path / n).is_dir())
            if blocked:
                raise self._fail(f"{blocked[0]} is a folder there; expected a place for that file")
            try:
                self.stage.mkdir()
            except OSError as error:
                raise self._fail(
                    f"cannot be written ({_unix_error(error)}); expected a place that can be "
                    "written"
                ) from None
        except BaseException:
            self.lock.release()
            raise
        self.opened = True

    def place(self, path: Path) -> Path:
        """Return where to write ``path`` now: inside the staging area if it lies in the folder.

        The folders on the way are made in the staging area.
        """
        try:
            inside = Path(path).resolve().relative_to(self.path.resolve())
        except ValueError:
            return Path(path)
        staged = self.stage / inside
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def commit(self) -> None:
        """Flush the staged files to disk and put them in place; release the lock."""
        if not self.opened:
            return
        try:
            _fsync_tree(self.stage)
            if not self.whole:
                self.path.mkdir(exist_ok=True)
                moves = [
                    (entry, self.path / entry.relative_to(self.stage))
                    for entry in sorted(self.stage.rglob("*"))
                    if entry.is_file()
                ]
                for _, target in moves:  # every target checked before the first move
                    if target.is_dir():
                        raise IsADirectoryError(21, "Is a directory", str(target))
                for entry, target in moves:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(entry, target)
                _remove(self.stage)
            elif not self.path.exists():
                os.rename(self.stage, self.path)
            elif _exchange(self.stage, self.path):
                _remove(self.stage)  # now holds the previous results
            else:
                aside = self.path.parent / f".{self.path.name}.{MARK}{os.getpid()}{ASIDE}"
                os.rename(self.path, aside)
                os.rename(self.stage, self.path)
                _remove(aside)
            _fsync_dir(self.path.parent)
        except OSError as error:
            self.abort()
            raise self._fail(f"cannot write results ({_unix_error(error)})") from None
        self.lock.release()
        self.opened = False


class OutputFile(_Output):
    """One output file: written beside its place under a hidden name, then renamed over it."""

    def __init__(self, path: Path, option: str = "--out") -> None:
        super().__init__(path, option)
        # the suffix stays last: writers that pick a format by it (GIF, MP4, CSV) still can
        self.stage = (
            self.path.parent / f".{self.path.name}.{MARK}{os.getpid()}{STAGE}{self.path.suffix}"
        )

    def _clear_leftovers(self) -> None:
        for entry in self._leftovers(STAGE + self.path.suffix):
            _remove(entry)

    def open(self) -> None:
        """Check and lock the file's place (ScenarioError if it cannot be written)."""
        if self.path.is_dir():
            raise self._fail("is a folder; expected a file name")
        self._prepare()
        try:
            with open(self.stage, "wb"):
                pass
        except OSError as error:
            self.lock.release()
            raise self._fail(
                f"cannot be written ({_unix_error(error)}); expected a place that can be written"
            ) from None
        self.opened = True

    def commit(self) -> None:
        """Flush the written file and rename it into place; release the lock."""
        if not self.opened:
            return
        try:
            fd = os.open(self.stage, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(self.stage, self.path)
            _fsync_dir(self.path.parent)
        except OSError as error:
            self.abort()
            raise self._fail(f"cannot be written ({_unix_error(error)})") from None
        self.lock.release()
        self.opened = False


def file_records(folder: Path) -> dict[str, dict]:
    """Return every file under ``folder`` (relative path -> bytes and SHA-256), sorted."""
    import hashlib

    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
        out[str(path.relative_to(folder))] = {
            "bytes": path.stat().st_size,
            "sha256": digest.hexdigest(),
        }
    return out


def manifest_problems(folder: Path, manifest: str = "manifest.json") -> list[str]:
    """Return how a results folder differs from what its manifest lists (empty: it agrees)."""
    try:
        listed = json.loads((folder / manifest).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [f"{manifest}: unreadable or without a file list ({error})"]
    found = file_records(folder)
    found.pop(manifest, None)
    problems = [f"{name}: missing" for name in listed if name not in found]
    problems += [f"{name}: not in the manifest" for name in found if name not in listed]
    problems += [
        f"{name}: differs from the manifest"
        for name in listed
        if name in found and found[name] != listed[name]
    ]
    return problems
