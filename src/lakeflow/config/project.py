"""Where the Pulumi project lives (its Pulumi.<stack>.yaml and pipelines/): the commands work on it.

`$LAKEFLOW_ROOT` when set (bin/lakeflow sets it, so it runs from anywhere), else the working
directory (make, the Pulumi CLI and CI run from the project). The package itself is installed
and holds no project files.
"""

import os
from pathlib import Path


def project_root() -> Path:
    return Path(os.environ.get("LAKEFLOW_ROOT") or Path.cwd()).resolve()
