"""Fill docs/protocol.md's examples from the golden files: `python -m tools.protocol_docs [--check]`.

After each `<!-- example: NAME -->` line comes a fenced block with the topic and the compact payload of
protocol/examples/valid/NAME.json, so the documented examples are the tested ones.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocol.md"
EXAMPLES = ROOT / "protocol" / "examples" / "valid"
_MARKER = re.compile(r"^<!-- example: ([a-z0-9_]+) -->\n(?:```text\n.*?\n```\n)?", re.M | re.S)


def _block(name: str) -> str:
    doc = json.loads((EXAMPLES / f"{name}.json").read_text())
    payload = json.dumps(doc["payload"], separators=(",", ":"), ensure_ascii=False)
    return f"<!-- example: {name} -->\n```text\n# {doc['description']}\n{doc['topic']}\n{payload}\n```\n"


def render(text: str) -> str:
    """The document with every example block rebuilt from its golden file."""
    return _MARKER.sub(lambda m: _block(m.group(1)), text)


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    fresh = render(text)
    if "--check" in argv:
        if fresh != text:
            print("docs/protocol.md is stale: run python -m tools.protocol_docs", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
