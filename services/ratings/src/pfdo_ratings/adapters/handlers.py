"""Event handler registration: what the ratings service consumes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events.navigator import EnrolmentEnded
from pfdo_plumbing.runtime import ServiceRuntime

from ..service.ratings import RatingsService


def register_handlers(runtime: ServiceRuntime, service: RatingsService) -> None:
    @runtime.consumer.on(EnrolmentEnded)
    async def on_enrolment_ended(session: AsyncSession, event: EnrolmentEnded, envelope: Envelope) -> None:
        await service.enrolment_ended(session, event, envelope)
