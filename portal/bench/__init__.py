"""Scale tooling: bulk seeding for benchmarks and the Citus distribution plan.

Domain-less (no models, views or demo): only a `cli` hook, whose commands import their
work lazily so the app itself never loads any of this.
"""
