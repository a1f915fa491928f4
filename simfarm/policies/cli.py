"""`simfarm serve-policy policy=SPEC [host=127.0.0.1] [port=8765] [KEY=VALUE ...]`.

Extra keys become policy options (values parsed as YAML: `timeout_s=2.5`, `inputs={state: x}`).
The host and port are checked first, then the policy is loaded (module imported, ONNX model
opened); only then does the server listen and print its URL on stdout (the command's data),
and it serves until interrupted.
"""

from __future__ import annotations

import signal
import socket
import sys
from typing import Any

import yaml

from simfarm.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
USAGE = "simfarm serve-policy policy=SPEC [host=127.0.0.1] [port=8765] [POLICY OPTION=VALUE ...]"
SPEC_EXAMPLES = "random, python:MOD:ATTR, onnx:PATH, lerobot:PATH, remote:ws://HOST:PORT, or mixture with components=[...]"


def parse_key_values(argv: list[str]) -> dict[str, Any]:
    """`key=value` arguments into a dict; values are YAML scalars or flow collections."""
    out: dict[str, Any] = {}
    for item in argv:
        key, sep, value = item.partition("=")
        if item.startswith("-"):
            raise ConfigError(f"serve-policy: unknown flag {item!r}; it takes KEY=VALUE arguments only: {USAGE}")
        if not sep or not key:
            raise ConfigError(
                f"serve-policy: argument {item!r} is not KEY=VALUE; accepted keys: policy, host, port, and policy options ({USAGE})"
            )
        if key in out:
            raise ConfigError(f"{key}: given twice")
        # The spec, host and port stay strings: YAML would read "python:a:b" as a mapping in some
        # forms, and the port is checked as an integer by checks.free_port.
        if key in ("policy", "host", "port"):
            out[key] = value
            continue
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ConfigError(f"{key}: cannot read {value!r} as a YAML value ({problem})") from None
    return out


def check_host(host: str) -> str:
    """A host name or address that resolves (binding it is checked with the port)."""
    if not host:
        raise ConfigError("host: must not be empty; e.g. host=127.0.0.1 (this machine only) or host=0.0.0.0 (all interfaces)")
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            f"host: cannot resolve {host!r} ({reason}); give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    return host


def _refuse_scripted(spec: str, options: dict[str, Any]) -> None:
    """The task's expert needs the simulation env, which a server does not have."""
    specs = [spec, *(c.get("policy") for c in options.get("components") or [] if isinstance(c, dict))]
    if any(isinstance(s, str) and s.partition(":")[0] == "scripted" for s in specs):
        raise ConfigError(
            "policy: 'scripted' is the task's expert: it runs inside the simulation and cannot be served; "
            f"serve {SPEC_EXAMPLES}"
        )


def serve_main(argv: list[str]) -> int:
    """Entry point of `simfarm serve-policy`; returns the exit code."""
    from simfarm.checks import free_port
    from simfarm.paths import data_root

    if argv and argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0
    data_root()  # a wrong SIMFARM_ROOT fails every command the same way
    args = parse_key_values(argv)
    spec = args.pop("policy", None)
    if not spec:
        raise ConfigError(f"policy: serve-policy needs policy=SPEC ({SPEC_EXAMPLES}); usage: {USAGE}")
    host = check_host(str(args.pop("host", DEFAULT_HOST)))
    port = free_port("port", host, args.pop("port", DEFAULT_PORT))
    _refuse_scripted(spec, args)

    from simfarm.policies.server import serve_policy

    server = serve_policy(spec, host=host, port=port, options=args)  # loads the policy, then listens
    # SIGTERM (docker stop, kill) shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    print(f"serving policy {spec} on {server.url}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(serve_main(sys.argv[1:]))
