# SPDX-License-Identifier: MIT
"""The console's HTTP side: a Starlette app serving the page and the JSON
API under /api/ (docs/web-api.md), and the WebSocket of live data."""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Sequence

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

import axlink
from ._hub import (PUSH_PERIOD, SCOPE_MAX_POINTS, SCOPE_POINTS, ApiError, Hub, Stream,
                   error_body)

log = logging.getLogger("axlink.web")

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
TOKEN_COOKIE = "axlink_token"
#: Sampling period bounds of a stream (seconds) and its default: 1 kHz.
MIN_PERIOD, MAX_PERIOD, DEFAULT_PERIOD = 0.0005, 1.0, 0.001
#: Points per second per channel a stream sends at most by default (decimation).
DEFAULT_MAX_RATE = 250.0


#: An endpoint: a coroutine from the request to its response.
Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _fail(e: BaseException) -> JSONResponse:
    status, body = error_body(e)
    if status >= 500 and not isinstance(e, axlink.Error):
        log.exception("request failed", exc_info=e)
    return _json(body, status)


async def _body(request: Request) -> Dict[str, Any]:
    """The JSON object of a POST. Only application/json is taken: a page of
    another site cannot send that without the browser asking first (CORS),
    so a cross-site form cannot make a drive move."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiError(415, "expected Content-Type: application/json")
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise ApiError(400, f"request body is not JSON: {e}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body: expected a JSON object")
    return body


def _int_param(request: Request, name: str) -> Optional[int]:
    v = request.query_params.get(name)
    if v is None or v == "":
        return None
    try:
        return int(v, 0)
    except ValueError:
        raise ApiError(400, f"{name}={v!r}: expected an integer") from None


async def _disconnected(request: Request) -> None:
    """Return once the client of @request has gone (its body already read):
    the server's next ASGI message for it is then http.disconnect."""
    while True:
        msg = await request.receive()
        if msg["type"] == "http.disconnect":
            return


