# The dashboard and the API against an existing PostgreSQL:
# docker run -e DATABASE_URL=postgresql://… -p 8501:8501 -p 8000:8000
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FASHIONISTAS_API_HOST=0.0.0.0

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --create-home --uid 10001 app && chown -R app /app
USER app

EXPOSE 8501 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"

# Without DATABASE_URL the app would start an embedded server inside the container, whose
# data dies with it: give it a real database.
# dashboard/server.py migrates and prepares the database when the server starts (and prints
# the first admin's one-time password to the container's log), then serves dashboard/app.py.
CMD ["streamlit", "run", "dashboard/server.py", "--server.port=8501", "--server.address=0.0.0.0"]
