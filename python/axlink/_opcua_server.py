# SPDX-License-Identifier: MIT
"""The OPC UA gateway's server (asyncua): see :mod:`axlink.opcua`."""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import ipaddress
import logging
import math
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from asyncua import Server, ua
from asyncua.common import manage_nodes
from asyncua.common.callback import CallbackType
from asyncua.crypto.permission_rules import USER_TYPES, PermissionRuleset, User, UserRole
from asyncua.server.user_managers import UserManager

from . import _opcua_model as model
from ._dictionary import Register
from ._discover import Monitor, MonitorEvent
from ._drive import Drive
from ._poll import MAX_CHANNELS, Poller
from .opcua import DEFAULT_ENDPOINT, NAMESPACE_URI, SAMPLING_FLOOR, password_ok

_log = logging.getLogger("axlink.opcua")


class _Users(UserManager):
    """Anonymous -> read-only; a listed user or a trusted certificate -> may
    write and call methods; anything else is refused."""

    def __init__(self, users: Mapping[str, str], trusted: Set[bytes]) -> None:
        self._users = dict(users)
        self._trusted = trusted

    def get_user(self, iserver: Any, username: Optional[str] = None,
                 password: Optional[str] = None, certificate: Any = None) -> Optional[User]:
        if username:
            stored = self._users.get(username)
            if stored is not None and password is not None and password_ok(stored, password):
                return User(role=UserRole.User, name=username)
            return None
        if certificate is not None and self._trusted:
            if _fingerprint(certificate) in self._trusted:
                return User(role=UserRole.User, name="certificate")
        return User(role=UserRole.Anonymous)


def _fingerprint(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    if hasattr(cert, "public_bytes"):
        der = cert.public_bytes(serialization.Encoding.DER)
    else:
        der = bytes(cert)
    return hashlib.sha256(der).digest()


def _load_trusted(folder: Optional[str]) -> Set[bytes]:
    if not folder:
        return set()
    from cryptography import x509

    out: Set[bytes] = set()
    for f in sorted(Path(folder).iterdir()):
        data = f.read_bytes()
        try:
            cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                    else x509.load_der_x509_certificate(data))
        except ValueError as e:
            raise ValueError(f"{f}: not an X.509 certificate ({e})") from None
        out.add(_fingerprint(cert))
    return out


class _Rules(PermissionRuleset):
    """Users may do what asyncua's users may; anonymous sessions the same
    less Write and Call (writes and methods change drives and move axes)."""

    def __init__(self) -> None:
        user = {ua.NodeId(t) for t in USER_TYPES}
        anonymous = user - {ua.NodeId(ua.ObjectIds.WriteRequest_Encoding_DefaultBinary),
                            ua.NodeId(ua.ObjectIds.CallRequest_Encoding_DefaultBinary)}
        self._allowed = {UserRole.Admin: user, UserRole.User: user, UserRole.Anonymous: anonymous}

    def check_validity(self, user: Any, action_type_id: Any, body: Any) -> bool:
        return action_type_id in self._allowed.get(user.role, set())


def _may_change(user: Any) -> bool:
    return user is not None and getattr(user, "role", None) in (UserRole.User, UserRole.Admin)


# ------------------------------------------------------------ drives


@dataclass
class _Channel:
    """A variable fed from the drive: a register, or a computed value."""

    node: ua.NodeId
    vtype: ua.VariantType
    reg: Optional[Register] = None
    compute: Optional[Callable[[], Any]] = None


@dataclass
class _DriveEntry:
    uri: str
    key: str
    drive: Drive
    node: ua.NodeId
    pool: concurrent.futures.ThreadPoolExecutor
    channels: Dict[ua.NodeId, _Channel] = field(default_factory=dict)
    wanted: Dict[ua.NodeId, float] = field(default_factory=dict)
    feed: Optional["_Feed"] = None


