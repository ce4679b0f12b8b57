"""The portals' pages. Each page loads through the same services and scoping as the API: another
merchant's device or ticket is "not found", a staff page answers 403 to a merchant, and every form
carries the CSRF token."""

import math
import secrets
from datetime import timedelta
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from fleet.api.guard import page_policy
from fleet.api.params import Now, now_of
from fleet.api.ratelimit import client_address
from fleet.audit import service as audit
from fleet.auth.deps import (
    Principal,
    authenticate,
    revoke_tokens,
    scoped,
    visible_device,
    visible_events,
    visible_ticket,
)
from fleet.auth.throttle import TooManyLogins
from fleet.commands import service as commands
from fleet.commands.models import Command
from fleet.devices import presence
from fleet.devices import service as devices_service
from fleet.devices.models import Device, Merchant, UnregisteredSighting
from fleet.domain import paylater, tickets
from fleet.domain.calendar import DEFAULT_ZONE
from fleet.errors import Refusal
from fleet.ingest import downsample, quarantine
from fleet.ingest.models import TRANSACTION_TYPES, QuarantinedMessage, TelemetrySample
from fleet.payments import paylinks
from fleet.repairs import service as repairs
from fleet.repairs.models import Suggestion, SuggestionStatus, Ticket, TicketTransition
from fleet.web import charts, forms, i18n, refusals, session

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=FsPath(__file__).parent / "templates")
OFFLINE_HOURS = 2
DEVICE_ROWS = 50  # devices a page of the portal's list shows
LOW_BATTERY = 20
ALERT_ROWS = 100
QUARANTINE_ROWS = 50


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    lang = session.language(request)
    context.update(
        request=request,
        who=who,
        lang=lang,
        t=lambda key, **v: i18n.text(lang, key, **v),
        w=lambda family, value: i18n.word(lang, family, value),
        rupiah=i18n.rupiah,
        day=lambda d: i18n.day(d, lang),
        moment=lambda m: i18n.moment(m, lang, who.zone if who else DEFAULT_ZONE),
        csrf=session.csrf_token(request),
        present=lambda device: presence.is_online(device, now_of(request)),
        csp_nonce=secrets.token_urlsafe(16),
    )
    context["flash"] = session.read_flash(request)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    session.forget_flash(request, response)  # shown once
    session.remember_csrf(request, response)
    response.headers["Content-Security-Policy"] = page_policy(context["csp_nonce"])
    return response


def redirect(request: Request, url: str, message: str | None = None, ok: bool = False) -> RedirectResponse:
    """303 to `url`, with `message` (already in the reader's language) shown once on the page there."""
    response = RedirectResponse(url, status_code=303)
    if message:
        session.flash(request, response, message, ok)
    return response


async def _who(request: Request) -> Principal:
    who = await session.current(request)
    if who is None:
        raise PageError(401, "login")
    return who


async def _staff(request: Request) -> Principal:
    who = await _who(request)
    if not who.is_staff:
        raise PageError(403, "forbidden")
    return who


async def csrf_form(request: Request) -> Any:
    """The submitted form, once its CSRF token is checked (403 otherwise)."""
    form = await request.form()
    if not session.csrf_ok(request, str(form.get("csrf") or "")):
        raise PageError(403, "the form is stale or forged (CSRF); reload the page and try again")
    return form


def install(app: FastAPI) -> None:
    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        if exc.status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        who = await session.current(request)
        return render(request, "error.html", who, exc.status, message=exc.message)


# -- login, language --------------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, next: str = "/portal") -> HTMLResponse:
    return render(request, "login.html", None, next=next if next.startswith("/") else "/portal")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await csrf_form(request)
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    target = str(form.get("next") or "/portal")
    try:
        user = await authenticate(username, password, client_address(request), request.app.state.login_throttle)
    except TooManyLogins as e:
        page = render(request, "login.html", None, 429, next=target, error="too_many")
        page.headers["Retry-After"] = str(math.ceil(e.retry_after))
        return page
    if user is None:
        return render(request, "login.html", None, 401, next=target, error="wrong_login")
    response = RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/portal", 303)
    session.start(request, response, user.username, user.token_version)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await csrf_form(request)
    who = await session.current(request)
    if who is not None:
        await revoke_tokens(who.user_id)  # the cookie is dead even where it was copied
    response = RedirectResponse("/login", status_code=303)
    session.end(request, response)
    return response


