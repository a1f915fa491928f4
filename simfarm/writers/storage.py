"""Where datasets live: local folders or any fsspec URL (s3://bucket/prefix), with atomic writes.

Shards are always written to a local folder (video encoders need a seekable file); `publish_shard`
uploads one to a URL with its manifest last. `finalize` reads manifests and writes the dataset
through an fsspec filesystem, so the same code serves local disks and object stores.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

MANIFEST_NAME = "manifest.json"


def resolve(path_or_url: str | os.PathLike, fs: fsspec.AbstractFileSystem | None = None):
    """(filesystem, path) for a local path or fsspec URL; `fs` overrides the URL's own filesystem."""
    text = os.fspath(path_or_url)
    if fs is not None:
        return fs, text
    if "://" not in text:
        return LocalFileSystem(), str(Path(text).resolve())
    fs, path = fsspec.core.url_to_fs(text)
    return fs, path


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])


def write_bytes_atomic(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never a part.

    Local: a temporary sibling then `os.replace`. Object stores: a single PUT is already atomic.
    """
    if is_local(fs):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    else:
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, data)


def write_json_atomic(fs: fsspec.AbstractFileSystem, path: str, obj: Any) -> None:
    write_bytes_atomic(fs, path, (json.dumps(obj, indent=4, ensure_ascii=False) + "\n").encode())


def read_json(fs: fsspec.AbstractFileSystem, path: str) -> Any:
    with fs.open(path, "rb") as f:
        return json.loads(f.read().decode())


def place_file(src_fs, src: str, dst_fs, dst: str, size: int | None = None, move: bool = True) -> None:
    """Put shard file `src` at `dst` without re-encoding: a rename when both are on one local disk.

    Idempotent: when `src` is gone and `dst` already has `size` bytes (a previous finalize moved
    it), nothing is done, so finalize can be re-run after a crash.
    """
    if not src_fs.exists(src):
        if dst_fs.exists(dst) and (size is None or dst_fs.size(dst) == size):
            return
        from simfarm.errors import DatasetError

        raise DatasetError(f"shard file {src} is missing and {dst} does not hold it either")
    if is_local(src_fs) and is_local(dst_fs):
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        if move:
            os.replace(src, dst)
        else:
            tmp = f"{dst}.tmp-{uuid.uuid4().hex[:8]}"
            with open(src, "rb") as fi, open(tmp, "wb") as fo:
                while chunk := fi.read(1 << 22):
                    fo.write(chunk)
            os.replace(tmp, dst)
        return
    if is_local(src_fs):
        dst_fs.makedirs(dst.rsplit("/", 1)[0], exist_ok=True)
        dst_fs.put_file(src, dst)
    elif src_fs is dst_fs or type(src_fs) is type(dst_fs):
        dst_fs.copy(src, dst)
    else:
        with src_fs.open(src, "rb") as fi:
            dst_fs.pipe_file(dst, fi.read())


def publish_shard(local_dir: str | os.PathLike, url: str, fs: fsspec.AbstractFileSystem | None = None) -> str:
    """Upload a closed local shard to `url` (e.g. s3://bucket/job/shards/shard-00003), manifest last.

    Readers treat a shard without manifest.json as absent, so a crash mid-upload is harmless.
    """
    dst_fs, dst = resolve(url, fs)
    local = Path(local_dir)
    manifest = local / MANIFEST_NAME
    if not manifest.exists():
        from simfarm.errors import DatasetError

        raise DatasetError(f"shard {local} has no {MANIFEST_NAME}: it was not closed; re-run it")
    for path in sorted(local.rglob("*")):
        if path.is_file() and path.name != MANIFEST_NAME:
            rel = path.relative_to(local).as_posix()
            place_file(LocalFileSystem(), str(path), dst_fs, join(dst, rel), move=False)
    write_bytes_atomic(dst_fs, join(dst, MANIFEST_NAME), manifest.read_bytes())
    return dst
