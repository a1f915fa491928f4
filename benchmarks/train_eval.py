"""Does simfarm data teach? Generate expert demos, train a LeRobot policy on them, evaluate it in simfarm.

    .venv/bin/python benchmarks/train_eval.py --out /tmp/train_eval                     # everything below
    .venv/bin/python benchmarks/train_eval.py --out /tmp/te --tasks push --demos 50 --skip-generalize --dagger 0

Every stage goes through the commands a user runs, so the benchmark is also the loop's proof:
1. `simfarm generate` writes max(--demos) expert episodes per task (tabletop, `light`; LeRobot v3 without
   the language columns, which LeRobot 0.4.4 predates; `relabel=expert` so demos and DAgger data share
   one schema).
2. `lerobot-train` (LeRobot's own script, CPU) trains ACT on the first N episodes (`--dataset.episodes`)
   for each N in --demos: state-based (observation.state + environment_state) and, with --image,
   image-based (one 96x96 camera + proprioception).
3. `simfarm eval policy=lerobot:RUN` on held-out seeds (the `test` split): success with a 95% Wilson
   interval, beside the scripted expert's on the same seeds.
4. Generalization: the largest-N state policy evaluated under `none` and `heavy` and in the task's other
   room programs.
5. DAgger (--dagger K): from the weakest policy, K times: `simfarm generate policy=lerobot:RUN
   relabel=expert` (the policy drives, the expert labels), train on demos + relabelled episodes (LeRobot's
   `aggregate_datasets`, the expert's labels as `action`), evaluate. With --takeover P the rollouts are
   `takeover.patience=P`: once the policy strays from the expert for P steps, the expert drives to the end
   (HG-DAgger-style intervention: the learner's mistake, then the expert's recovery from it).

Stages are cached under --out: a rerun (or a larger --demos) skips what exists. Prints markdown tables
and writes results.json. Needs the extra: pip install 'simfarm[lerobot]'.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

BIN = Path(sys.executable).parent
ENV = {**os.environ, "MUJOCO_GL": "egl", "HF_HUB_OFFLINE": "1"}


def sh(argv: list[str], log: Path) -> float:
    """Run a command (output to `log`); its wall time. Fails loudly with the log's tail."""
    t0 = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, env=ENV).returncode
    if rc != 0:
        sys.exit(f"train_eval: {argv[:3]} failed (rc {rc}); see {log}:\n{log.read_text()[-2000:]}")
    return time.perf_counter() - t0


def log_of(path: Path) -> Path:
    """The log beside a stage's folder (not with_suffix: a variant's name holds dots, e.g. 0.25)."""
    return path.parent / f"{path.name}.log"


def simfarm(*args: str, log: Path) -> float:
    return sh([str(BIN / "simfarm"), *args], log)


def obs_args(image: bool) -> list[str]:
    return ["obs_mode=rgb+state", "cameras=[workspace]", "camera_size=[96,96]"] if image else ["obs_mode=state"]


def demos(out: Path, task: str, n: int, image: bool, workers: int) -> Path:
    path = out / task / ("image" if image else "state") / "demos"
    if not (path / "meta" / "info.json").is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        simfarm("generate", f"task={task}", "scene=tabletop", "randomization=light", f"episodes={n}",
                f"workers={workers}", "relabel=expert", "writer.language_columns=false", *obs_args(image),
                f"output={path}", "overwrite=true", log=path.parent / "demos.log")
    return path


def train(dataset: Path, run: Path, episodes: int | None, args: argparse.Namespace, image: bool) -> float:
    """lerobot-train ACT; returns the wall time (0 when cached)."""
    if (run / "checkpoints" / "last" / "pretrained_model" / "model.safetensors").is_file():
        return json.loads((run / "train_time.json").read_text())["wall_s"]
    if run.exists():
        shutil.rmtree(run)
    subset = [f"--dataset.episodes=[{','.join(map(str, range(episodes)))}]"] if episodes else []
    policy = ["--policy.type=act", "--policy.device=cpu", "--policy.push_to_hub=false", "--policy.chunk_size=10",
              "--policy.n_action_steps=5", f"--policy.dim_model={args.dim}", f"--policy.dim_feedforward={4 * args.dim}",
              "--policy.n_encoder_layers=2", "--policy.n_decoder_layers=1", "--policy.use_vae=false",
              f"--policy.optimizer_lr={args.lr}", "--policy.pretrained_backbone_weights=null"]
    if image:
        policy += ["--policy.vision_backbone=resnet18", "--dataset.video_backend=pyav"]
    wall = sh([sys.executable, "-m", "lerobot.scripts.lerobot_train", "--dataset.repo_id=local/simfarm",
               f"--dataset.root={dataset}", *subset, *policy, f"--steps={args.steps}", f"--batch_size={args.batch}",
               f"--save_freq={args.steps}", "--log_freq=500", "--eval_freq=0", "--num_workers=0",
               "--wandb.enable=false", f"--output_dir={run}", "--seed=0"], log_of(run))
    (run / "train_time.json").write_text(json.dumps({"wall_s": wall}))
    return wall


