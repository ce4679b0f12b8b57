"""Where things are, for tests in any folder: the repository's root and its parts."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "protocol" / "examples"
