"""`lerobot:PATH`: a LeRobot policy checkpoint (what `lerobot-train` saves) as a simfarm policy.

PATH is a `pretrained_model/` folder (config.json, model.safetensors, policy_preprocessor.json,
policy_postprocessor.json and their stats), a `checkpoints/NNNNNN/` folder or a training run's
output folder (its `checkpoints/last/`), or a Hugging Face Hub repo id (downloaded by LeRobot).

Each step does what `lerobot-eval` does: the observation becomes LeRobot's batch (below), goes
through the checkpoint's own preprocessor (normalization with the training set's statistics),
`policy.select_action` (which keeps the action chunk queue: a new chunk every `n_action_steps`),
and the checkpoint's postprocessor (unnormalization). The batch, with a batch dimension of one:

    observation.state               <- observation["state"]                    float32
    observation.environment_state   <- observation["environment_state"]        float32
    observation.images.<camera>     <- observation["images"][camera]           float CHW in [0, 1]
    observation.image               <- the only camera, for single-camera checkpoints
    observation.ee_pose             <- the robot's canonical end-effector pose (simfarm.robots.canonical)
    task                            <- the episode's instruction

The checkpoint's input features are matched with the env's observation space when the policy is
built (and once in the driver, `check_lerobot_policy`), naming every key and shape that differs.
LeRobot and torch are the optional `simfarm[lerobot]` extra; nothing here imports them until a
`lerobot:` policy is built.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from simfarm.errors import ConfigError, PolicyError
from simfarm.policies.base import Policy

CONFIG_NAME = "config.json"
INSTALL_HINT = "pip install 'simfarm[lerobot]'"
STATE, ENV_STATE, EE_POSE = "observation.state", "observation.environment_state", "observation.ee_pose"
IMAGES, IMAGE = "observation.images.", "observation.image"
# Where simfarm's observation dict holds each non-image input (images: `images.<camera>`).
OBSERVATION_KEYS = {STATE: "state", ENV_STATE: "environment_state"}
DEVICES = ("auto", "cpu", "cuda", "mps")


def checkpoint_dir(path: str) -> Path | None:
    """The `pretrained_model` folder PATH names, or None when PATH is not a local folder.

    Accepts the folder itself, a `checkpoints/NNNNNN/` folder (its `pretrained_model/`) and a
    training run's output folder (`checkpoints/last/pretrained_model/`).
    """
    root = Path(os.path.expanduser(path))
    if not root.is_dir():
        return None
    for candidate in (root, root / "pretrained_model", root / "checkpoints" / "last" / "pretrained_model"):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    return root


def looks_like_hub_id(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and all(parts) and not path.startswith((".", "~")) and not Path(path).exists()


def import_lerobot(label: str, error: type[Exception] = PolicyError) -> None:
    """Import torch and LeRobot's policy factory, or fail with one line naming the extra."""
    try:
        import torch  # noqa: F401
        from lerobot.policies import factory  # noqa: F401
    except ImportError as exc:
        raise error(f"{label}: LeRobot is not installed ({exc}); install the extra: {INSTALL_HINT}") from exc


def read_checkpoint_config(path: str, label: str, error: type[Exception] = PolicyError) -> tuple[str, dict[str, Any]]:
    """(the folder or hub id LeRobot loads, config.json as a dict); `error` names what is missing."""
    folder = checkpoint_dir(path)
    if folder is None:
        if looks_like_hub_id(path):
            return path, {}  # LeRobot downloads it; its own errors are reported when it loads
        raise error(f"{label}: no such folder; give a LeRobot checkpoint folder "
                    "(pretrained_model/ with config.json and model.safetensors, or a lerobot-train output folder)")
    config_file = folder / CONFIG_NAME
    if not config_file.is_file():
        raise error(f"{label}: {folder} has no {CONFIG_NAME}; a LeRobot checkpoint is a pretrained_model/ folder "
                    "(config.json, model.safetensors, policy_preprocessor.json, policy_postprocessor.json)")
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise error(f"{label}: {config_file} is not readable JSON ({exc})") from exc
    if not isinstance(config, dict) or "type" not in config:
        raise error(f"{label}: {config_file} has no policy 'type'; it is not a LeRobot policy config")
    for name in ("model.safetensors", "policy_preprocessor.json", "policy_postprocessor.json"):
        if not (folder / name).is_file():
            raise error(f"{label}: {folder} has no {name}; save the checkpoint with lerobot-train "
                        "(or policy.save_pretrained and both processors' save_pretrained)")
    return str(folder), config


