import sys

from tests.conftest import REPO

# The pack runs from policy/ (pulumi preview --policy-pack policy); its rules import as `ohif_policies`.
sys.path.insert(0, str(REPO / "policy"))
