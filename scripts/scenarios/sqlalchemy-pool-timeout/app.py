# A FastAPI service with SQLAlchemy's default QueuePool (size 2, no overflow,
# 1 s checkout timeout: small on purpose, the way a pool sized for a quiet
# service meets a busy hour). Sync endpoints run in Starlette's thread pool.
# Nothing catches SQLAlchemy's TimeoutError: the app answers 500.
import os

from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["DATABASE_URL"], pool_size=2, max_overflow=0, pool_timeout=1)
app = FastAPI()


@app.get("/report")
def report():
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM pg_class, pg_sleep(1.5)")).scalar()
    return {"rows": n}


@app.get("/items")
def items():
    with engine.connect() as conn:
        n = conn.execute(text("SELECT 1")).scalar()
    return {"items": n}


@app.get("/health")
def health():
    return {"ok": True}