def evaluate(out: Path, policy: str, task: str, args: argparse.Namespace, image: bool, *extra: str) -> dict:
    """`simfarm eval`: {rate, lo, hi, n, wall_s} for the task (cached in out/report.json)."""
    report = out / "report.json"
    if not report.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        wall = simfarm("eval", f"policy={policy}", f"task={task}", "scene=tabletop", "randomization=light",
                       f"episodes={args.eval_episodes}", f"workers={args.workers}", *obs_args(image), *extra,
                       f"output={out}", "overwrite=true", log=log_of(out))
        data = json.loads(report.read_text())
        data["wall_s"] = wall
        report.write_text(json.dumps(data))
    data = json.loads(report.read_text())
    s = data["summary"]["by_task"][task]
    return {"rate": s["rate"], "lo": s["ci_low"], "hi": s["ci_high"], "n": s["n"], "wall_s": data.get("wall_s", 0.0)}


def expert_labels_as_actions(src: Path, dst: Path) -> Path:
    """A copy of a relabelled dataset whose `action` is the expert's label (what DAgger trains on)."""
    if (dst / "meta" / "info.json").is_file():
        return dst
    shutil.copytree(src, dst, dirs_exist_ok=True)
    for file in dst.glob("data/*/*.parquet"):
        table = pq.read_table(file)
        table = table.set_column(table.schema.get_field_index("action"), "action", table["action.expert"])
        pq.write_table(table, file)
    stats = json.loads((dst / "meta" / "stats.json").read_text())
    stats["action"] = stats["action.expert"]
    (dst / "meta" / "stats.json").write_text(json.dumps(stats))
    for file in dst.glob("meta/episodes/*/*.parquet"):
        table = pq.read_table(file)
        for name in list(table.column_names):
            if name.startswith("stats/action.expert/"):
                target = name.replace("stats/action.expert/", "stats/action/")
                table = table.set_column(table.schema.get_field_index(target), target, table[name])
        pq.write_table(table, file)
    return dst


def aggregate(parts: list[Path], dst: Path) -> Path:
    if not (dst / "meta" / "info.json").is_file():
        from lerobot.datasets.aggregate import aggregate_datasets

        if dst.exists():
            shutil.rmtree(dst)
        aggregate_datasets([f"local/{p.name}" for p in parts], "local/aggregate", roots=parts, aggr_root=dst)
    return dst


def takeover_share(dataset: Path) -> dict:
    """How the rollouts went: episodes the expert took over, and the share of frames it drove."""
    rows = pq.read_table(dataset / "meta" / "simfarm" / "episodes.parquet", columns=["length", "metadata"]).to_pylist()
    steps = [json.loads(r["metadata"]).get("takeover_step") for r in rows]
    taken = [(k, r["length"]) for k, r in zip(steps, rows, strict=True) if k is not None]
    return {"taken_over": f"{len(taken)}/{len(rows)}",
            "expert_frames": round(sum(n - k for k, n in taken) / max(sum(r["length"] for r in rows), 1), 3)}


def cell(r: dict) -> str:
    return f"{100 * r['rate']:.0f}% [{100 * r['lo']:.0f}-{100 * r['hi']:.0f}]"


