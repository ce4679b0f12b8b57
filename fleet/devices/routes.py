"""Devices, merchants, unregistered sightings and bulk import."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from tortoise.expressions import Q

from fleet import mosquitto_config
from fleet.api.params import After, Limit, MerchantId, Now, Offset, Serial
from fleet.api.problems import Problem
from fleet.auth.deps import (
    Caller,
    Staff,
    VisibleDevice,
    VisibleMerchant,
    scoped,
    visible_device,
    visible_events,
    visible_merchant,
)
from fleet.devices import importer, presence, service
from fleet.devices.models import Device, Merchant, UnregisteredSighting
from fleet.devices.schemas import (
    Credentials,
    DeviceDetail,
    DeviceOut,
    DevicePage,
    ImportReportOut,
    MerchantIn,
    MerchantOut,
    MerchantSettings,
    OnboardingOut,
    RowErrorOut,
    SightingOut,
)
from fleet.ingest.schemas import event_out

router = APIRouter(tags=["devices"])

MAX_IMPORT_BYTES = 8 * 1024 * 1024


def device_out(d: Device, now: datetime) -> dict[str, Any]:
    return {
        "serial": d.serial,
        "model": d.model,
        "device_type": d.device_type,
        "hw_id": d.hw_id,
        "firmware": d.firmware,
        "ownership": str(d.ownership),
        "invoice_number": d.invoice_number,
        "invoice_date": d.invoice_date,
        "rental_start": d.rental_start,
        "rental_end": d.rental_end,
        "service_plan": d.service_plan,
        "merchant_id": d.merchant_id,  # type: ignore[attr-defined]
        "online": presence.is_online(d, now),
        "last_seen": d.last_seen,
        "boot_reason": d.boot_reason,
        "capabilities": list(d.capabilities or []),
        "has_credentials": d.mqtt_password_hash is not None,
    }


@router.get("/devices", response_model=DevicePage)
async def list_devices(
    request: Request,
    now: Now,
    who: Caller,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    online: bool | None = None,
    model: Annotated[str | None, Query(max_length=32)] = None,
    firmware: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=32, description="the serial or the merchant's name holds this")] = None,
    limit: Limit = 50,
    after: After = None,
) -> DevicePage:
    """Devices by serial, a page at a time: `next` is the cursor of the page after (`?after=`)."""
    query = await service.listed(who, now, merchant_id=merchant_id, online=online, model=model, firmware=firmware, q=q)
    page = await service.page_of(query, limit=limit, after=after)
    items = [DeviceOut(**device_out(d, now)) for d in page.items]
    return DevicePage(total=page.total, total_estimated=page.estimated, next=page.next, items=items)


@router.get("/devices/{serial}", response_model=DeviceDetail)
async def device_detail(now: Now, who: Caller, device: VisibleDevice) -> DeviceDetail:
    events = await visible_events(who, device.serial).order_by("-seq").limit(20)
    return DeviceDetail(
        **device_out(device, now),
        telemetry=await service.latest_telemetry(device.serial),
        recent_events=[event_out(e) for e in events],
        open_commands=await service.open_commands(device),
    )


@router.post("/devices/{serial}/credentials", response_model=Credentials, status_code=201)
async def issue_credentials(now: Now, serial: Serial, who: Staff) -> Credentials:
    """New broker credentials for a terminal (username = serial). The old password stops working at the
    next `fleet mosquitto-config`; the new one is shown once, for provisioning into the terminal."""
    device = await visible_device(who, serial)
    return Credentials(
        serial=serial,
        username=serial,
        password=await mosquitto_config.issue_credentials(device, by=who.username, now=now),
    )


@router.post(
    "/devices/import",
    response_model=ImportReportOut,
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_devices(
    request: Request,
    now: Now,
    who: Staff,
    dry_run: Annotated[bool, Query(description="check only, register nothing")] = False,
) -> ImportReportOut:
    """Register devices from a CSV body (text/csv); the report names each refused row and why."""
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise Problem(413, f"at most {MAX_IMPORT_BYTES} bytes per import", type_="too-large")
    try:
        text = body.decode("utf-8-sig")
        report = await importer.import_devices(text, by=who.username, now=now, dry_run=dry_run)
    except UnicodeDecodeError as e:
        raise Problem(422, "the file is not UTF-8 text", type_="bad-file") from e
    except importer.BadFile as e:
        raise Problem(422, str(e), type_="bad-file") from e
    return ImportReportOut(
        rows=report.rows,
        created=len(report.created),
        merchants_created=report.merchants_created,
        errors=[RowErrorOut(**vars(e)) for e in report.errors],
    )


@router.get("/merchants", response_model=list[MerchantOut])
async def list_merchants(who: Caller, limit: Limit = 100, offset: Offset = 0) -> list[MerchantOut]:
    query = scoped(Merchant.all(), who, "id")
    return [MerchantOut.of(m) for m in await query.order_by("name").offset(offset).limit(limit)]


@router.post("/merchants", response_model=MerchantOut, status_code=201)
async def add_merchant(now: Now, body: MerchantIn, who: Staff) -> MerchantOut:
    return MerchantOut.of(await service.create_merchant(name=body.name, by=who.username, now=now))


@router.get("/merchants/{merchant_id}", response_model=MerchantOut)
async def merchant_detail(merchant: VisibleMerchant) -> MerchantOut:
    return MerchantOut.of(merchant)


@router.patch("/merchants/{merchant_id}", response_model=MerchantOut)
async def merchant_settings(now: Now, who: Caller, merchant: VisibleMerchant, body: MerchantSettings) -> MerchantOut:
    """The merchant's own settings (its user, or staff): the auto-cancel window PayLater follows (P4) and
    its time zone (WIB, WITA or WIT: the days of its rules). Fields left out stay as they are."""
    changes = body.model_dump(exclude_none=True)
    return MerchantOut.of(await service.change_settings(merchant, changes, by=who.username, now=now))


@router.get("/merchants/{merchant_id}/onboarding", response_model=OnboardingOut)
async def merchant_onboarding(now: Now, merchant: VisibleMerchant) -> OnboardingOut:
    """The merchant's onboarding (O1): its stage, its first payment's day and its activation deadline."""
    return OnboardingOut(**vars(service.onboarding_of(merchant, now)))


@router.post("/merchants/{merchant_id}/onboarding/finish", response_model=OnboardingOut)
async def finish_onboarding(request: Request, now: Now, merchant_id: MerchantId, who: Staff) -> OnboardingOut:
    """Biz Support ends the merchant's onboarding: its account is active from today (O1)."""
    merchant = await service.finish_onboarding(await visible_merchant(who, merchant_id), by=who.username, now=now)
    return OnboardingOut(**vars(service.onboarding_of(merchant, now)))


@router.get("/sightings", response_model=list[SightingOut])
async def list_sightings(
    who: Staff,
    q: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[SightingOut]:
    """Serials that published without being registered (W4): never devices, listed for Biz Support."""
    query = UnregisteredSighting.all()
    if q:
        query = query.filter(Q(serial__startswith=q.upper()))
    rows = await query.order_by("-last_seen").offset(offset).limit(limit)
    return [SightingOut.model_validate(s) for s in rows]
