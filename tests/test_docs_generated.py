"""The documentation that is generated (docs/defaults.md, docs/cli.md, docs/results.md and the README's
two tables) matches its sources: a changed default, flag or result file without `python docs/generate.py`
fails here."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_generated_docs_are_up_to_date():
    result = subprocess.run([sys.executable, str(REPO / "docs" / "generate.py"), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_a_stale_generated_file_is_named(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO / "docs"))  # conftest restores sys.path (generate.py adds bench/ too)
    import generate

    outputs = generate.outputs()
    stale = tmp_path / "defaults.md"
    stale.write_text(outputs[REPO / "docs" / "defaults.md"].replace("| 1e-4 |", "| 3e-4 |"))
    monkeypatch.setattr(generate, "outputs", lambda: {stale: outputs[REPO / "docs" / "defaults.md"]})
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0 and generate.main(["--check"]) == 0  # rewritten


def test_the_readme_is_a_first_screen_not_a_lab_notebook():
    readme = (REPO / "README.md").read_text().splitlines()
    assert len(readme) <= 200
    assert "asynchronous methods of Mnih et al. 2016" in " ".join(readme[:5])  # what it is, first
