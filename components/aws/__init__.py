"""AWS components: each a ComponentResource built from the cloud-neutral renderers one level up."""
