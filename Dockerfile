# The image cluster nodes run: Ray base image + Mesa EGL for offscreen rendering + simfarm.
# Build: docker build -t simfarm:latest .
# Nodes that run LeRobot checkpoints (policy=lerobot:PATH): --build-arg EXTRAS=s3,lerobot
FROM rayproject/ray:2.60.0-py311-cpu

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*
USER ray

ENV MUJOCO_GL=egl \
    PYOPENGL_PLATFORM=egl \
    SIMFARM_ROOT=/home/ray/simfarm
WORKDIR /home/ray/simfarm
COPY --chown=ray:users pyproject.toml README.md ./
COPY --chown=ray:users simfarm ./simfarm
COPY --chown=ray:users procgen ./procgen
COPY --chown=ray:users scenes ./scenes
COPY --chown=ray:users configs ./configs
ARG EXTRAS=s3
RUN pip install --no-cache-dir ".[${EXTRAS}]"

# `simfarm generate ... cluster.address=auto output=s3://bucket/prefix` from a head or a RayJob.
ENTRYPOINT []
CMD ["simfarm", "--help"]
