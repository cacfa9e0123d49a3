# A FastAPI service that reads orders from PostgreSQL through an asyncpg pool.
# Nothing catches database errors: Starlette answers 500 and uvicorn logs
# "Exception in ASGI application" with the traceback (what an unprepared app does).
import os

import asyncpg
from fastapi import FastAPI

DSN = os.environ["DATABASE_URL"]
app = FastAPI()


@app.on_event("startup")
async def startup():
    app.state.pool = await asyncpg.create_pool(DSN, min_size=2, max_size=5)


@app.get("/orders")
async def orders():
    async with app.state.pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, total FROM orders ORDER BY id LIMIT 5")
    return [dict(r) for r in rows]


@app.get("/orders/{oid}")
async def order(oid: int):
    row = await app.state.pool.fetchrow("SELECT id, total FROM orders WHERE id = $1", oid)
    return dict(row) if row else {}


@app.get("/health")
async def health():
    return {"ok": True}
