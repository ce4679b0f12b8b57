"""Users: the one way they are made (the API, the CLI and the demo all come here)."""

from fleet.api.problems import Problem
from fleet.auth import passwords
from fleet.auth.models import Role, User
from fleet.devices.models import Merchant


async def create_user(username: str, password: str, role: Role, merchant_id: int | None) -> User:
    """The one way users are made (API and CLI): a merchant user is bound to exactly one merchant."""
    if role is Role.MERCHANT:
        if merchant_id is None or not await Merchant.exists(id=merchant_id):
            raise Problem(422, "a merchant user needs an existing merchant_id", type_="bad-user")
    elif merchant_id is not None:
        raise Problem(422, "only merchant users belong to a merchant", type_="bad-user")
    if await User.exists(username=username):
        raise Problem(409, f"user {username!r} exists", type_="conflict")
    return await User.create(
        username=username, password_hash=passwords.hash_password(password), role=role, merchant_id=merchant_id
    )
