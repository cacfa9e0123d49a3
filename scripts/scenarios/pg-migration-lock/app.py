# An orders service on FastAPI with an asyncpg pool whose sessions carry a
# 1 s statement_timeout (a common production guard). Errors are not caught:
# uvicorn logs them and the app answers 500.
import os

import asyncpg
from fastapi import FastAPI

app = FastAPI()


@app.on_event("startup")
async def startup():
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=8,
                                               server_settings={"statement_timeout": "1000"})


@app.get("/orders/{oid}")
async def order(oid: int):
    row = await app.state.pool.fetchrow("SELECT id, total FROM orders WHERE id = $1", oid)
    return dict(row) if row else {}


@app.get("/health")
async def health():
    return {"ok": True}
