"""Demo data: a realistic fashion-week world loaded into an empty database with COPY.

`load_demo(engine, scale="small" | "large")` plans the world from one seeded random stream
(dates relative to today in UTC) and writes every table in one transaction.
"""

from core.demo.loader import DemoDataExists, count_demo, load_demo

__all__ = ["DemoDataExists", "count_demo", "load_demo"]
