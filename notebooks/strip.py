"""Strip outputs and execution counts from the notebooks (run before committing)."""

import json
import sys
from pathlib import Path

for path in sys.argv[1:] or sorted(Path(__file__).parent.glob("*.ipynb")):
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
