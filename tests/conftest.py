"""Fixtures shared across modules: one MongoDB-wire server (nx-27017, or HRLEDGER_MONGODB_URI) per session
and one local RFC 3161 TSA per session."""

from tests.mongo_server import mongo_uri  # noqa: F401