@router.get("/lang/{lang}")
async def set_language(request: Request, lang: str, next: str = "/portal") -> Response:
    response = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/portal", 303)
    if lang in i18n.LANGS:
        session.set_language(request, response, lang)
    return response


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/portal", status_code=303)


@router.get("/portal")
async def portal(request: Request) -> Response:
    who = await _who(request)
    return RedirectResponse("/portal/dashboard" if who.is_staff else "/portal/devices", status_code=303)


# -- Biz Support's dashboard ------------------------------------------------------------------------------


@router.get("/portal/dashboard")
async def dashboard(request: Request, now: Now, hours: int = OFFLINE_HOURS) -> HTMLResponse:
    who = await _staff(request)
    # Counted over the whole fleet in one pass, from each device's latest heartbeat (kept on its row by
    # the ingest); each alert list shows its first ALERT_ROWS.
    cutoff = now - timedelta(hours=max(1, min(hours, 24 * 365)))
    filters = devices_service.dashboard_filters(now, cutoff, LOW_BATTERY)
    counts = await devices_service.counted(filters)
    open_suggestions = Suggestion.filter(status=SuggestionStatus.OPEN)
    overdue = Ticket.filter(repairs.late_q(repairs.office_day(now)))  # counted and listed in SQL, never all loaded
    return render(
        request,
        "dashboard.html",
        who,
        online=counts["online"],
        offline=counts["offline"],
        counts=counts,
        paper_out=await Device.filter(filters["paper_out"]).order_by("serial").limit(ALERT_ROWS),
        low_battery=await Device.filter(filters["low_battery"]).order_by("battery_pct", "serial").limit(ALERT_ROWS),
        long_offline=await Device.filter(filters["long_offline"]).order_by("last_seen", "serial").limit(ALERT_ROWS),
        hours=hours,
        sightings=await UnregisteredSighting.all().order_by("-last_seen").limit(20),
        suggestions=await open_suggestions.select_related("device").order_by("-id").limit(ALERT_ROWS),
        overdue=await overdue.select_related("device").order_by("due_latest", "id").limit(ALERT_ROWS),
        counts_more={"suggestions": await open_suggestions.count(), "overdue": await overdue.count()},
        quarantined=await QuarantinedMessage.all().count(),
    )


@router.post("/portal/suggestions/{suggestion_id}/accept")
async def accept_suggestion(request: Request, now: Now, suggestion_id: int) -> Response:
    who = await _staff(request)
    await csrf_form(request)
    try:
        row = await repairs.accept_suggestion(suggestion_id, who.username, now)
    except Refusal as e:
        raise PageError(refusals.status(e), refusals.words(e)) from None
    return RedirectResponse(f"/portal/tickets/{row.id}", status_code=303)


# -- devices --------------------------------------------------------------------------------------------


@router.get("/portal/devices")
async def devices_page(
    request: Request, now: Now, q: str = "", online: str = "", merchant: str = "", after: str = ""
) -> HTMLResponse:
    """The devices a page of DEVICE_ROWS at a time (by serial, keyset: `after` is the page's cursor),
    with how many there are in all; the filters carry over to the next page."""
    who = await _who(request)
    query = await devices_service.listed(
        who,
        now,
        merchant_id=int(merchant) if merchant.isdigit() and who.is_staff and len(merchant) < 10 else None,
        online={"1": True, "0": False}.get(online),
        q=q[:32],
    )
    try:
        page = await devices_service.page_of(query.select_related("merchant"), limit=DEVICE_ROWS, after=after[:300])
    except Refusal as e:
        raise PageError(refusals.status(e), refusals.words(e)) from None
    today = repairs.office_day(now)
    listing = [(d, repairs.warranty_of(d, today), repairs.rental_of(d, today)) for d in page.items]
    filters = {"q": q, "online": online, "merchant": merchant}
    next_url = "/portal/devices?" + urlencode({**filters, "after": page.next}) if page.next else None
    merchants = await Merchant.all().order_by("name") if who.is_staff else []
    own = await Merchant.get_or_none(id=who.merchant_id) if who.merchant_id else None
    return render(
        request,
        "devices.html",
        who,
        rows=listing,
        total=page.total,
        estimated=page.estimated,
        next_url=next_url,
        first_url="/portal/devices?" + urlencode(filters) if after else None,
        q=q,
        online=online,
        merchant=merchant,
        merchants=merchants,
        own=own,
        auto_cancel=(paylater.AUTO_CANCEL_LEAST, paylater.AUTO_CANCEL_MOST),
    )


