"""The policy server behind `remote:ws://HOST:PORT` (protocol in remote.py).

One thread and one policy instance per connection, so many simulation workers share one server
(and one GPU) without sharing episode state. A failing request is answered with an error message
and the connection stays usable; nothing a client sends can stop the server.
"""

from __future__ import annotations

import errno
import logging
import threading
from typing import Any

from simfarm.errors import ConfigError, SimfarmError
from simfarm.policies.base import check_policy, make_policy
from simfarm.policies.codec import packb, unpackb
from simfarm.policies.remote import MAX_MESSAGE_BYTES, space_from_dict

log = logging.getLogger(__name__)

# Options a client may not send: they change which policy (which code) the server builds.
CLIENT_FORBIDDEN_OPTIONS = frozenset({"components", "spec", "policy", "env"})


class PolicyServer:
    """A running server: `url`, `port`, `shutdown()`, `wait()`; a context manager."""

    def __init__(self, policy_spec: str, host: str, port: int, options: dict[str, Any]):
        from websockets.sync.server import serve

        self.policy_spec = policy_spec
        self.options = options
        # Load before listening: a client (or the user reading "serving ...") must never meet a
        # server whose policy cannot even be imported or opened.
        check_policy(policy_spec, "policy", **options)
        try:
            self._server = serve(self._handle, host, port, compression=None, max_size=MAX_MESSAGE_BYTES)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port: port {port} on {host} is already in use; choose another port= (0: any free port)") from None
            raise ConfigError(f"port: cannot listen on {host}:{port} ({exc.strerror or exc}); check host= and port=") from None
        self.host = host
        self.port = int(self._server.socket.getsockname()[1])
        self.url = f"ws://{host}:{self.port}"
        self.connections_served = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"policy-server-{self.port}", daemon=True
        )
        self._thread.start()

    def _handle(self, conn: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        with self._lock:
            self.connections_served += 1
        policy = None
        try:
            for raw in conn:
                reply, policy, done = self._answer(raw, policy)
                conn.send(packb(reply))
                if done:
                    break
        except ConnectionClosed:
            pass
        finally:
            if policy is not None:
                try:
                    policy.close()
                except Exception:  # a policy's close must not take the server down
                    log.exception("policy %s: close failed", self.policy_spec)

    def _answer(self, raw: Any, policy: Any) -> tuple[dict[str, Any], Any, bool]:
        """(reply, the connection's policy after this message, whether to close)."""
        try:
            message = unpackb(raw)
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "init":
                if policy is not None:
                    policy.close()
                    policy = None
                client_options = dict(message.get("options") or {})
                forbidden = sorted(set(client_options) & CLIENT_FORBIDDEN_OPTIONS)
                if forbidden:
                    # These would let a client choose which code the server runs.
                    return (
                        {
                            "type": "error",
                            "message": f"client options {forbidden} are not allowed; the server's policy is {self.policy_spec!r}",
                        },
                        None,
                        False,
                    )
                options = {**self.options, **client_options}
                policy = make_policy(
                    self.policy_spec,
                    space_from_dict(message.get("observation_space")),
                    space_from_dict(message.get("action_space")),
                    **options,
                )
                return {"type": "ready", "name": policy.name}, policy, False
            if kind == "close":
                return {"type": "ok"}, policy, True
            if kind not in ("reset", "act"):
                return (
                    {
                        "type": "error",
                        "message": f"unknown message type {kind!r}; accepted: init, reset, act, close",
                    },
                    policy,
                    False,
                )
            if policy is None:
                return (
                    {"type": "error", "message": f"{kind!r} before 'init': send the spaces first"},
                    policy,
                    False,
                )
            if kind == "reset":
                policy.reset(str(message.get("instruction", "")), int(message.get("seed", 0)))
                return {"type": "ok"}, policy, False
            return {"type": "action", "action": policy.act(message["observation"])}, policy, False
        except SimfarmError as exc:
            return {"type": "error", "message": str(exc)}, policy, False
        except (
            Exception
        ) as exc:  # a user policy's bug is reported to its client, not fatal to the server
            log.exception("policy %s failed", self.policy_spec)
            return {"type": "error", "message": f"{type(exc).__name__}: {exc}"}, policy, False

    def wait(self) -> None:
        """Block until the server stops (shutdown from another thread, or KeyboardInterrupt)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def shutdown(self) -> None:
        """Stop accepting connections and close the open ones."""
        self._server.shutdown()
        self._thread.join(timeout=5.0)

    def __enter__(self) -> PolicyServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def serve_policy(
    policy_spec: str, host: str = "127.0.0.1", port: int = 0, options: dict[str, Any] | None = None
) -> PolicyServer:
    """Serve `policy_spec` on ws://host:port (port 0: any free port; see `.port`) in a background thread.

    Binds 127.0.0.1 unless told otherwise: a policy server runs arbitrary code for its clients.
    `options` go to `make_policy` for every connection (merged under the client's own options).
    The policy is loaded first (`check_policy`: module imported, ONNX model opened), so a
    missing module or file raises ConfigError before anything listens.
    """
    return PolicyServer(policy_spec, host, int(port), dict(options or {}))