class _Feed:
    """Samples one drive's monitored variables on a thread of its own: its
    registers through axlink pollers (16 channels each) at the fastest
    interval asked for, computed and text values by direct reads, each
    variable pushed at its own interval."""

    def __init__(self, gw: "Gateway", entry: _DriveEntry, wanted: Dict[ua.NodeId, float]) -> None:
        self._gw = gw
        self._entry = entry
        self._wanted = dict(wanted)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"axlink-opcua-{entry.key}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        period = max(SAMPLING_FLOOR, min(self._wanted.values()))
        polled: List[_Channel] = []
        direct: List[_Channel] = []
        for node in self._wanted:
            ch = self._entry.channels[node]
            if ch.reg is not None and ch.reg.dtype not in ("str", "bytes") and ch.reg.readable:
                polled.append(ch)
            else:
                direct.append(ch)
        pollers: List[Tuple[Poller, List[_Channel]]] = []
        last_push: Dict[ua.NodeId, float] = {}
        latest: Dict[ua.NodeId, Any] = {}
        try:
            for i in range(0, len(polled), MAX_CHANNELS):
                group = polled[i:i + MAX_CHANNELS]
                p = Poller(period)
                for ch in group:
                    assert ch.reg is not None
                    p.add(self._entry.drive, ch.reg)
                p.start()
                pollers.append((p, group))
            tick = min(max(period, 0.005), 0.05)
            while not self._stop.is_set():
                now = time.monotonic()
                for p, group in pollers:
                    samples = p.read()
                    if samples:
                        values = samples[-1].values
                        for ch, v in zip(group, values):
                            latest[ch.node] = v
                for ch in direct:
                    if now - last_push.get(ch.node, 0.0) >= self._wanted[ch.node]:
                        latest[ch.node] = self._gw._read_channel(ch)
                due = []
                for node, v in latest.items():
                    if now - last_push.get(node, 0.0) >= self._wanted[node] * 0.999:
                        due.append((self._entry.channels[node], v))
                        last_push[node] = now
                for ch, _ in due:
                    latest.pop(ch.node, None)
                if due:
                    self._gw._push_threadsafe(due)
                self._stop.wait(tick)
        except Exception:  # noqa: BLE001 - a feed that dies says why, the server goes on
            _log.exception("feed of %s stopped", self._entry.uri)
        finally:
            for p, _ in pollers:
                p.close()


# ----------------------------------------------------------- gateway


