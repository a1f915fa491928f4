"""simfarm: a simulation data-generation farm for robot learning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("simfarm")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+src"

__all__ = ["__version__"]