@router.post("/portal/settings")
async def merchant_settings(request: Request, now: Now) -> Response:
    """The merchant's own settings, from its devices page: the auto-cancel window PayLater follows (P4)."""
    who = await _who(request)
    form = await csrf_form(request)
    if who.merchant_id is None:
        raise PageError(403, "forbidden")
    raw = str(form.get("auto_cancel_minutes") or "").strip()[:8]
    lang = session.language(request)
    try:
        minutes = int(raw)
        paylater.auto_cancel(minutes)  # within the bounds, or ValueError
    except ValueError:
        bounds = i18n.text(lang, "auto_cancel_bounds", low=paylater.AUTO_CANCEL_LEAST, high=paylater.AUTO_CANCEL_MOST)
        return redirect(request, "/portal/devices#settings", bounds)
    merchant = await Merchant.get(id=who.merchant_id)
    await devices_service.change_settings(merchant, {"auto_cancel_minutes": minutes}, by=who.username, now=now)
    return redirect(request, "/portal/devices#settings", i18n.text(lang, "saved"), ok=True)


# The commands the device page offers as buttons: a merchant's own, and for staff the everyday ones (config
# and the clock stay with the API and the CLI).
STAFF_BUTTONS = frozenset({"ping", "reprint", "lock", "unlock"})
LOCKING = frozenset({"lock", "unlock"})


def _buttons(who: Principal) -> frozenset[str]:
    return STAFF_BUTTONS if who.is_staff else commands.MERCHANT_COMMANDS


async def _device_context(request: Request, who: Principal, device: Device) -> dict[str, Any]:
    now = now_of(request)
    # The last 7 days, or since the first sample when the device is newer: charts fill their width.
    week = now - timedelta(days=7)
    first = await TelemetrySample.filter(serial=device.serial, device_time__gte=week).order_by("device_time").first()
    since = first.device_time if first else week
    rows = (
        await TelemetrySample.filter(serial=device.serial, device_time__gte=since, device_time__lte=now)
        .order_by("device_time")
        .values("device_time", "battery_pct", "rssi_dbm", "mem_free", "printed_mm")
    )
    series = downsample.downsample(
        ((r.pop("device_time"), r) for r in rows),
        since,
        downsample.bucket_width(since, now + timedelta(seconds=1), 120),
    )
    names = (("battery_pct", "battery"), ("rssi_dbm", "signal"), ("mem_free", "heap"), ("printed_mm", "printed"))
    lang = session.language(request)
    plots = [charts.line_chart([(p["t"], p[k]) for p in series], i18n.text(lang, label)) for k, label in names]
    merchant = await Merchant.get_or_none(id=device.merchant_id) if device.merchant_id else None  # type: ignore[attr-defined]
    return {
        "device": device,
        "merchant": merchant,
        "warranty": repairs.warranty_of(device, await repairs.device_day(device, now)),
        "rental": repairs.rental_of(device, await repairs.device_day(device, now)),
        "charts": plots,
        "transactions": await visible_events(who, device.serial)
        .filter(type__in=TRANSACTION_TYPES)
        .order_by("-device_time", "-id")
        .limit(15),
        "events": await visible_events(who, device.serial).order_by("-device_time", "-id").limit(15),
        "commands": await Command.filter(device=device).order_by("-id").limit(10),
        "tickets": await Ticket.filter(device=device).order_by("-id").limit(10),
        "command_names": sorted(_buttons(who) - LOCKING),  # lock and unlock stand apart, one at a time
        "lock": await devices_service.sales_lock(device) if LOCKING & _buttons(who) else None,
    }


async def _device(request: Request, who: Principal, serial: str) -> Device:
    try:
        return await visible_device(who, serial.upper()[:32])
    except Refusal as e:
        raise PageError(refusals.status(e), refusals.words(e)) from None


@router.get("/portal/devices/{serial}")
async def device_page(request: Request, serial: str) -> HTMLResponse:
    who = await _who(request)
    device = await _device(request, who, serial)
    return render(request, "device.html", who, **await _device_context(request, who, device))


@router.get("/portal/devices/{serial}/commands")
async def device_commands_fragment(request: Request, serial: str) -> HTMLResponse:
    """The command list alone: the device page refreshes it while a command is on its way."""
    who = await _who(request)
    device = await _device(request, who, serial)
    rows = await Command.filter(device=device).order_by("-id").limit(10)
    return render(request, "_commands.html", who, commands=rows, device=device)


