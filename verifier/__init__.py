"""Standalone offline verifier for hrledger evidence bundles (standard library + PyNaCl only).

It never imports ``ledger`` or ``api``: a court expert can read it, and run it, on its own.
"""
