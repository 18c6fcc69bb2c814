"""Database access: engine, embedded server, unit of work."""

from core.db.engine import (
    dispose_engine,
    get_engine,
    get_owner_engine,
    get_sessionmaker,
    use_engine,
)
from core.db.uow import Actor, UnitOfWork, require_transaction, unit_of_work

__all__ = [
    "Actor",
    "UnitOfWork",
    "dispose_engine",
    "get_engine",
    "get_owner_engine",
    "get_sessionmaker",
    "require_transaction",
    "unit_of_work",
    "use_engine",
]