def task_programs(task: str, wanted: list[str]) -> list[str]:
    """The programs of `wanted` the task can appear in (`simfarm list tasks --json`)."""
    proc = subprocess.run([str(BIN / "simfarm"), "list", "tasks", "--json"], capture_output=True, text=True, env=ENV)
    for entry in json.loads(proc.stdout):
        if entry.get("name") == task:
            return [s for s in wanted if s in entry.get("scenes", [])]
    return []


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tasks", nargs="+", default=["pick_place", "push"])
    p.add_argument("--demos", nargs="+", type=int, default=[25, 50, 100, 200])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--eval-episodes", type=int, default=50)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--image", action="store_true", help="also train image-based ACT (push only)")
    p.add_argument("--skip-generalize", action="store_true")
    p.add_argument("--programs", nargs="+", default=["kitchen", "living_room"],
                   help="other room programs the largest state policy is evaluated in")
    p.add_argument("--dagger", type=int, default=2, help="DAgger iterations from the weakest state policy (0: none)")
    p.add_argument("--takeover", type=int, default=0, metavar="PATIENCE",
                   help="DAgger rollouts with expert takeover after PATIENCE straying steps (0: plain DAgger)")
    p.add_argument("--takeover-tolerance", type=float, default=0.25)
    args = p.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": f"{platform.node()} {os.cpu_count()} cores, CPU only", "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "rows": []}
    kinds = [False] + ([True] if args.image else [])
    state_runs: dict[str, dict] = {}
    for task in args.tasks:
        for image in kinds:
            if image and task != "push":
                continue
            kind = "image" if image else "state"
            data = demos(out, task, max(args.demos), image, args.workers)
            expert = evaluate(out / task / kind / "eval_expert", "scripted", task, args, image)
            results["rows"].append({"task": task, "kind": kind, "policy": "expert", **expert})
            print(f"| {task} | {kind} | expert | - | {cell(expert)} | - |", flush=True)
            runs = {}
            for n in sorted(args.demos):
                run = out / task / kind / f"act_{n}"
                wall = train(data, run, n if n < max(args.demos) else None, args, image)
                r = evaluate(out / task / kind / f"eval_{n}", f"lerobot:{run}", task, args, image)
                runs[n] = (run, r)
                results["rows"].append({"task": task, "kind": kind, "policy": "act", "demos": n, "train_s": wall,
                                        "relative_to_expert": r["rate"] / max(expert["rate"], 1e-9), **r})
                print(f"| {task} | {kind} | ACT | {n} | {cell(r)} | {wall / 60:.1f} min |", flush=True)
            if image:
                continue
            state_runs[task] = runs
            if not args.skip_generalize:
                run, _ = runs[max(runs)]
                for label, extra in ([("randomization=none", ["randomization=none"]),
                                      ("randomization=heavy", ["randomization=heavy"])]
                                     + [(f"scene={s}", [f"scene={s}"]) for s in task_programs(task, args.programs)]):
                    name = label.replace("=", "_")
                    r = evaluate(out / task / kind / f"gen_{name}", f"lerobot:{run}", task, args, image, *extra)
                    e = evaluate(out / task / kind / f"gen_{name}_expert", "scripted", task, args, image, *extra)
                    results["rows"].append({"task": task, "kind": kind, "policy": "act", "demos": max(runs),
                                            "eval": label, "expert": e, **r})
                    print(f"| {task} | generalization | ACT {max(runs)} on {label} | {cell(r)} | expert {cell(e)} |",
                          flush=True)
    if args.dagger and state_runs:
        # From the weakest state policy of all (lowest success, then fewest demos).
        task, n, run, r = min(((t, n, run, r) for t, runs in state_runs.items() for n, (run, r) in runs.items()),
                              key=lambda x: (x[3]["rate"], x[1]))
        kind, image = "state", False
        base = out / task / kind / ("demos" if n == max(args.demos) else f"demos_{n}")
        if not (base / "meta" / "info.json").is_file():
            simfarm("generate", f"task={task}", "scene=tabletop", "randomization=light", f"episodes={n}",
                    f"workers={args.workers}", "relabel=expert", "writer.language_columns=false",
                    *obs_args(image), f"output={base}", "overwrite=true", log=log_of(base))
        parts = [base]
        variant = f"_takeover{args.takeover}_{args.takeover_tolerance:g}" if args.takeover else ""
        takeover = ([f"takeover.patience={args.takeover}", f"takeover.tolerance={args.takeover_tolerance}"]
                    if args.takeover else [])
        for k in range(1, args.dagger + 1):
            rollouts = out / task / kind / f"dagger{variant}_{k}_rollouts"
            if not (rollouts / "meta" / "info.json").is_file():
                simfarm("generate", f"policy=lerobot:{run}", "relabel=expert", *takeover, f"task={task}",
                        "scene=tabletop", "randomization=light", f"episodes={n}", f"seed={1000 * k}",
                        f"workers={args.workers}", "writer.language_columns=false", *obs_args(image),
                        f"output={rollouts}", "overwrite=true", log=log_of(rollouts))
            parts.append(expert_labels_as_actions(rollouts, out / task / kind / f"dagger{variant}_{k}_labelled"))
            data_k = aggregate(parts, out / task / kind / f"dagger{variant}_{k}_data")
            before = r
            run = out / task / kind / f"dagger{variant}_{k}_act"
            wall = train(data_k, run, None, args, image)
            r = evaluate(out / task / kind / f"eval_dagger{variant}_{k}", f"lerobot:{run}", task, args, image)
            results["rows"].append({"task": task, "kind": kind, "policy": f"act+dagger{variant}{k}", "demos": n,
                                    "train_s": wall, "before": before, **takeover_share(rollouts), **r})
            print(f"| {task} | DAgger{variant} {k} from ACT {n} | {cell(before)} -> {cell(r)} | {wall / 60:.1f} min |"
                  f" {takeover_share(rollouts)} |", flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
