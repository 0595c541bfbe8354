"""The Pulumi program: read the stack config, run its recipe on the stack's cloud, export the outputs."""

import program
import settings

program.run(settings.from_pulumi())
