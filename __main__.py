"""The Pulumi program: read the stack config, run its recipe, export the outputs."""

import recipes
import settings

recipes.run(settings.from_pulumi())
