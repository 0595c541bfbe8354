"""Reusable pieces of a viewer deployment: cloud-neutral renderers here, cloud components in aws/."""