def feature_shapes(config: dict[str, Any], group: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """{key: (type, shape)} of config.json's `input_features` or `output_features`."""
    return {key: (str(feature.get("type", "")), tuple(int(n) for n in feature.get("shape", ())))
            for key, feature in (config.get(group) or {}).items()}


def _space(observation_space: Any, *path: str) -> Any:
    node = observation_space
    for part in path:
        spaces = getattr(node, "spaces", None)
        if spaces is None or part not in spaces:
            return None
        node = spaces[part]
    return node


def match_features(config: dict[str, Any], observation_space: Any, action_space: Any,
                   has_env: bool) -> tuple[dict[str, str], list[str]]:
    """Map every input feature of the checkpoint to its source in the observation.

    Returns ({feature key: source}, problems); a source is `state`, `environment_state`,
    `images.<camera>` or `ee_pose`. Each problem names the key, what the checkpoint expects and
    what the env gives.
    """
    sources: dict[str, str] = {}
    problems: list[str] = []
    cameras = sorted(getattr(_space(observation_space, "images"), "spaces", {}) or {})
    for key, (ftype, shape) in feature_shapes(config, "input_features").items():
        if key in OBSERVATION_KEYS:
            space = _space(observation_space, OBSERVATION_KEYS[key])
            if space is None:
                problems.append(f"{key} {shape}: the env's observation has no {OBSERVATION_KEYS[key]!r} "
                                f"(obs_mode needs 'state')")
            elif tuple(space.shape) != shape:
                problems.append(f"{key}: the checkpoint expects shape {shape}, the env gives {tuple(space.shape)}")
            else:
                sources[key] = OBSERVATION_KEYS[key]
        elif ftype == "VISUAL" or key.startswith(IMAGES) or key == IMAGE:
            camera = key[len(IMAGES):] if key.startswith(IMAGES) else (cameras[0] if len(cameras) == 1 else None)
            space = _space(observation_space, "images", camera) if camera else None
            if space is None:
                what = f"camera {camera!r}" if camera else "exactly one camera"
                problems.append(f"{key} {shape}: the env has no {what}; its cameras: {cameras or 'none'} "
                                "(set cameras=[...] and obs_mode with 'rgb')")
                continue
            h, w, c = space.shape
            if shape != (c, h, w):
                hint = f" (camera_size=[{shape[1]}, {shape[2]}])" if len(shape) == 3 else ""
                problems.append(f"{key}: the checkpoint expects (C, H, W) {shape}, the env gives {(c, h, w)}{hint}")
            else:
                sources[key] = f"images.{camera}"
        elif key == EE_POSE:
            if has_env:
                sources[key] = "ee_pose"
            # Without an env (a policy server) it is left out: LeRobot's models read state,
            # environment state and images only, and its normalizer skips absent keys.
        else:
            problems.append(f"{key} {shape}: simfarm has no observation for it; it feeds "
                            f"{sorted([*OBSERVATION_KEYS, EE_POSE])} and {IMAGES}<camera>")
    outputs = feature_shapes(config, "output_features")
    if "action" not in outputs:
        problems.append(f"the checkpoint has no 'action' output (outputs: {sorted(outputs)})")
    elif action_space is not None and tuple(action_space.shape) != outputs["action"][1]:
        problems.append(f"action: the checkpoint outputs shape {outputs['action'][1]}, "
                        f"the env's action space is {tuple(action_space.shape)} (check robot= and control_mode=)")
    return sources, problems


def _device(requested: str, label: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{label}: device 'cuda' is not available on this machine; use device=cpu or auto")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"{label}: device 'mps' is not available on this machine; use device=cpu or auto")
    return requested


class LeRobotPolicy(Policy):
    """A LeRobot checkpoint run step by step; `select_action` keeps its own action chunk queue."""

    def __init__(self, path: str, observation_space: Any, action_space: gym.spaces.Box,
                 device: str = "auto", threads: int = 1, n_action_steps: int | None = None, env: Any = None):
        self.name = f"lerobot:{path}"
        label = f"policy {self.name}"
        import_lerobot(label)
        import torch
        from lerobot.configs.policies import PreTrainedConfig
        from lerobot.policies.factory import get_policy_class, make_pre_post_processors

        folder, config = read_checkpoint_config(path, label)
        # One simulation worker per core: a second intra-op thread only fights the simulator.
        torch.set_num_threads(int(threads))
        self.device = _device(str(device), label)
        try:
            cfg = PreTrainedConfig.from_pretrained(folder)
        except Exception as exc:  # draccus and the hub raise many kinds
            raise PolicyError(" ".join(f"{label}: LeRobot cannot read its config: {type(exc).__name__}: {exc}".split())) from exc
        if not config:  # a hub checkpoint: its config came with from_pretrained
            config = {"input_features": {k: {"type": v.type.value, "shape": list(v.shape)} for k, v in cfg.input_features.items()},
                      "output_features": {k: {"type": v.type.value, "shape": list(v.shape)} for k, v in cfg.output_features.items()}}
        self.sources, problems = match_features(config, observation_space, action_space, env is not None)
        if problems:
            raise ConfigError(f"{label}: the checkpoint does not fit this env: " + "; ".join(problems))
        cfg.device = self.device
        cfg.pretrained_path = folder
        if n_action_steps is not None:
            if not hasattr(cfg, "n_action_steps"):
                raise ConfigError(f"{label}: n_action_steps: a {cfg.type} policy has no action chunks")
            limit = getattr(cfg, "chunk_size", None)
            if limit is not None and int(n_action_steps) > int(limit):
                raise ConfigError(f"{label}: n_action_steps={n_action_steps} exceeds the checkpoint's chunk_size {limit}")
            cfg.n_action_steps = int(n_action_steps)
        try:
            # LeRobot prints "Loading weights from ..." on stdout; simfarm's stdout is its report.
            with contextlib.redirect_stdout(io.StringIO()):
                self.policy = get_policy_class(cfg.type).from_pretrained(folder, config=cfg)
                self.preprocessor, self.postprocessor = make_pre_post_processors(
                    cfg, pretrained_path=folder,
                    preprocessor_overrides={"device_processor": {"device": self.device}})
        except Exception as exc:
            raise PolicyError(" ".join(f"{label}: LeRobot cannot load it: {type(exc).__name__}: {exc}".split())) from exc
        self.policy.eval()
        self.config = cfg
        self.env = env
        self.action_shape = tuple(action_space.shape) if action_space is not None else None
        self.instruction = ""
        self._torch = torch
        from simfarm.robots import canonical

        self._canonical = canonical

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        self.instruction = instruction
        self.policy.reset()  # empties the action queue: a new episode starts a new chunk
        # Diffusion and flow policies sample noise from torch's global generator.
        self._torch.manual_seed(int(seed))

    def batch(self, observation: dict[str, Any]) -> dict[str, Any]:
        """LeRobot's batch for one observation (before the checkpoint's preprocessor)."""
        torch = self._torch
        batch: dict[str, Any] = {}
        for key, source in self.sources.items():
            if source == "ee_pose":
                value = self._canonical.ee_pose(self.env.handle, self.env.data)
                batch[key] = torch.from_numpy(np.asarray(value, np.float32)).unsqueeze(0)
            elif source.startswith("images."):
                image = np.ascontiguousarray(observation["images"][source[len("images."):]])
                tensor = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).contiguous()
                batch[key] = tensor.to(torch.float32) / 255.0
            else:
                batch[key] = torch.from_numpy(np.asarray(observation[source], np.float32)).unsqueeze(0)
        batch["task"] = [self.instruction]
        return batch

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        torch = self._torch
        try:
            batch = self.preprocessor(self.batch(observation))
            with torch.inference_mode():
                action = self.policy.select_action(batch)
            action = self.postprocessor(action)
        except PolicyError:
            raise
        except Exception as exc:
            raise PolicyError(" ".join(f"policy {self.name}: the policy failed: {type(exc).__name__}: {exc}".split())) from exc
        out = action.detach().to("cpu").numpy()
        if self.action_shape is not None and out.ndim == len(self.action_shape) + 1 and out.shape[0] == 1:
            out = out[0]
        return out

    def close(self) -> None:
        self.policy = None
        self.env = None


def check_lerobot_policy(path: str, options: dict[str, Any], where: str = "policy",
                         spaces: list[tuple[str, Any, Any]] | None = None) -> None:
    """The driver's check of `lerobot:PATH`, before any worker starts.

    Without `spaces` (serve-policy): LeRobot is installed, PATH is a checkpoint, its config
    loads. With `spaces` ([(label, observation_space, action_space)] of the job's envs), the
    policy is built for each and its input features matched; every mismatch is named.
    """
    import inspect

    from simfarm.checks import integer, known_options, one_of

    label = f"{where}: lerobot:{path}"
    if not path:
        raise ConfigError(f"{where}: lerobot: needs a checkpoint, e.g. lerobot:outputs/train/act/checkpoints/last/pretrained_model")
    known_options(where, "lerobot policy", options, [
        p for p in inspect.signature(LeRobotPolicy.__init__).parameters
        if p not in ("self", "path", "observation_space", "action_space", "env")])
    if "device" in options:
        one_of(f"{where}.device", options["device"], DEVICES)
    if "threads" in options:
        integer(f"{where}.threads", options["threads"], minimum=1)
    if options.get("n_action_steps") is not None:
        integer(f"{where}.n_action_steps", options["n_action_steps"], minimum=1)
    import_lerobot(label, ConfigError)
    read_checkpoint_config(path, label, ConfigError)
    for what, observation_space, action_space in spaces or ():
        try:
            policy = LeRobotPolicy(path, observation_space, action_space, env=_NoEnv(), **options)
        except (ConfigError, PolicyError) as exc:
            message = str(exc).removeprefix(f"policy lerobot:{path}: ")
            raise ConfigError(" ".join(f"{label}{f' ({what})' if what else ''}: {message}".split())) from exc
        policy.close()


class _NoEnv:
    """Stands for the env in the driver's check: ee_pose is matched, never computed there."""
