"""Build layer: Bref layer resolution and deterministic packaging (no CLI, no AWS SDK)."""