def create_app(specs: Sequence[str] = (), *, token: Optional[str] = None,
               scan_period: float = 1.0, misses: int = 2, timeout: float = 1.0,
               context: Optional[axlink.Context] = None,
               allowed_hosts: Optional[Sequence[str]] = None) -> Starlette:
    """The console as an ASGI app.

    Args:
        specs: discovery specs the drives table watches (see Hub).
        token: when set, every request must carry it (header
            ``Authorization: Bearer TOKEN`` or ``X-Axlink-Token``, the query
            ``?token=``, or the cookie the page gets when opened with it).
        allowed_hosts: host names the Host header may carry, port aside
            (None: any). Against DNS rebinding, the command line passes the
            loopback names when it binds to loopback without a token.
    """
    hub = Hub(specs, scan_period=scan_period, misses=misses, timeout=timeout, context=context)

    def authorised(conn: HTTPConnection) -> bool:
        if allowed_hosts is not None:
            host = conn.headers.get("host", "")
            name = host[:host.find("]") + 1] if host.startswith("[") else host.split(":")[0]
            if name.lower() not in allowed_hosts:
                return False
        if token is None:
            return True
        given = ""
        auth = conn.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        given = (given or conn.headers.get("x-axlink-token", "")
                 or conn.query_params.get("token", "") or conn.cookies.get(TOKEN_COOKIE, ""))
        return hmac.compare_digest(given.encode(), token.encode())

    def guard(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            if not authorised(request):
                return _json({"error": {"class": "Unauthorized", "message":
                                        "a token is required (printed by axlink web at start)"
                                        if token else "host not allowed"}}, 401)
            try:
                resp = await handler(request)
            except Exception as e:  # noqa: BLE001 - every failure as a JSON error
                return _fail(e)
            if token is not None and request.query_params.get("token") == token:
                resp.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return resp
        return run

    # -- the page

    async def index(request: Request) -> Response:
        return FileResponse(os.path.join(STATIC_DIR, "index.html"),
                            headers={"Cache-Control": "no-store"})

    class GuardedStatic(StaticFiles):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive)
            if not authorised(request):
                await _json({"error": {"class": "Unauthorized", "message": "token required"}},
                            401)(scope, receive, send)
                return
            await super().__call__(scope, receive, send)

    # -- API

    async def info(request: Request) -> Response:
        return _json({"version": axlink.__version__, "library": axlink.LIBRARY_VERSION,
                      "specs": hub.specs, "token_required": token is not None,
                      "streams": len(hub.streams),
                      "stream": {"default_period": DEFAULT_PERIOD, "min_period": MIN_PERIOD,
                                 "max_period": MAX_PERIOD, "default_max_rate": DEFAULT_MAX_RATE,
                                 "push_period": PUSH_PERIOD}})

    async def drives(request: Request) -> Response:
        return _json(hub.table())

    async def drive(request: Request) -> Response:
        slot = hub.slot(request.path_params["drive"])
        return _json(slot.summary())

    async def registers(request: Request) -> Response:
        q = request.query_params
        return _json(hub.registers(request.path_params["drive"], q.get("q", ""),
                                   q.get("category") or None, _int_param(request, "subnode")))

    async def read(request: Request) -> Response:
        body = await _body(request)
        items = body.get("registers")
        if not isinstance(items, list):
            raise ApiError(400, "expected {\"registers\": [{\"id\": ..., \"subnode\": ...}]}")
        return _json({"values": await hub.read(request.path_params["drive"], items)})

    async def read_one(request: Request) -> Response:
        vals = await hub.read(request.path_params["drive"],
                              [{"id": request.path_params["register"],
                                "subnode": _int_param(request, "subnode")}])
        if not vals:
            raise ApiError(422, f"register '{request.path_params['register']}' is not readable",
                           "AccessError")
        v = vals[0]
        if "error" in v:
            return _json({"error": v["error"]}, 422)
        return _json(v)

    async def write(request: Request) -> Response:
        body = await _body(request)
        if "value" not in body:
            raise ApiError(400, "expected {\"id\": ..., \"subnode\": ..., \"value\": ...}")
        return _json(await hub.write(request.path_params["drive"], body.get("id"),
                                     body.get("subnode"), body["value"]))

    async def axis_get(request: Request) -> Response:
        return _json(await hub.axis_state(request.path_params["drive"],
                                          request.path_params["axis"]))

    async def axis_post(request: Request) -> Response:
        body = await _body(request)
        sid, n = request.path_params["drive"], request.path_params["axis"]
        await hub.axis_action(sid, n, request.path_params["action"], body)
        return _json(await hub.axis_state(sid, n))

    async def errors(request: Request) -> Response:
        return _json({"errors": await hub.errors(request.path_params["drive"])})

    async def config(request: Request) -> Response:
        body = await _body(request)
        return _json(await hub.config(request.path_params["drive"], request.path_params["op"],
                                      body))

    async def scope_get(request: Request) -> Response:
        return _json(await hub.scope_info(request.path_params["drive"]))

    async def scope_post(request: Request) -> Response:
        body = await _body(request)
        job = hub.scope_request(request.path_params["drive"], body)
        run = asyncio.ensure_future(hub.scope(job))
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            await asyncio.wait({run, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not run.done():
            # The tab closed (or the page aborted): nobody waits for this capture.
            job.cancel("its client went away")
            with contextlib.suppress(Exception):
                await run
            return Response(status_code=499)
        return _json(run.result())

    async def scope_delete(request: Request) -> Response:
        return _json(hub.cancel_scope(request.path_params["drive"]))

    async def capture_get(request: Request) -> Response:
        slot, data = hub.capture_data(request.path_params["drive"],
                                      request.path_params["capture"])
        n = _int_param(request, "max_points")
        if n is not None and not 0 <= n <= SCOPE_MAX_POINTS:
            raise ApiError(400, f"max_points={n}: expected 0..{SCOPE_MAX_POINTS}")
        return _json(hub.capture_json(slot, data, SCOPE_POINTS if n is None else n))

    async def capture_csv(request: Request) -> Response:
        slot, data = hub.capture_data(request.path_params["drive"],
                                      request.path_params["capture"])
        text = await asyncio.get_running_loop().run_in_executor(None, hub.capture_csv, data)
        name = f"axlink-scope-{slot.id}-{data.id}.csv"
        return PlainTextResponse(text, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})

    async def not_found(request: Request) -> Response:
        raise ApiError(404, f"no API endpoint {request.method} {request.url.path} "
                            "(see docs/web-api.md)", "NotFound")

    # -- live data

    async def ws(websocket: WebSocket) -> None:
        if not authorised(websocket):
            await websocket.close(code=4401)
            return
        await websocket.accept()
        out: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        streams: Dict[int, Stream] = {}

        def on_change(msg: Dict[str, Any]) -> None:
            out.put_nowait(msg)

        unsubscribe = hub.subscribe(on_change)
        out.put_nowait(hub.table())

        async def sender() -> None:
            while True:
                await websocket.send_text(json.dumps(await out.get(), allow_nan=False))

        async def pusher() -> None:
            # 100 Hz on absolute deadlines: drain each stream's ring (never
            # blocks), decimated.
            loop = asyncio.get_running_loop()
            tick = loop.time()
            while True:
                tick = max(tick + PUSH_PERIOD, loop.time())
                await asyncio.sleep(tick - loop.time())
                for s in list(streams.values()):
                    if not s.slot.present:
                        streams.pop(s.id, None)
                        await hub.close_stream(s)
                        out.put_nowait({"type": "stream-closed", "stream": s.id,
                                        "reason": f"drive {s.slot.id} went away"})
                        continue
                    msg = hub.drain(s)
                    if msg is not None:
                        out.put_nowait(msg)

        async def handle(msg: Dict[str, Any]) -> None:
            op = msg.get("op")
            ref = msg.get("ref")
            try:
                if op == "subscribe":
                    period = msg.get("period", DEFAULT_PERIOD)
                    rate = msg.get("max_rate", DEFAULT_MAX_RATE)
                    if (isinstance(period, bool) or not isinstance(period, (int, float))
                            or not MIN_PERIOD <= period <= MAX_PERIOD):
                        raise ApiError(400, f"period {period!r}: expected {MIN_PERIOD}.."
                                            f"{MAX_PERIOD} seconds")
                    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
                        raise ApiError(400, f"max_rate {rate!r}: expected points per second")
                    s = await hub.open_stream(str(msg.get("drive")), msg.get("registers"),
                                              float(period), float(rate))
                    streams[s.id] = s
                    out.put_nowait({"type": "subscribed", "ref": ref, "stream": s.id,
                                    "drive": s.slot.id, "names": s.names,
                                    "registers": [{"id": i, "subnode": n} for i, n in s.regs],
                                    "period": s.poller.period, "stride": s.stride})
                elif op == "unsubscribe":
                    stream_id = msg.get("stream")
                    # Stream ids are integers: anything else names no stream.
                    gone = (streams.pop(stream_id, None) if isinstance(stream_id, int)
                            else None)
                    if gone is not None:
                        await hub.close_stream(gone)
                    out.put_nowait({"type": "unsubscribed", "ref": ref,
                                    "stream": stream_id})
                elif op == "ping":
                    out.put_nowait({"type": "pong", "ref": ref})
                else:
                    raise ApiError(400, f"unknown op {op!r} (subscribe, unsubscribe, ping)")
            except Exception as e:  # noqa: BLE001 - reported to the page
                _, body = error_body(e)
                out.put_nowait({"type": "error", "ref": ref, **body})

        tasks = [asyncio.create_task(sender()), asyncio.create_task(pusher())]
        try:
            while True:
                raw = await websocket.receive_text()
                try:
                    msg = json.loads(raw)
                except ValueError:
                    msg = None
                if not isinstance(msg, dict):
                    out.put_nowait({"type": "error", "error": {
                        "class": "InvalidRequest", "message": "expected a JSON object"}})
                    continue
                await handle(msg)
        except WebSocketDisconnect:
            pass
        finally:
            # A closed tab stops its streams.
            unsubscribe()
            for t in tasks:
                t.cancel()
            for s in list(streams.values()):
                await hub.close_stream(s)
            streams.clear()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    d = "/api/drives/{drive}"
    routes: List[Any] = [
        Route("/", guard(index)),
        Route("/api/info", guard(info)),
        Route("/api/drives", guard(drives)),
        Route(d, guard(drive)),
        Route(d + "/registers", guard(registers)),
        Route(d + "/registers/{register}", guard(read_one)),
        Route(d + "/read", guard(read), methods=["POST"]),
        Route(d + "/write", guard(write), methods=["POST"]),
        Route(d + "/axes/{axis:int}", guard(axis_get)),
        Route(d + "/axes/{axis:int}/{action}", guard(axis_post), methods=["POST"]),
        Route(d + "/errors", guard(errors)),
        Route(d + "/config/{op}", guard(config), methods=["POST"]),
        Route(d + "/scope", guard(scope_get), methods=["GET"]),
        Route(d + "/scope", guard(scope_post), methods=["POST"]),
        Route(d + "/scope", guard(scope_delete), methods=["DELETE"]),
        Route(d + "/scope/{capture:int}", guard(capture_get)),
        Route(d + "/scope/{capture:int}/csv", guard(capture_csv)),
        WebSocketRoute("/api/ws", ws),
        Route("/api/{rest:path}", guard(not_found), methods=["GET", "POST", "PUT", "DELETE"]),
        Mount("/static", GuardedStatic(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.hub = hub
    return app
