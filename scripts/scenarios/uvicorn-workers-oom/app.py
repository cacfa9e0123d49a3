# A FastAPI service run by uvicorn's own process manager (--workers 2). /import
# grows without bound; under a memory cgroup the kernel kills the worker and
# uvicorn's parent process starts another.
from fastapi import FastAPI

app = FastAPI()


@app.get("/import")
def do_import():
    rows = []
    while True:
        rows.append(bytearray(1 << 20))


@app.get("/api/items")
def items():
    return {"items": [1, 2, 3]}
