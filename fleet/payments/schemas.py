"""What the payments API takes and answers (request and response models)."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleet.api.inputs import Money, PositiveMoney


class ChargeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    reference: str
    provider_ref: str | None
    serial: str
    receipt: str
    method: str
    amount: int
    status: str
    terminal_state: str
    rrn: str | None
    paid_at: datetime | None


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    source: str
    reason: str
    reference: str
    rrn: str
    paid_at: datetime
    amount: int
    serial: str | None
    merchant_id: int | None
    items: list[dict[str, Any]]
    status: str
    resolved_by: str | None
    resolution: dict[str, Any] | None


class OrderOut(BaseModel):
    serial: str
    receipt: str
    status: str
    total: int
    paid: int
    outstanding: int
    paylinks: list[dict[str, Any]]


class PayLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+\d{8,15}$")
    methods: list[str] = Field(min_length=1, max_length=3)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(pattern="^(replacement|no_payment)$")


class ReconciliationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    day: date
    settled: int
    matched: int
    unmatched: int
    unsettled: int
    report: dict[str, Any]


class PayLaterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=4, max_length=32, pattern=r"^[A-Z0-9-]+$")
    receipt: str = Field(min_length=1, max_length=24)
    amount: PositiveMoney
    phone: str = Field(pattern=r"^\+\d{8,15}$")


class OtpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\d{6}$")


class TenorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenor_months: int = Field(ge=1, le=60)


class PayLaterOut(BaseModel):
    id: str
    status: str
    outcome: str | None = None
    offer: dict[str, Any] | None
    tenor_months: int | None
    charge_ref: str | None


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=4, max_length=32, pattern=r"^[A-Z0-9-]+$")
    receipt: str = Field(min_length=1, max_length=24)
    kind: str = Field(pattern="^(refund|return|complaint)$")
    solution: str | None = Field(default=None, pattern="^(refund|replacement)$")
    shipping: Money = 0
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+\d{8,15}$")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=300)


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    serial: str
    receipt: str
    kind: str
    solution: str | None
    paid: int
    shipping: int
    refund_amount: int
    status: str
    made_at: datetime
    answer_due: date
    answered_by: str | None
    reason: str | None


class BalanceOut(BaseModel):
    merchant_id: int
    balance: int
