"""The kernel: the everyday parts every domain shares, written once.

`periods` (half-year `Period`), `clock` (`today()`, local time), `rules` (`RuleError`,
optimistic concurrency), `grants` (roles, the grant table, `require`), `uow` (the one
unit of work per entry point) and `signals` (how a lower layer announces something a
higher one reacts to). The kernel imports no domain: it sits below all of them, with
`portal.db`, `portal.extensions`, `portal.config` and `portal.i18n`.
"""
