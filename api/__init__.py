"""The HTTP API: a thin edge over `core/`, like `pages/` (docs/API.md).

Each route reads its input, calls one core service as the API key's owner and renders the
result; no SQL and no business rule live here. `api.app.create_app()` builds the ASGI app;
`python -m core api` serves it with uvicorn.
"""
