"""The public checkout page of a pay link (P3): the customer sees the shop, the receipt and the amount,
chooses one of the methods the cashier allowed, and goes on to the gateway's hosted checkout."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fleet.api.params import Now
from fleet.devices.models import Device, Merchant
from fleet.errors import Refusal
from fleet.payments import paylinks
from fleet.payments.models import PayLink
from fleet.web import refusals, session
from fleet.web.pages import PageError, csrf_form, render

router = APIRouter(include_in_schema=False)


async def _link(token: str) -> PayLink:
    link = await PayLink.get_or_none(token=token[:48]) if token else None
    if link is None:
        raise PageError(404, "not_found")
    return link


async def _page(request: Request, link: PayLink, status: int = 200, error: str = "") -> HTMLResponse:
    device = await Device.get_or_none(serial=link.serial)
    merchant = await Merchant.get_or_none(id=device.merchant_id) if device and device.merchant_id else None  # type: ignore[attr-defined]
    who = await session.current(request)
    return render(request, "pay.html", who, status, link=link, shop=merchant.name if merchant else "", error=error)


@router.get("/pay/{token}")
async def pay_page(request: Request, token: str) -> HTMLResponse:
    return await _page(request, await _link(token))


@router.post("/pay/{token}")
async def pay(request: Request, now: Now, token: str) -> Response:
    link = await _link(token)
    form = await csrf_form(request)
    acquirer = request.app.state.acquirer
    if acquirer is None:
        return await _page(request, link, 404, "payments are not enabled on this service")
    try:
        url = await paylinks.checkout(acquirer, link, str(form.get("method") or ""), now)
    except Refusal as e:
        return await _page(request, link, refusals.status(e), refusals.words(e))
    return RedirectResponse(url, status_code=303)
