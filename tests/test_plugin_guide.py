"""docs/plugins.md: its Python blocks run, in order, in a fresh interpreter in a temporary
folder (they register plugins in that process only)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).parent.parent / "docs" / "plugins.md"


def test_the_guide_s_python_blocks_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 5
    done = subprocess.run([sys.executable, "-W", "error", "-c", "\n".join(blocks)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
