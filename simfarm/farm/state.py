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
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from simfarm.errors import FarmError
from simfarm.writers.storage import is_local, join, read_json, resolve, write_json_atomic

STATE_DIR = ".simfarm"
JOB_FILE = "job.json"


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
        """Delete the whole output (overwrite=true)."""
        if self.exists():
            self.fs.rm(self.root, recursive=True)
            self._refresh(self.root)

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
    """Decide what to do with an existing output: "new", "resume" or "overwrite"; raise if refused."""
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
        if overwrite:
            return "overwrite"
        diff = describe_differences(state.get("content", {}), _content(config))
        raise FarmError(
            f"output {store.output} holds an unfinished job with a different config "
            f"(config hash {state.get('config_hash')} there, {config_hash} now); differing keys:\n  "
            + "\n  ".join(diff or ["(none visible: simfarm version changed?)"])
            + "\nre-run with the original settings to resume, pass overwrite=true to start over, "
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
