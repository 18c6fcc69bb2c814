"""Database access: engine, embedded server, unit of work."""

from core.db.engine import (
    dispose_engine,
    get_auth_engine,
    get_engine,
    get_owner_engine,
    get_sessionmaker,
    use_engine,
)
from core.db.uow import Actor, UnitOfWork, context_params, require_transaction, unit_of_work

__all__ = [
    "Actor",
    "UnitOfWork",
    "context_params",
    "dispose_engine",
    "get_auth_engine",
    "get_engine",
    "get_owner_engine",
    "get_sessionmaker",
    "require_transaction",
    "unit_of_work",
    "use_engine",
]