@router.post("/portal/devices/{serial}/commands")
async def send_command(request: Request, now: Now, serial: str) -> Response:
    who = await _who(request)
    device = await _device(request, who, serial)
    form = await csrf_form(request)
    name = str(form.get("name") or "")
    if name not in _buttons(who):
        raise PageError(403, "forbidden")
    args: dict[str, Any] = {}
    if name == "reprint":
        args["receipt"] = str(form.get("receipt") or "").strip()
    elif name == "lock":  # stops the shop's sales: asked for twice, with the reason the cashier will read
        if form.get("confirm") != "yes":
            return redirect(
                request, f"/portal/devices/{device.serial}", i18n.text(session.language(request), "lock_needs_confirm")
            )
        args["reason"] = str(form.get("reason") or "").strip()[:60] or "locked by Biz Support"
    try:
        await commands.enqueue(device, name, args=args, requested_by=who.username, now=now)
    except Refusal as e:
        return redirect(request, f"/portal/devices/{device.serial}", refusals.words(e))
    return RedirectResponse(f"/portal/devices/{device.serial}#commands", status_code=303)


@router.post("/portal/devices/{serial}/tickets")
async def open_ticket(request: Request, now: Now, serial: str) -> Response:
    who = await _who(request)
    device = await _device(request, who, serial)
    form = await csrf_form(request)
    problem = str(form.get("problem") or "").strip()[:500]
    if len(problem) < 3:
        return redirect(
            request, f"/portal/devices/{device.serial}", i18n.text(session.language(request), "problem_too_short")
        )
    row = await repairs.open_ticket(device, problem=problem, opened_by=who.username, now=now)
    return RedirectResponse(f"/portal/tickets/{row.id}", status_code=303)


@router.post("/portal/devices/{serial}/orders/{receipt}/paylinks")
async def send_paylink(request: Request, now: Now, serial: str, receipt: str) -> Response:
    """P1-P2 from the portal: an invoice for an order's outstanding amount, by email and/or SMS (+62)."""
    who = await _who(request)
    device = await _device(request, who, serial)
    form = await csrf_form(request)
    methods = [m for m in paylinks.METHODS if form.get(f"method_{m}")]
    email = str(form.get("email") or "").strip() or None
    phone = str(form.get("phone") or "").strip().replace(" ", "") or None
    acquirer = request.app.state.acquirer
    back = f"/portal/devices/{device.serial}#transactions"
    if acquirer is None:
        return redirect(request, back, "payments are not enabled on this service")
    try:
        await paylinks.create(
            acquirer, device, receipt=receipt[:24], email=email, phone=phone, methods=methods, who=who.username, now=now
        )
    except Refusal as e:
        return redirect(request, back, refusals.words(e))
    return redirect(request, back, i18n.text(session.language(request), "paylink_sent"), ok=True)


# -- repair tickets -------------------------------------------------------------------------------------


@router.get("/portal/tickets")
async def tickets_page(request: Request, now: Now, state: str = "") -> HTMLResponse:
    who = await _who(request)
    query = scoped(Ticket.all().select_related("device"), who)
    if state in tickets.State.__members__.values():
        query = query.filter(state=state)
    today = repairs.office_day(now)
    rows = [
        (r, tickets.sla_overdue(repairs.to_domain(r, r.device), today))
        for r in await query.order_by("due_latest", "id").limit(300)
    ]
    return render(request, "tickets.html", who, rows=rows, state=state, states=list(tickets.State))


async def _ticket(who: Principal, ticket_id: int) -> Ticket:
    if not 0 < ticket_id < 2**31:
        raise PageError(404, "not_found")
    try:
        return await visible_ticket(who, ticket_id)
    except Refusal as e:
        raise PageError(refusals.status(e), refusals.words(e)) from None


@router.get("/portal/tickets/{ticket_id}")
async def ticket_page(request: Request, ticket_id: int) -> HTMLResponse:
    return await _ticket_view(request, ticket_id)


async def _ticket_view(request: Request, ticket_id: int, error: str = "", status: int = 200) -> HTMLResponse:
    """The ticket page; after a refused action, with why (`error`) and its status."""
    who = await _who(request)
    row = await _ticket(who, ticket_id)
    device = await Device.get(id=row.device_id)  # type: ignore[attr-defined]
    domain = repairs.to_domain(row, device)
    role = tickets.Role.BIZ_SUPPORT if who.is_staff else tickets.Role.MERCHANT
    return render(
        request,
        "ticket.html",
        who,
        status if 400 <= status < 500 else 200,
        ticket=row,
        device=device,
        costs=repairs.costs_of(domain),
        overdue=tickets.sla_overdue(domain, repairs.office_day(now_of(request))),
        actions=tickets.allowed(domain, role),
        fields=forms.FIELDS,
        choices=forms.CHOICES,
        history=await TicketTransition.filter(ticket_id=row.id).order_by("id"),
        error=error,
    )


