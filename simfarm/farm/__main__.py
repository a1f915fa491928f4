"""`python -m simfarm.farm KEY=VALUE ...`: the same as `simfarm generate KEY=VALUE ...`."""

import sys

from simfarm.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
