"""`simfarm serve-policy policy=SPEC [host=127.0.0.1] [port=8765] [KEY=VALUE ...]`.

Extra keys become policy options (values parsed as YAML: `timeout_s=2.5`, `inputs={state: x}`).
Prints the server's URL on stdout (the command's data), then serves until interrupted.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import yaml

from simfarm.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def parse_key_values(argv: list[str]) -> dict[str, Any]:
    """`key=value` arguments into a dict; values are YAML scalars or flow collections."""
    out: dict[str, Any] = {}
    for item in argv:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"serve-policy argument {item!r} is not KEY=VALUE; accepted keys: policy, host, port, and policy options"
            )
        # The spec stays a string: YAML would read "remote:ws://..." fine but "python:a:b" as a mapping key in some forms.
        out[key] = value if key in ("policy", "host") else yaml.safe_load(value)
    return out


def serve_main(argv: list[str]) -> int:
    """Entry point of `simfarm serve-policy`; returns the exit code."""
    from simfarm.policies.server import serve_policy

    args = parse_key_values(argv)
    spec = args.pop("policy", None)
    if not spec:
        raise ConfigError(
            "serve-policy needs policy=SPEC (random, python:MOD:ATTR, onnx:PATH, ...)"
        )
    host = str(args.pop("host", DEFAULT_HOST))
    port = args.pop("port", DEFAULT_PORT)
    if not isinstance(port, int) or not 0 <= port < 65536:
        raise ConfigError(
            f"serve-policy port must be an integer in [0, 65535] (0: any free port), got {port!r}"
        )
    server = serve_policy(spec, host=host, port=port, options=args)
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
