#!/usr/bin/env python3
"""Every `unsafe { ... }` block and `unsafe impl` in src/ and benches/*/src/ must have a `// SAFETY:` comment on
one of the three lines before it (or on its own line). Exits 1 and lists the offenders."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
bad = []
for path in sorted([*(root / "src").rglob("*.rs"), *(root / "benches").rglob("src/*.rs")]):
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        code = line.split("//")[0]
        if re.search(r"\bunsafe\s*\{", code) or re.search(r"\bunsafe\s+impl\b", code):
            window = lines[max(0, i - 3): i + 1]
            if not any("SAFETY" in w for w in window):
                bad.append(f"{path.relative_to(root)}:{i + 1}: {line.strip()}")
for b in bad:
    print(f"missing // SAFETY: comment: {b}")
print(f"safety comments: {len(bad)} unsafe blocks without a SAFETY comment")
sys.exit(1 if bad else 0)
