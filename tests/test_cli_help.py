"""``scicls --help`` answers without importing torch or spaCy (they take seconds to import)."""
import subprocess
import sys

import pytest

HEAVY = ("torch", "spacy", "thinc", "transformers", "ray")


@pytest.mark.parametrize("args", [["--help"], ["annotate", "--help"]])
def test_help_imports_neither_torch_nor_spacy(args):
    script = (
        "import sys\n"
        "from spacy_scicls.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        f"print('IMPORTED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--output" in proc.stdout or "annotate" in proc.stdout
    assert "IMPORTED []" in proc.stdout, proc.stdout[-300:]


def test_the_package_names_load_on_first_use():
    script = (
        "import sys\n"
        "import spacy_scicls\n"
        "assert 'spacy' not in sys.modules and 'torch' not in sys.modules\n"
        "assert spacy_scicls.IMRAD_LABELS and callable(spacy_scicls.load_taxonomy)\n"
        "from spacy.tokens import Doc, Span\n"
        "assert Doc.has_extension('scicls_labels') and Span.has_extension('heading')\n"
        "import spacy\n"
        "assert 'scicls_sections' in spacy.registry.factories\n"
        "assert set(spacy_scicls.__all__) <= set(dir(spacy_scicls))\n"
        "print('OK')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout
