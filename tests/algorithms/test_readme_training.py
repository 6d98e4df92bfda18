"""The README's "Evaluation, callbacks and overrides" example runs as written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "Evaluation, callbacks and overrides"


def test_the_callbacks_example_runs_and_reports_its_metric(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {SECTION}\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", body, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README callbacks example", "exec"), namespace)
    namespace["algo"].stop()  # ends the progress line with the latest result
    result = namespace["result"]
    assert result["long_episodes"] >= 0 and "evaluation" in result
    assert "  eval " in capsys.readouterr().out
