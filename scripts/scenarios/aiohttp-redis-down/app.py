# A session service on aiohttp with redis-py's asyncio client. Redis errors are
# not caught: aiohttp's server logs "Error handling request" with the traceback
# and answers 500. Python logging with asctime (local time, no zone).
import logging
import os

import redis.asyncio as redis
from aiohttp import web

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))


async def session(request):
    sid = request.match_info["sid"]
    data = await r.hgetall("session:" + sid)
    return web.json_response({k.decode(): v.decode() for k, v in data.items()})


async def health(request):
    return web.json_response({"ok": True})


app = web.Application()
app.add_routes([web.get("/session/{sid}", session), web.get("/health", health)])
web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log_format='%a "%r" %s %b %Tf')
