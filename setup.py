"""Ship the top-level notebooks/ and parameters/ inside the built package.

The real files stay where analysts and the brief expect them (notebooks/ opened by JupyterLab next to
data/ and outputs/, parameters/ edited by the committee); a wheel copies notebooks/*.ipynb and
parameters/*.yaml to bestex_nb/notebooks/ and bestex_nb/parameters/, where runner.NOTEBOOKS_DIR and
contract.parameters.PARAMETERS_DIR look first. An editable install copies nothing: the code then finds
the checkout's folders. Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = {"notebooks": "*.ipynb", "parameters": "*.yaml"}  # top-level folder -> files copied into bestex_nb/


class BuildPyWithReviewFiles(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        root = Path(__file__).resolve().parent
        for folder, pattern in SHIPPED.items():
            files = sorted((root / folder).glob(pattern))
            if not files:
                raise SystemExit(f"setup.py: no {folder}/{pattern} to ship")
            target = Path(self.build_lib) / "bestex_nb" / folder
            self.mkpath(str(target))
            for src in files:
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildPyWithReviewFiles})
