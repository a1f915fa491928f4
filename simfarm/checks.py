"""One set of checks for user-given values, shared by every command and the Python API.

Each check raises ConfigError with the key, what was given and what is accepted, so the CLI
prints one line (`simfarm <command>: error: ...`) and the Python API raises the same message.
They run before any work starts (Ray, renderers, encoders) wherever the value is known then.
"""

from __future__ import annotations

import difflib
import errno
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simfarm.errors import ConfigError


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest accepted option, or '' when none is close."""
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def one_of(key: str, value: Any, accepted: Iterable[str]) -> str:
    """`value` if it is one of `accepted`; otherwise ConfigError naming them and the closest."""
    accepted = list(accepted)
    if value not in accepted:
        raise ConfigError(f"{key}: got {value!r}{did_you_mean(value, accepted)}; accepted: {', '.join(map(str, accepted))}")
    return value


def known_options(where: str, what: str, options, accepted) -> None:
    """ConfigError when `options` has keys outside `accepted` (naming the first, with a close match)."""
    accepted = list(accepted)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"{where}: {what} options {unknown}{did_you_mean(unknown[0], accepted)} are not accepted; "
                          f"accepted: {', '.join(accepted)}")


def integer(key: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """An int in [minimum, maximum]; strings of digits are parsed; booleans and floats are refused."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {text!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        # numpy integers are fine; True/1.5/"x" are not (YAML reads `seed=true` as a boolean).
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        bounds = (
            f"in {minimum}..{maximum}" if minimum is not None and maximum is not None
            else f">= {minimum}" if minimum is not None else f"<= {maximum}"
        )
        raise ConfigError(f"{key}: must be an integer {bounds}, got {value!r}")
    return value


def number(key: str, value: Any, minimum: float | None = None, maximum: float | None = None) -> float:
    """A finite real number in [minimum, maximum] (booleans refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        lo = "" if minimum is None else f">= {minimum}"
        hi = "" if maximum is None else f"<= {maximum}"
        raise ConfigError(f"{key}: must be a number {' and '.join(p for p in (lo, hi) if p)}, got {value!r}")
    return float(value)


def boolean(key: str, value: Any) -> bool:
    """true/false (also yes/no, 1/0 as text); anything else is refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


def _existing_ancestor(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path("/")


def writable_dir(key: str, path: str | os.PathLike) -> Path:
    """A local folder that exists or can be created: not a file, under a writable existing folder.

    Nothing is created: a mistake is found before any work, and a correct run makes the folder itself.
    """
    p = Path(os.path.expanduser(os.fspath(path)))
    if str(path) == "":
        raise ConfigError(f"{key}: a folder path is required")
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{key}: {os.fspath(path)} is an existing file, not a folder; give a folder path")
    base = _existing_ancestor(p.absolute())
    if not base.is_dir():
        raise ConfigError(f"{key}: cannot create {os.fspath(path)}: {base} is a file, not a folder")
    if not _can_write_in(base):
        raise ConfigError(f"{key}: cannot create or write {os.fspath(path)}: {base} is not writable")
    return p


def writable_file(key: str, path: str | os.PathLike, suffixes: tuple[str, ...] = ()) -> Path:
    """A local file path that can be written (its folder exists or can be created; not a folder)."""
    p = Path(os.path.expanduser(os.fspath(path)))
    if str(path) == "":
        raise ConfigError(f"{key}: a file path is required")
    if p.is_dir() or str(path).endswith(os.sep):
        raise ConfigError(f"{key}: {os.fspath(path)} is a folder; give a file path" + (f" ending in {' or '.join(suffixes)}" if suffixes else ""))
    if suffixes and p.suffix.lower() not in suffixes:
        raise ConfigError(f"{key}: {os.fspath(path)} must end in {' or '.join(suffixes)}")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(f"{key}: {os.fspath(path)} exists and is not writable")
    base = _existing_ancestor(p.parent.absolute())
    if not base.is_dir():
        raise ConfigError(f"{key}: cannot create {os.fspath(path)}: {base} is a file, not a folder")
    if not _can_write_in(base):
        raise ConfigError(f"{key}: cannot write {os.fspath(path)}: {base} is not writable")
    return p


def _can_write_in(folder: Path) -> bool:
    """os.access lies for root and for pseudo filesystems (/proc, /sys): try to create a file."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    probe = folder / f".simfarm-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return False
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True


def free_port(key: str, host: str, port: Any) -> int:
    """A TCP port number that can be bound on `host` now (0: any free port)."""
    port = integer(key, port, 0, 65535)
    if port == 0:
        return 0
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"{key}: port {port} on {host} is already in use; choose another port= (0: any free port)") from None
            raise ConfigError(f"{key}: cannot bind {host}:{port} ({exc.strerror}); check host= and port=") from None
    return port
