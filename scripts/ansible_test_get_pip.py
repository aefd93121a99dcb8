"""Stands in for the get-pip script that ansible-test downloads into an empty virtualenv.

ansible-test fetches that script from a host that this project's machines cannot reach. This one
does the same job from what Python already ships: it runs pip from the wheel bundled with
ensurepip and installs what ansible-test asks for (its pinned pip) from the package index.
scripts/setup.sh copies it to where ansible-test looks for its cached copy.
"""

import ensurepip
import glob
import os
import sys

bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
if not bundled:
    sys.exit("no pip wheel bundled with this Python's ensurepip")
sys.path.insert(0, bundled[0])

from pip._internal.cli.main import main  # noqa: E402

# get-pip's own flags say what NOT to install beside pip; plain pip install has no such flags.
arguments = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install"] + arguments))