@router.post("/portal/tickets/{ticket_id}/actions")
async def ticket_action(request: Request, now: Now, ticket_id: int) -> Response:
    who = await _who(request)
    row = await _ticket(who, ticket_id)
    form = await csrf_form(request)
    action = str(form.get("action") or "")
    role = tickets.Role.BIZ_SUPPORT if who.is_staff else tickets.Role.MERCHANT
    version = form.get("version")
    try:
        await repairs.act(
            row,
            action=action,
            role=role,
            actor=who.username,
            now=now,
            data=forms.action_data(action, form),
            version=int(str(version)) if str(version or "").isdigit() else None,
        )
    except Refusal as e:
        return await _ticket_view(request, ticket_id, error=refusals.words(e), status=refusals.status(e))
    return RedirectResponse(f"/portal/tickets/{ticket_id}", status_code=303)


# -- the public warranty check --------------------------------------------------------------------------


# -- what the ingest could not store ----------------------------------------------------------------------


def _page_number(page: str) -> int:
    """A list's page from the query string: 1 to 100,000, and 1 for anything else."""
    return min(int(page), 100_000) if page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1


AUDIT_ROWS = 50
# The families of actions the audit page filters by (an action is "<family>.<what>").
AUDIT_FAMILIES = (
    "command", "ticket", "suggestion", "merchant", "device", "devices", "user", "refund", "fix_case", "alert",
    "notification",
)  # fmt: skip


@router.get("/portal/audit")
async def audit_page(
    request: Request, actor: str = "", action: str = "", target: str = "", page: str = "1"
) -> HTMLResponse:
    """The audit trail with its filters: everything for staff, a merchant's own entries for its users."""
    who = await _who(request)
    actor, target = actor.strip()[:80], target.strip()[:80]
    action = action if action in AUDIT_FAMILIES else ""
    number = _page_number(page)
    query = audit.listed(who, actor=actor or None, action=f"{action}." if action else None, target=target or None)
    total = await query.count()
    rows = await query.offset((number - 1) * AUDIT_ROWS).limit(AUDIT_ROWS)
    return render(
        request,
        "audit.html",
        who,
        rows=rows,
        total=total,
        actor=actor,
        action=action,
        target=target,
        families=AUDIT_FAMILIES,
        page=number,
        pages=max(1, -(-total // AUDIT_ROWS)),
    )


@router.get("/portal/quarantine")
async def quarantine_page(request: Request, serial: str = "", reason: str = "", page: str = "1") -> HTMLResponse:
    who = await _staff(request)
    serial = serial.strip().upper()[:32]
    reason = reason if reason in quarantine.REASONS else ""
    number = _page_number(page)
    total, rows = await quarantine.listing(
        serial or None, reason or None, QUARANTINE_ROWS, (number - 1) * QUARANTINE_ROWS
    )
    return render(
        request,
        "quarantine.html",
        who,
        rows=rows,
        total=total,
        serial=serial,
        reason=reason,
        reasons=quarantine.REASONS,
        page=number,
        pages=max(1, -(-total // QUARANTINE_ROWS)),
        preview=quarantine.preview,
    )


@router.get("/warranty")
async def warranty_page(request: Request) -> HTMLResponse:
    return render(request, "warranty.html", await session.current(request))


@router.post("/warranty")
async def warranty_check(request: Request, now: Now) -> HTMLResponse:
    form = await csrf_form(request)
    serial = str(form.get("serial") or "").strip().upper()[:32]
    invoice = str(form.get("invoice_number") or "").strip().upper()[:64]
    who = await session.current(request)
    state = request.app.state
    try:
        status = await repairs.public_check(
            state.public_limiter,
            state.counters,
            client=client_address(request),
            serial=serial,
            invoice=invoice,
            today=repairs.office_day(now),
        )
    except Refusal as e:
        return render(request, "warranty.html", who, refusals.status(e), serial=serial, error=refusals.words(e))
    return render(request, "warranty.html", who, serial=serial, result=status)
