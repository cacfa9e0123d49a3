# A small FastAPI service; a deploy stops it with SIGTERM and starts the new
# version 4 s later (no second instance, no socket hand-over).
import os

from fastapi import FastAPI

app = FastAPI()
VERSION = os.environ.get("VERSION", "dev")


@app.get("/api/items")
def items():
    return {"items": [1, 2, 3], "version": VERSION}


@app.get("/health")
def health():
    return {"ok": True}
