"""Write docs/configuration.md and the `config` part of the Helm chart's values.schema.json from
the settings models (consumer/config_schema.py). `--check` only reports whether they are stale.

    python scripts/gen_config_reference.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consumer.config_schema import chart_values_schema, render_markdown  # noqa: E402

DOC = ROOT / "docs" / "configuration.md"
CHART_SCHEMA = ROOT / "helm" / "capi-relay" / "values.schema.json"


def expected() -> dict[Path, str]:
    """Each generated file's up-to-date content."""
    values = chart_values_schema(json.loads(CHART_SCHEMA.read_text(encoding="utf-8")))
    return {DOC: render_markdown(), CHART_SCHEMA: json.dumps(values, indent=2) + "\n"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = [path for path, text in expected().items() if path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python scripts/gen_config_reference.py")
        return 1 if stale else 0
    for path, text in expected().items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
