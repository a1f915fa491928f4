"""`remote:ws://HOST:PORT`: a synchronous client of a simfarm policy server (see server.py).

Protocol: every message is a msgpack map (numpy through simfarm.policies.codec) with a `type`.

    client -> server                                   server -> client
    {type: init, observation_space, action_space,      {type: ready, name}
     options}
    {type: reset, instruction, seed}                   {type: ok}
    {type: act, observation}                           {type: action, action}
    {type: close}                                      {type: ok}, then the server closes
    (any request the server cannot serve)              {type: error, message}

The server builds one policy per connection from the spaces the client sends, so one server
serves many simulation workers with different envs. A timeout or a closed connection raises
PolicyError (the episode fails cleanly); the next `reset` reconnects.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simfarm.errors import ConfigError, PolicyError
from simfarm.policies.base import Policy
from simfarm.policies.codec import packb, unpackb

# Images of several cameras exceed websockets' 1 MiB default frame limit.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


def space_to_dict(space: Any) -> dict[str, Any]:
    """A gymnasium space as plain data (Box, Dict and Discrete; others by repr only)."""
    if isinstance(space, gym.spaces.Box):
        return {"kind": "box", "low": space.low, "high": space.high, "dtype": space.dtype.str}
    if isinstance(space, gym.spaces.Dict):
        return {"kind": "dict", "spaces": {k: space_to_dict(v) for k, v in space.spaces.items()}}
    if isinstance(space, gym.spaces.Discrete):
        return {"kind": "discrete", "n": int(space.n), "start": int(space.start)}
    return {"kind": "unknown", "repr": repr(space)}


def space_from_dict(data: dict[str, Any] | None) -> Any:
    """Inverse of `space_to_dict`; unknown kinds come back as None."""
    if not data:
        return None
    kind = data.get("kind")
    if kind == "box":
        return gym.spaces.Box(
            low=np.asarray(data["low"]),
            high=np.asarray(data["high"]),
            dtype=np.dtype(data["dtype"]),
        )
    if kind == "dict":
        return gym.spaces.Dict({k: space_from_dict(v) for k, v in data["spaces"].items()})
    if kind == "discrete":
        return gym.spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
    return None


class RemotePolicy(Policy):
    """Talks to `serve_policy` over a websocket; one connection (one server-side policy) per client."""

    def __init__(
        self,
        url: str,
        observation_space: Any,
        action_space: gym.spaces.Box,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        server_options: dict[str, Any] | None = None,
    ):
        if not url.startswith(("ws://", "wss://")):
            raise PolicyError(f"policy remote:{url}: expected remote:ws://HOST:PORT (or wss://)")
        self.url = url
        self.name = f"remote:{url}"
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = float(connect_timeout_s)
        self._init_message = {
            "type": "init",
            "observation_space": space_to_dict(observation_space),
            "action_space": space_to_dict(action_space),
            "options": dict(server_options or {}),
        }
        self._conn: Any = None
        self.server_name: str | None = None
        self._connect()

    # -- connection -----------------------------------------------------------------------------

    def _connect(self) -> None:
        import inspect

        from websockets.sync.client import connect

        # websockets >= 16 wants legacy=True for a plain connection object (not a context manager).
        # proxy=None (websockets >= 15): a proxy from the environment (for PyPI) must not capture 127.0.0.1.
        params = inspect.signature(connect).parameters
        extra = {k: v for k, v in (("legacy", True), ("proxy", None)) if k in params}
        try:
            # No compression: images barely compress and deflate costs more than localhost bytes.
            self._conn = connect(
                self.url,
                open_timeout=self.connect_timeout_s,
                close_timeout=1.0,
                compression=None,
                max_size=MAX_MESSAGE_BYTES,
                **extra,
            )
        except Exception as exc:
            self._conn = None
            raise PolicyError(
                f"policy {self.name}: cannot connect: {type(exc).__name__}: {exc}"
            ) from exc
        reply = self._request(self._init_message, expect="ready")
        self.server_name = reply.get("name")

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing more to release
                pass

    def _request(self, message: dict[str, Any], expect: str) -> dict[str, Any]:
        from websockets.exceptions import ConnectionClosed

        if self._conn is None:
            raise PolicyError(
                f"policy {self.name}: connection closed (a previous call failed); reset() reconnects"
            )
        try:
            self._conn.send(packb(message))
            raw = self._conn.recv(timeout=self.timeout_s)
        except TimeoutError as exc:
            # The late answer would desynchronise request and reply: drop the connection.
            self._drop_connection()
            raise PolicyError(
                f"policy {self.name} did not answer within {self.timeout_s:g} s"
            ) from exc
        except (ConnectionClosed, OSError) as exc:
            self._drop_connection()
            raise PolicyError(
                f"policy {self.name}: connection closed by the server ({type(exc).__name__}: {exc})"
            ) from exc
        reply = unpackb(raw)
        kind = reply.get("type") if isinstance(reply, dict) else None
        if kind == "error":
            raise PolicyError(f"policy {self.name}: server error: {reply.get('message')}")
        if kind != expect:
            self._drop_connection()
            raise PolicyError(
                f"policy {self.name}: unexpected reply {kind!r} to {message['type']!r}; expected {expect!r}"
            )
        return reply

    # -- policy ---------------------------------------------------------------------------------

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        if self._conn is None:
            self._connect()
        self._request({"type": "reset", "instruction": instruction, "seed": int(seed)}, expect="ok")

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        return self._request({"type": "act", "observation": observation}, expect="action")["action"]

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._request({"type": "close"}, expect="ok")
            except PolicyError:
                pass
        self._drop_connection()


# The driver's check tries one connection for at most this long (a worker waits connect_timeout_s).
CHECK_CONNECT_TIMEOUT_S = 2.0


def check_remote_policy(url: str, options: dict[str, Any], where: str = "policy") -> None:
    """The driver's check of `remote:ws://HOST:PORT`: the URL parses and one TCP connection succeeds.

    No websocket session is opened (the server builds a policy per session); a server that is not
    running, a wrong port or an unknown host fails here in one line naming `where`.
    """
    import inspect
    import socket
    from urllib.parse import urlsplit

    from simfarm.checks import known_options, number

    known_options(where, "remote policy", options, [
        p for p in inspect.signature(RemotePolicy.__init__).parameters if p not in ("self", "url", "observation_space", "action_space")])
    for key in ("timeout_s", "connect_timeout_s"):
        if key in options:
            value = number(f"{where}.{key}", options[key], minimum=0.0)
            if value == 0:
                raise ConfigError(f"{where}.{key}: must be a number > 0 (seconds), got {options[key]!r}")
    if not isinstance(options.get("server_options", {}), dict):
        raise ConfigError(f"{where}.server_options: must be a mapping of options for the server's policy, got {options['server_options']!r}")
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError:
        raise ConfigError(f"{where}: remote:{url}: the port is not a number in 0..65535; expected remote:ws://HOST:PORT") from None
    host = parts.hostname
    if parts.scheme not in ("ws", "wss") or not host:
        raise ConfigError(f"{where}: remote:{url}: expected remote:ws://HOST:PORT (or wss://)")
    hint = f"start it with simfarm serve-policy policy=SPEC port={port}" + ("" if host in ("127.0.0.1", "localhost", "::1") else f" host={host}")
    try:
        with socket.create_connection((host, port), timeout=CHECK_CONNECT_TIMEOUT_S):
            pass
    except ConnectionRefusedError:
        raise ConfigError(f"{where}: cannot reach remote policy at {url}: connection refused; {hint}") from None
    except socket.gaierror as exc:
        raise ConfigError(f"{where}: cannot reach remote policy at {url}: unknown host {host!r} ({exc.strerror}); check the URL") from None
    except TimeoutError:
        raise ConfigError(
            f"{where}: cannot reach remote policy at {url}: no answer within {CHECK_CONNECT_TIMEOUT_S:g} s; check the host and port, or {hint}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot reach remote policy at {url}: {exc.strerror or exc}; {hint}") from None
