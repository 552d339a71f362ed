import sys
from pathlib import Path

# the rules' hand-made frame helpers serve the detectors too
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))