class Gateway:
    """The OPC UA server over the drives that @specs find (discovery specs
    as ``axlink list`` takes them; none: every bus).

    Use as an async context manager, or ``await start()`` / ``await stop()``;
    :meth:`serve` runs until cancelled. Drives appear and disappear with
    hot-plug (``discovery_period`` seconds between looks, a drive gone after
    ``misses`` missed looks).

    Args:
        endpoint: ``opc.tcp://HOST:PORT``; a host off the loopback needs
            @users or @certificate.
        users: name -> stored password (:func:`load_users`); those users may
            write and call methods.
        certificate, private_key: the server's certificate and key (PEM or
            DER): adds the Basic256Sha256 Sign and SignAndEncrypt policies.
        trusted_certs: folder of client certificates whose sessions may
            write and call methods.
        secure_only: offer no unencrypted endpoint (needs @certificate).
        timeout: request timeout of the drives, seconds.

    Thread safety: one event loop; drive I/O runs on one worker thread per
    drive, so a slow drive never blocks the server or the other drives.
    """

    def __init__(self, specs: Sequence[str] = (), endpoint: str = DEFAULT_ENDPOINT, *,
                 users: Optional[Mapping[str, str]] = None,
                 certificate: Optional[str] = None, private_key: Optional[str] = None,
                 trusted_certs: Optional[str] = None, secure_only: bool = False,
                 discovery_period: float = 1.0, misses: int = 2,
                 timeout: Optional[float] = None, name: str = "axlink") -> None:
        host = urllib.parse.urlparse(endpoint).hostname or ""
        if not endpoint.startswith("opc.tcp://") or not host:
            raise ValueError(f"endpoint {endpoint!r}: expected opc.tcp://HOST:PORT")
        if not _loopback(host) and not users and not certificate:
            raise ValueError(f"endpoint {endpoint!r} is reachable from other machines: give "
                             "--users FILE or --certificate/--private-key, so that writes and "
                             "motion need a user")
        if secure_only and not certificate:
            raise ValueError("secure_only needs a certificate and private key")
        if bool(certificate) != bool(private_key):
            raise ValueError("give both certificate and private_key")
        self.endpoint = endpoint
        self.spec = ",".join(specs) if specs else None
        self._users = dict(users or {})
        self._cert = certificate
        self._key = private_key
        self._trusted = _load_trusted(trusted_certs)
        self._secure_only = secure_only
        self._period = discovery_period
        self._misses = misses
        self._timeout = timeout
        self._name = name
        self.server = Server(user_manager=_Users(self._users, self._trusted))
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ns = 0
        self._drives_folder: Any = None
        self._drives: Dict[str, _DriveEntry] = {}
        self._by_node: Dict[ua.NodeId, Tuple[_DriveEntry, _Channel]] = {}
        self._events: "asyncio.Queue[MonitorEvent]" = asyncio.Queue()
        self._pushes: "asyncio.Queue[List[Tuple[_Channel, Any]]]" = asyncio.Queue()
        self._monitor: Optional[Monitor] = None
        self._tasks: List["asyncio.Task[None]"] = []
        self._item_interval: Dict[Tuple[int, int], float] = {}
        self._started = False
        self.notifications = 0  # values pushed by the feeds (for the bench)

    # -- lifetime

    async def start(self) -> "Gateway":
        """Open the endpoint and start discovery. Returns self."""
        self._loop = asyncio.get_running_loop()
        await self.server.init()
        self.server.set_endpoint(self.endpoint)
        self.server.set_server_name(f"{self._name} drives")
        policies = [] if self._secure_only else [ua.SecurityPolicyType.NoSecurity]
        if self._cert:
            await self.server.load_certificate(self._cert)
            await self.server.load_private_key(self._key)
            policies += [ua.SecurityPolicyType.Basic256Sha256_Sign,
                         ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
        self.server.set_security_policy(policies, permission_ruleset=_Rules())
        self._ns = await self.server.register_namespace(NAMESPACE_URI)
        self._drives_folder = await self.server.nodes.objects.add_folder(
            ua.NodeId("Drives", self._ns), ua.QualifiedName("Drives", self._ns))
        self._hook_services()
        await self.server.start()
        self._started = True
        self._tasks.append(asyncio.create_task(self._consume_events()))
        self._tasks.append(asyncio.create_task(self._reconcile_loop()))
        self._tasks.append(asyncio.create_task(self._pusher()))
        loop = self._loop

        def deliver(ev: MonitorEvent) -> None:
            loop.call_soon_threadsafe(self._events.put_nowait, ev)

        self._monitor = Monitor(self.spec, deliver, period=self._period, misses=self._misses)
        _log.info("serving drives on %s", self.endpoint)
        return self

    async def stop(self) -> None:
        """Stop discovery, the feeds and the server; close the drives."""
        if self._monitor is not None:
            mon, self._monitor = self._monitor, None
            await asyncio.to_thread(_stop_quietly, mon)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass
        self._tasks.clear()
        # Shutting down: the whole address space goes with the server, so
        # only the feeds stop and the drives close (all at once).
        entries, self._drives = list(self._drives.values()), {}
        self._by_node.clear()
        await asyncio.gather(*(asyncio.to_thread(_close_entry, e) for e in entries))
        if self._started:
            self._started = False
            await self.server.stop()

    async def __aenter__(self) -> "Gateway":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def serve(self) -> None:
        """Start, run until cancelled, stop."""
        async with self:
            await asyncio.Event().wait()

    @property
    def drives(self) -> Dict[str, Drive]:
        """The drives served now, by location URI."""
        return {uri: e.drive for uri, e in self._drives.items()}

    # -- hooks into asyncua's services

    def _hook_services(self) -> None:
        iserver = self.server.iserver
        iserver.subscribe_server_callback(CallbackType.PreRead, self._pre_read)
        iserver.subscribe_server_callback(CallbackType.ItemSubscriptionCreated, self._items_created)
        service = iserver.attribute_service
        plain_write = service.write

        async def write(params: ua.WriteParameters, user: User = User(role=UserRole.Admin)
                        ) -> List[ua.StatusCode]:
            return await self._write(params, user, plain_write)

        service.write = write  # the library's checks and the drive answer writes of registers

    async def _pre_read(self, event: Any, dispatcher: Any) -> None:
        if not event.is_external:
            return
        jobs = []
        for rv in event.request_params.NodesToRead:
            if rv.AttributeId != ua.AttributeIds.Value:
                continue
            hit = self._by_node.get(rv.NodeId)
            # A monitored variable is fresh from its feed (one sampling
            # interval old at most): reading the drive again would only add
            # traffic, and a value older than the feed's last one.
            if hit is not None and not (hit[0].feed is not None and rv.NodeId in hit[0].wanted):
                jobs.append(self._refresh(*hit))
        if jobs:
            await asyncio.gather(*jobs)

    async def _refresh(self, entry: _DriveEntry, ch: _Channel) -> None:
        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(entry.pool, self._read_channel, ch)
        await self._set(ch, value)

    def _read_channel(self, ch: _Channel) -> Any:
        """The channel's value now, or the exception that reading it raised."""
        entry = self._by_node[ch.node][0] if ch.node in self._by_node else None
        try:
            if ch.compute is not None:
                return ch.compute()
            assert ch.reg is not None and entry is not None
            if not ch.reg.readable:
                return _NotReadable()
            return entry.drive.read(ch.reg)
        except Exception as e:  # noqa: BLE001 - becomes the variable's status
            return e

    async def _set(self, ch: _Channel, value: Any) -> None:
        if ch.node not in self._by_node:
            return  # the drive went away meanwhile
        now = _utcnow()
        if isinstance(value, _NotReadable):
            dv = ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadNotReadable),
                              SourceTimestamp=now, ServerTimestamp=now)
        elif isinstance(value, BaseException):
            code, _ = model.status_for(value)
            dv = ua.DataValue(StatusCode=ua.StatusCode(code), SourceTimestamp=now,
                              ServerTimestamp=now)
        elif isinstance(value, float) and math.isnan(value) and ch.vtype != ua.VariantType.Float:
            dv = ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadCommunicationError),
                              SourceTimestamp=now, ServerTimestamp=now)
        else:
            dv = ua.DataValue(ua.Variant(_as_type(value, ch.vtype), ch.vtype),
                              SourceTimestamp=now, ServerTimestamp=now)
        await self.server.write_attribute_value(ch.node, dv)

    def _push_threadsafe(self, values: List[Tuple[_Channel, Any]]) -> None:
        """From a feed thread: queue @values for the pusher task, which sets
        them one after another, so a variable's values keep their order."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._pushes.put_nowait, values)
        except RuntimeError:  # loop shutting down
            pass

    async def _pusher(self) -> None:
        while True:
            values = await self._pushes.get()
            for ch, v in values:
                await self._set(ch, v)
            self.notifications += len(values)

    async def _write(self, params: ua.WriteParameters, user: Any,
                     plain_write: Callable[..., Any]) -> List[ua.StatusCode]:
        results: List[Optional[ua.StatusCode]] = [None] * len(params.NodesToWrite)
        rest = []
        for i, wv in enumerate(params.NodesToWrite):
            hit = self._by_node.get(wv.NodeId)
            if hit is None or wv.AttributeId != ua.AttributeIds.Value or hit[1].reg is None:
                rest.append((i, wv))
                continue
            results[i] = await self._write_register(hit[0], hit[1], wv, user)
        if rest:
            sub = ua.WriteParameters(NodesToWrite=[wv for _, wv in rest])
            for (i, _), st in zip(rest, await plain_write(sub, user)):
                results[i] = st
        return [r if r is not None else ua.StatusCode() for r in results]

    async def _write_register(self, entry: _DriveEntry, ch: _Channel, wv: ua.WriteValue,
                              user: Any) -> ua.StatusCode:
        reg = ch.reg
        assert reg is not None
        if not _may_change(user):
            return ua.StatusCode(ua.StatusCodes.BadUserAccessDenied)
        if not reg.writable:
            return ua.StatusCode(ua.StatusCodes.BadNotWritable)
        variant = wv.Value.Value if wv.Value is not None else None
        if variant is None:
            return ua.StatusCode(ua.StatusCodes.BadTypeMismatch)

        def work() -> Optional[BaseException]:
            assert reg is not None  # checked above; mypy does not carry it into closures
            try:
                entry.drive.write(reg, model.from_variant(reg, variant))
            except Exception as e:  # noqa: BLE001 - becomes the status code
                return e
            return None

        loop = asyncio.get_running_loop()
        err = await loop.run_in_executor(entry.pool, work)
        if err is not None:
            code, name = model.status_for(err)
            _log.info("write of %s on %s refused (%s): %s", reg.id, entry.uri, name, err)
            return ua.StatusCode(code)
        if reg.readable:
            await self._refresh(entry, ch)
        return ua.StatusCode()

    async def _items_created(self, event: Any, dispatcher: Any) -> None:
        params = event.request_params
        for item, res in zip(params.ItemsToCreate, event.response_params or []):
            if res.StatusCode.is_good():
                interval = item.RequestedParameters.SamplingInterval
                self._item_interval[(params.SubscriptionId, res.MonitoredItemId)] = interval

    # -- monitored items -> feeds

    def _monitored(self) -> Dict[ua.NodeId, float]:
        """Node -> the fastest interval (s) any live monitored item wants."""
        out: Dict[ua.NodeId, float] = {}
        subs = self.server.iserver.subscription_service.subscriptions
        live = set()
        for sub_id, isub in list(subs.items()):
            publishing = isub.data.RevisedPublishingInterval
            for item_id, mdata in list(isub.monitored_item_srv._monitored_items.items()):
                rv = mdata.read_value_id
                if rv is None or rv.AttributeId != ua.AttributeIds.Value:
                    continue
                live.add((sub_id, item_id))
                ms = self._item_interval.get((sub_id, item_id), -1.0)
                if ms is None or ms <= 0:
                    ms = publishing
                s = max(SAMPLING_FLOOR, ms / 1000.0)
                out[rv.NodeId] = min(out.get(rv.NodeId, s), s)
        for k in list(self._item_interval):
            if k not in live:
                del self._item_interval[k]
        return out

    async def _reconcile_loop(self) -> None:
        while True:
            try:
                wanted = self._monitored()
                for entry in list(self._drives.values()):
                    mine = {n: s for n, s in wanted.items() if n in entry.channels}
                    if mine != entry.wanted:
                        entry.wanted = mine
                        await self._restart_feed(entry)
            except Exception:  # noqa: BLE001 - keep serving
                _log.exception("monitored items")
            await asyncio.sleep(0.1)

    async def _restart_feed(self, entry: _DriveEntry) -> None:
        old, entry.feed = entry.feed, None
        if old is not None:
            await asyncio.to_thread(old.stop)
        if entry.wanted and entry.uri in self._drives:
            entry.feed = _Feed(self, entry, entry.wanted)

    # -- drives coming and going

    async def _consume_events(self) -> None:
        while True:
            ev = await self._events.get()
            try:
                if ev.kind == "added":
                    await self._add(ev)
                else:
                    await self._remove(ev.result.uri)
            except Exception:  # noqa: BLE001 - one bad drive must not stop the server
                _log.exception("drive %s (%s)", ev.result.uri, ev.kind)

    async def _add(self, ev: MonitorEvent) -> None:
        r = ev.result
        if r.uri in self._drives or not r.ok:
            return
        drive = await asyncio.to_thread(r.open, self._timeout)
        info = drive.info
        model_name = info.model or r.model
        serial = info.identity.serial if info.identity is not None else r.serial
        key = model.node_key(f"{model_name}_{serial}" if model_name and serial is not None
                             else r.uri)
        while any(e.key == key for e in self._drives.values()):
            key += "_"
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"axlink-{key}")
        entry = _DriveEntry(r.uri, key, drive, ua.NodeId(key, self._ns), pool)
        try:
            await self._build(entry, r, model.browse_name(model_name, serial, r.uri))
        except BaseException:
            pool.shutdown(wait=False)
            await asyncio.to_thread(drive.close)
            raise
        self._drives[r.uri] = entry
        for node, ch in entry.channels.items():
            self._by_node[node] = (entry, ch)
        _log.info("serving %s as %s", r.uri, key)

    async def _remove(self, uri: str) -> None:
        entry = self._drives.pop(uri, None)
        if entry is None:
            return
        for node in entry.channels:
            self._by_node.pop(node, None)
        if entry.feed is not None:
            await asyncio.to_thread(entry.feed.stop)
            entry.feed = None
        try:
            await self._delete_subtree(entry.node)
        except Exception:  # noqa: BLE001
            _log.exception("removing the nodes of %s", uri)
        entry.pool.shutdown(wait=True)
        await asyncio.to_thread(entry.drive.close)
        _log.info("%s is gone", uri)

    async def _delete_subtree(self, root: ua.NodeId) -> None:
        """Delete a drive's nodes. Every reference to them but the Drives
        folder's lies inside the subtree, so the nodes go without asyncua's
        search of the whole address space for references to each (which
        takes seconds for a drive of a thousand registers and would stall
        every client meanwhile). The folder's reference goes first, so that
        a browse never finds a drive whose nodes are half gone."""
        for reftype in (ua.ObjectIds.Organizes, ua.ObjectIds.HasComponent):
            try:
                await self._drives_folder.delete_reference(root, reftype, forward=True,
                                                           bidirectional=False)
                break
            except ua.UaError:
                continue
        nodes: List[Any] = []
        todo = [self.server.get_node(root)]
        while todo:
            n = todo.pop()
            nodes.append(n)
            todo.extend(await n.get_children())
        await manage_nodes.delete_nodes(self.server.iserver.isession, nodes,
                                        delete_target_references=False)

    async def _build(self, entry: _DriveEntry, r: Any, bname: str) -> None:
        ns = self._ns
        drive = entry.drive
        obj = await self._drives_folder.add_object(entry.node, ua.QualifiedName(bname, ns))
        info = drive.info
        ident = info.identity
        for name, value, vt in (
                ("Uri", r.uri, ua.VariantType.String),
                ("StableUri", r.stable_uri or "", ua.VariantType.String),
                ("Model", info.model or "", ua.VariantType.String),
                ("SerialNumber", ident.serial if ident and ident.serial is not None else 0,
                 ua.VariantType.UInt32),
                ("Firmware", (ident.sw_version if ident else None) or "", ua.VariantType.String),
                ("Match", info.match, ua.VariantType.String)):
            await obj.add_property(ua.NodeId(f"{entry.key}.{name}", ns),
                                   ua.QualifiedName(name, ns), ua.Variant(value, vt))
        await self._add_method(entry, obj, "Store", [], lambda: drive.store())
        await self._add_method(entry, obj, "Restore", [], lambda: drive.restore())

        items: List[ua.AddNodesItem] = []
        folders: Dict[int, ua.NodeId] = {}
        regs = list(drive.dictionary.registers) if drive.dictionary is not None else []
        subnodes = sorted({0, *range(1, info.axes + 1)})
        for sub in subnodes:
            fname = "Communication" if sub == 0 else f"Axis {sub}"
            folder = await obj.add_folder(ua.NodeId(f"{entry.key}.{_sub_key(sub)}", ns),
                                          ua.QualifiedName(fname, ns))
            folders[sub] = folder.nodeid
            if sub > 0:
                await self._axis_nodes(entry, folder, sub)
        for reg in regs:
            parent = folders.get(reg.subnode)
            if parent is None or not reg.reachable:
                continue
            node = ua.NodeId(f"{entry.key}.{_sub_key(reg.subnode)}.{reg.id}", ns)
            rn = model.register_nodes(reg, node, parent, ns)
            items.append(rn.variable)
            items.extend(rn.properties)
            entry.channels[node] = _Channel(node, model.variant_type(reg), reg=reg)
        results = await self.server.iserver.isession.add_nodes(items)
        for item, res in zip(items, results):
            if not res.StatusCode.is_good():
                raise RuntimeError(f"adding {item.BrowseName.Name}: {res.StatusCode}")

    async def _axis_nodes(self, entry: _DriveEntry, folder: Any, sub: int) -> None:
        ns = self._ns
        drive = entry.drive
        axis = drive.axes[sub]

        def fault_text() -> str:
            # The last error stays in the drive after a fault reset: it is
            # the active fault only while the axis is in fault.
            if axis.state not in ("fault", "fault_reaction_active"):
                return ""
            f = drive.fault(sub)
            return "" if f is None else f"{f.code:#010x} {f.text}".strip()

        for name, fn in (("State", lambda: axis.state), ("ActiveFault", fault_text)):
            node = ua.NodeId(f"{entry.key}.{_sub_key(sub)}.{name}", ns)
            await folder.add_variable(node, ua.QualifiedName(name, ns), "",
                                      varianttype=ua.VariantType.String)
            entry.channels[node] = _Channel(node, ua.VariantType.String, compute=fn)
        await self._add_method(entry, folder, "Enable", [], lambda: axis.enable(), sub)
        await self._add_method(entry, folder, "Disable", [], lambda: axis.disable(), sub)
        await self._add_method(entry, folder, "FaultReset", [], lambda: axis.fault_reset(), sub)
        await self._add_method(entry, folder, "Stop", [], lambda: axis.stop(), sub)

        def move(position: float, velocity: float) -> None:
            axis.move_to(float(position), velocity=float(velocity) or None, wait=False)

        await self._add_method(entry, folder, "MoveTo",
                               [("Position", ua.VariantType.Double),
                                ("Velocity", ua.VariantType.Double)], move, sub)

    async def _add_method(self, entry: _DriveEntry, parent: Any, name: str,
                          inputs: List[Tuple[str, ua.VariantType]], fn: Callable[..., None],
                          sub: Optional[int] = None) -> None:
        where = entry.key if sub is None else f"{entry.key}.{_sub_key(sub)}"

        async def call(parent_node: ua.NodeId, *args: ua.Variant) -> List[ua.Variant]:
            values = [a.Value for a in args]
            loop = asyncio.get_running_loop()

            def work() -> Optional[BaseException]:
                try:
                    fn(*values)
                except Exception as e:  # noqa: BLE001
                    return e
                return None

            err = await loop.run_in_executor(entry.pool, work)
            if err is not None:
                code, cname = model.status_for(err)
                _log.info("%s on %s failed (%s): %s", name, entry.uri, cname, err)
                raise ua.UaStatusCodeError(code)
            return []

        args = []
        for aname, vt in inputs:
            a = ua.Argument()
            a.Name = aname
            a.DataType = ua.NodeId(int(vt))
            a.ValueRank = ua.ValueRank.Scalar
            a.Description = ua.LocalizedText(aname)
            args.append(a)
        await parent.add_method(ua.NodeId(f"{where}.{name}", self._ns),
                                ua.QualifiedName(name, self._ns), call, args, [])


class _NotReadable:
    """A write-only register's read."""


def _sub_key(sub: int) -> str:
    return "core" if sub == 0 else f"axis{sub}"


def _as_type(value: Any, vt: ua.VariantType) -> Any:
    if vt in (ua.VariantType.Float, ua.VariantType.Double):
        return float(value)
    if vt == ua.VariantType.Boolean:
        return bool(value)
    if vt == ua.VariantType.String:
        return str(value)
    if vt == ua.VariantType.ByteString:
        return bytes(value) if not isinstance(value, str) else value.encode()
    return int(value)


def _utcnow() -> Any:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _close_entry(entry: _DriveEntry) -> None:
    if entry.feed is not None:
        entry.feed.stop()
        entry.feed = None
    entry.pool.shutdown(wait=True)
    entry.drive.close()


def _stop_quietly(mon: Monitor) -> None:
    try:
        mon.stop()
    except Exception:  # noqa: BLE001 - stopping anyway
        _log.exception("discovery")
