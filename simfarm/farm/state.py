"""A job's state on its output storage, and the shard protocol that makes every episode count once.

Layout of an output (a local folder or any fsspec URL such as ``s3://bucket/prefix``)::

    <output>/job.json                          written last by the driver: the job is finished
    <output>/<dataset files>                   written by the writers' finalize
    <output>/.simfarm/job_state.json           config + config hash, written when the job starts
    <output>/.simfarm/shards/<shard>[-<attempt>]/   a published shard (writer files + manifest.json)
    <output>/.simfarm/done/<shard>.json        the completion marker, written last, by the worker
    <output>/.simfarm/staging/<shard>-<attempt>/    a shard being written (local outputs only)

A shard is finished if and only if its marker exists; the marker names the published folder, so
nothing that a killed worker half-wrote (a staging folder, an unmarked upload) is ever read, and
such leftovers are deleted when the job starts again. Local shards are written into staging and
published by one atomic ``os.rename``; object stores have no rename, so a remote shard is uploaded
into a folder unique to its attempt (manifest last) and published by the marker alone.

Replacing a finished output (``overwrite=true``) never deletes it before its replacement is
complete: the new job runs in a sibling, ``<parent>/.<name>.simfarm-next``, which is an output of
its own (resumable), and is swapped in once its ``job.json`` exists (`replace_output`). A crash at
any point leaves the old complete output or the new one, and the next run finishes the swap
(`finish_replacement`).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simfarm.errors import FarmError
from simfarm.writers.storage import (
    is_local,
    join,
    read_json,
    resolve,
    write_bytes_atomic,
    write_json_atomic,
)

log = logging.getLogger(__name__)

STATE_DIR = ".simfarm"
JOB_FILE = "job.json"
# Siblings of an output being replaced: the new one being written, the old one moved aside, and
# the journal of a swap in progress (which names the new one by its finished file's hash).
NEXT_SUFFIX = ".simfarm-next"
OLD_SUFFIX = ".simfarm-old"
JOURNAL_SUFFIX = ".simfarm-swap.json"
MAX_DIFFS_SHOWN = 5  # differing config keys named in the one-line refusal


def new_attempt_id() -> str:
    """A short random id naming one attempt at a shard (never part of the dataset's content)."""
    return uuid.uuid4().hex[:10]


class JobStore:
    """The state folder of one output: markers, published shards, staging, job files."""

    def __init__(self, output: str, fs=None):
        self.output = str(output)
        self.fs, self.root = resolve(self.output, fs)
        self.local = is_local(self.fs)

    # -- paths ---------------------------------------------------------------------------------

    def path(self, *parts: str) -> str:
        return join(self.root, *parts)

    @property
    def state_dir(self) -> str:
        return self.path(STATE_DIR)

    def marker_path(self, shard_name: str) -> str:
        return self.path(STATE_DIR, "done", f"{shard_name}.json")

    def staging_dir(self, shard_name: str, attempt: str) -> str:
        return self.path(STATE_DIR, "staging", f"{shard_name}-{attempt}")

    def shard_rel(self, shard_name: str, attempt: str) -> str:
        """Where a shard is published, relative to the output root."""
        if self.local:
            return f"{STATE_DIR}/shards/{shard_name}"
        return f"{STATE_DIR}/shards/{shard_name}-{attempt}"

    # -- whole-job state -----------------------------------------------------------------------

    def _refresh(self, path: str) -> None:
        # s3fs caches listings per process; a marker written by a worker must be seen at once.
        self.fs.invalidate_cache(path)

    def exists(self) -> bool:
        self._refresh(self.root)
        return self.fs.exists(self.root)

    def is_finished(self) -> bool:
        self._refresh(self.root)
        return self.fs.exists(self.path(JOB_FILE))

    def has_state(self) -> bool:
        self._refresh(self.state_dir)
        return self.fs.exists(self.path(STATE_DIR, "job_state.json"))

    def is_foreign(self) -> bool:
        """True when the output holds files that no simfarm job wrote (never overwritten silently)."""
        if not self.exists():
            return False
        if self.has_state():
            return False
        return bool(self.fs.ls(self.root, detail=False))

    def read_state(self) -> dict[str, Any]:
        return read_json(self.fs, self.path(STATE_DIR, "job_state.json"))

    def write_state(self, state: dict[str, Any]) -> None:
        write_json_atomic(self.fs, self.path(STATE_DIR, "job_state.json"), state)

    def write_job(self, report: dict[str, Any]) -> None:
        write_json_atomic(self.fs, self.path(JOB_FILE), report)

    def read_job(self) -> dict[str, Any]:
        return read_json(self.fs, self.path(JOB_FILE))

    def remove_all(self) -> None:
        """Delete the whole output (only ever a replacement being written, never a finished output)."""
        if self.exists():
            self.fs.rm(self.root, recursive=True)
            self._refresh(self.root)

    def replacement(self) -> JobStore:
        """The store a job that replaces this output runs in: ``<parent>/.<name>.simfarm-next``."""
        root = sibling(self.root, NEXT_SUFFIX)
        output = root if self.local else self.fs.unstrip_protocol(root)
        return JobStore(output)

    def replace_with(self, new: JobStore, on_step: Callable[[str], None] | None = None) -> None:
        """Put the finished job in `new` at this output; the old output is deleted only then."""
        replace_output(self.fs, self.root, new.root, JOB_FILE, on_step=on_step)

    # -- shards --------------------------------------------------------------------------------

    def markers(self) -> dict[str, dict[str, Any]]:
        """Completion markers by shard name: the finished shards and their results."""
        done = self.path(STATE_DIR, "done")
        self._refresh(done)
        if not self.fs.exists(done):
            return {}
        out = {}
        for path in self.fs.ls(done, detail=False):
            name = path.rstrip("/").rsplit("/", 1)[-1]
            if name.endswith(".json") and ".tmp-" not in name:
                out[name[: -len(".json")]] = read_json(self.fs, path)
        return out

    def collect_garbage(self, markers: dict[str, dict[str, Any]]) -> list[str]:
        """Delete staging folders and published-but-unmarked shard folders left by crashed attempts."""
        removed = []
        staging = self.path(STATE_DIR, "staging")
        if self.local and Path(staging).exists():
            removed += [str(p) for p in Path(staging).iterdir()]
            shutil.rmtree(staging)
        keep = {m["dir"].rstrip("/").rsplit("/", 1)[-1] for m in markers.values() if m.get("dir")}
        shards = self.path(STATE_DIR, "shards")
        self._refresh(shards)
        if self.fs.exists(shards):
            for path in self.fs.ls(shards, detail=False):
                if path.rstrip("/").rsplit("/", 1)[-1] not in keep:
                    self.fs.rm(path, recursive=True)
                    removed.append(path)
        return removed

    def publish(self, shard_name: str, attempt: str, local_dir: str | None) -> str | None:
        """Make a closed shard folder visible; return its path relative to the output root.

        Local: atomic rename of the staging folder. If another attempt of the same shard already
        renamed its own copy (a retried task whose first attempt was not dead after all), that copy
        is complete and identical, so ours is dropped. Remote: upload, manifest last.
        """
        if local_dir is None:
            return None
        rel = self.shard_rel(shard_name, attempt)
        if self.local:
            final = self.path(rel)
            Path(final).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(local_dir, final)
            except OSError:
                if not (Path(final) / "manifest.json").exists():
                    raise
                shutil.rmtree(local_dir, ignore_errors=True)
            return rel
        from simfarm.writers.storage import publish_shard

        publish_shard(local_dir, self.path(rel), fs=self.fs)
        shutil.rmtree(local_dir, ignore_errors=True)
        return rel

    def read_marker(self, shard_name: str) -> dict[str, Any] | None:
        path = self.marker_path(shard_name)
        self._refresh(path.rsplit("/", 1)[0])
        return read_json(self.fs, path) if self.fs.exists(path) else None

    def write_marker(self, shard_name: str, result: dict[str, Any]) -> None:
        """The commit point of a shard: written last, atomically."""
        write_json_atomic(self.fs, self.marker_path(shard_name), result)


def describe_differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two config dicts, as ``key: old -> new`` lines."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in sorted(set(old) | set(new), key=str):
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                lines.append(f"{dotted}: (absent) -> {json.dumps(new[key], default=str)}")
            elif key not in new:
                lines.append(f"{dotted}: {json.dumps(old[key], default=str)} -> (absent)")
            else:
                lines += describe_differences(old[key], new[key], dotted)
        return lines
    if old != new:
        return [f"{prefix}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}"]
    return []


def check_resumable(store: JobStore, config: dict[str, Any], config_hash: str, overwrite: bool) -> str:
    """Decide what to do with an existing output: "new", "resume" or "overwrite"; raise if refused.

    Only what a job finished is protected: a finished job, or an unfinished one with at least one
    finished shard. The state of a job that finished no shard (its config was found invalid by a
    worker, say) is simply replaced by the next job ("new"), whatever its config.
    """
    if store.is_finished():
        if overwrite:
            return "overwrite"
        raise FarmError(
            f"output {store.output} already holds a finished job ({JOB_FILE} exists); "
            "pass overwrite=true to replace it, or choose another output="
        )
    if store.has_state():
        state = store.read_state()
        if state.get("config_hash") == config_hash:
            return "resume"
        if not store.markers():
            log.info(
                "%s holds the state of an earlier job (config hash %s) that finished no shard; starting this job in its place",
                store.output, state.get("config_hash"),
            )
            return "new"
        if overwrite:
            return "overwrite"
        diff = describe_differences(state.get("content", {}), _content(config))
        shown = "; ".join(diff[:MAX_DIFFS_SHOWN]) or "none visible: simfarm version changed?"
        if len(diff) > MAX_DIFFS_SHOWN:
            shown += f"; and {len(diff) - MAX_DIFFS_SHOWN} more"
        raise FarmError(
            f"output {store.output} holds an unfinished job with a different config "
            f"(config hash {state.get('config_hash')} there, {config_hash} now; differing keys: {shown}); "
            "re-run with the original settings to resume, pass overwrite=true to start over, "
            "or choose another output="
        )
    if store.is_foreign():
        if overwrite:
            return "overwrite"
        raise FarmError(
            f"output {store.output} exists and holds files that no simfarm job wrote; "
            "pass overwrite=true to delete them, or choose another output="
        )
    return "new"


def _content(config: dict[str, Any]) -> dict[str, Any]:
    from simfarm.config import NON_CONTENT_KEYS

    return {k: v for k, v in config.items() if k not in NON_CONTENT_KEYS}


# -- replacing an output ---------------------------------------------------------------------


def sibling(root: str, suffix: str) -> str:
    """``<parent>/.<name><suffix>`` beside `root` (same filesystem, so a rename can move it)."""
    parent, sep, name = root.rstrip("/").rpartition("/")
    if not sep or not name:
        raise FarmError(f"output {root!r} cannot be replaced in place (no parent folder); choose another output=")
    return f"{parent}/.{name}{suffix}"


def file_sha256(fs, path: str) -> str | None:
    """sha256 of a file's bytes, or None when it does not exist."""
    try:
        with fs.open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def exchange_paths(a: str, b: str) -> bool:
    """Swap two local paths in one atomic step (Linux renameat2 RENAME_EXCHANGE).

    False where the platform or filesystem cannot (the caller then uses two renames).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), f"{a} <-> {b}")


# Test hook: called with the name of each step of a swap once it is done (a test raises there to
# stand for a crash between two steps).
SWAP_STEP_HOOK: Callable[[str], None] | None = None


def _step(name: str, on_step: Callable[[str], None] | None) -> None:
    for hook in (on_step, SWAP_STEP_HOOK):
        if hook is not None:
            hook(name)


def replace_output(fs, root: str, staged: str, marker: str, on_step: Callable[[str], None] | None = None) -> None:
    """Put the complete output at `staged` (its `marker` file exists) at `root`, then delete the old one.

    Local folders: a journal naming the new output (its marker's sha256) is written, then the two
    folders are exchanged in one atomic step (renameat2; where unsupported, the old is renamed aside
    and the new renamed into place), then the old is deleted and the journal removed. At every
    moment `root` holds the old complete output or the new one (with two renames there is one
    instant where it holds neither; both are then complete beside it), and `finish_replacement`
    completes an interrupted swap.

    Object stores (no rename): the old output is deleted only now that the new one is complete,
    its marker first (so the output reads as unfinished), then the new one is copied in (server
    side, its marker last) and the staged copy deleted, marker first. A crash in between leaves
    the complete new output staged, which `finish_replacement` copies in again: no data is lost,
    but for that while `root` holds no complete output.
    """
    if not is_local(fs):
        _copy_in(fs, root, staged, marker, on_step)
        return
    digest = file_sha256(fs, join(staged, marker))
    if digest is None:
        raise FarmError(f"{staged} has no {marker}: it is not complete and cannot replace {root}")
    journal = sibling(root, JOURNAL_SUFFIX)
    old = sibling(root, OLD_SUFFIX)
    write_json_atomic(fs, journal, {"root": root, "staged": staged, "marker": marker, "marker_sha256": digest})
    _step("journal", on_step)
    _swap_local(root, staged, old, on_step)
    _remove_local(old)
    _step("old-deleted", on_step)
    os.unlink(journal)


def _swap_local(root: str, staged: str, old: str, on_step) -> None:
    if not os.path.lexists(root):
        os.rename(staged, root)
        _step("new-in-place", on_step)
        return
    if exchange_paths(staged, root):
        _step("exchanged", on_step)
        os.rename(staged, old)  # `staged` now holds the old output
    else:
        os.rename(root, old)
        _step("old-moved-aside", on_step)
        os.rename(staged, root)
    _step("new-in-place", on_step)


def _remove_local(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def finish_replacement(fs, root: str, marker: str) -> bool:
    """Complete a replacement of `root` that a crash interrupted; True when this call put a new output in place.

    A complete staged output (its `marker` exists) is one a job finished for `overwrite=true`: it
    is swapped in. Leftovers of a swap that did complete (the old output, the journal) are removed.
    """
    staged = sibling(root, NEXT_SUFFIX)
    if not is_local(fs):
        fs.invalidate_cache(staged)
        if fs.exists(join(staged, marker)):
            log.warning("finishing the replacement of %s by the complete output staged in %s", root, staged)
            _copy_in(fs, root, staged, marker, None)
            return True
        return False
    journal = sibling(root, JOURNAL_SUFFIX)
    old = sibling(root, OLD_SUFFIX)
    if os.path.exists(journal):
        want = read_json(fs, journal)["marker_sha256"]
        if file_sha256(fs, join(root, marker)) == want:
            # The new output is in place; what is left beside it is the old one.
            _remove_local(old)
            if file_sha256(fs, join(staged, marker)) != want:
                _remove_local(staged)
            os.unlink(journal)
            return False
        if file_sha256(fs, join(staged, marker)) == want:
            log.warning("finishing the replacement of %s interrupted mid-swap", root)
            if not os.path.lexists(root) and os.path.lexists(old):
                os.rename(staged, root)  # crashed between the two renames
            else:
                _swap_local(root, staged, old, None)
            _remove_local(old)
            os.unlink(journal)
            return True
        if not os.path.lexists(root) and os.path.lexists(old):
            os.rename(old, root)  # the journal names no output we have: put the old one back
        os.unlink(journal)
        return False
    if os.path.exists(join(staged, marker)):
        log.warning("finishing the replacement of %s by the complete output in %s", root, staged)
        replace_output(fs, root, staged, marker)
        return True
    return False


def _copy_in(fs, root: str, staged: str, marker: str, on_step) -> None:
    fs.invalidate_cache(root)
    if fs.exists(join(root, marker)):
        fs.rm(join(root, marker))
    _step("old-marker-deleted", on_step)
    fs.invalidate_cache(root)
    if fs.exists(root):
        fs.rm(root, recursive=True)
    _step("old-deleted", on_step)
    fs.invalidate_cache(staged)
    prefix = staged.rstrip("/") + "/"
    files = [p for p in fs.find(staged) if p.startswith(prefix)]
    last = join(staged, marker)
    for path in sorted(files, key=lambda p: p == last):
        dest = join(root, path[len(prefix):])
        if path == last:
            write_bytes_atomic(fs, dest, fs.cat_file(path))
        else:
            fs.copy(path, dest)
    _step("new-in-place", on_step)
    fs.rm(last)
    fs.rm(staged, recursive=True)
    fs.invalidate_cache(staged)
    fs.invalidate_cache(root)
