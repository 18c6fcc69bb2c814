"""Signed webhooks from the transactional outbox (core/outbox.py).

Services (core/webhooks/service.py) manage endpoints and read deliveries for the page and
the API; the dispatcher (core/webhooks/dispatcher.py) is a periodic task of the worker.
See docs/WEBHOOKS.md.
"""

from core.webhooks.service import (
    ROTATION_OVERLAP,
    DeliveryDetail,
    DeliveryView,
    EndpointView,
    create_endpoint,
    get_delivery,
    get_endpoint,
    list_deliveries,
    list_endpoints,
    replay,
    rotate_secret,
    send_test_ping,
    set_active,
    update_endpoint,
)

__all__ = [
    "ROTATION_OVERLAP",
    "DeliveryDetail",
    "DeliveryView",
    "EndpointView",
    "create_endpoint",
    "get_delivery",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "replay",
    "rotate_secret",
    "send_test_ping",
    "set_active",
    "update_endpoint",
]
