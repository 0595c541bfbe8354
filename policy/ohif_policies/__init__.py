"""The rules, one per module named after its rule (<cloud>-<service>-<rule>); a new module is picked up as it is."""

import importlib
import pkgutil

POLICIES = [importlib.import_module(f"{__name__}.{m.name}").POLICY
            for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name) if not m.name.startswith("_")]
