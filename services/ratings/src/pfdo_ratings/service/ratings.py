"""Use cases of the ratings service: one function per command or event, each one unit of work.

* an ``EnrolmentEnded`` event makes the enrolment ratable (upsert keyed by enrolment id, so
  duplicates and reordering neither add nor remove eligibility);
* a parent submits a rating once and may edit it for 30 days (rules in :mod:`..domain.rating`);
  the program and provider aggregates are updated incrementally in the same transaction, under
  row locks, and ``ProgramRatingChanged`` / ``ProviderRatingChanged`` go to the outbox;
* :func:`RatingsService.recompute` rebuilds every aggregate from the ratings table, reports any
  difference from the incremental values and refreshes the regional prior.

Scores: the shrunk score uses the *stored* regional prior (refreshed by recompute), so every
aggregate published between two refreshes is shrunk towards the same mean and rankings stay
comparable; a refresh that moves the prior republishes every aggregate.
"""

from __future__ import annotations

from pfdo_plumbing import clock
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events.navigator import EnrolmentEnded
from pfdo_contracts.events.ratings import ProgramRatingChanged, ProviderRatingChanged, ScaleMeans
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.logging import get_logger
from pfdo_plumbing.runtime import ServiceRuntime

from ..adapters import repository as repo
from ..domain import rating as rules
from ..domain.aggregate import AggregateState, AggregateView, Prior, present, recompute
from ..domain.errors import DomainError
from ..domain.rating import Rating, Scale, Scores

log = get_logger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return clock.now()


# domain scale names -> the field names of the event contract's ScaleMeans
EVENT_SCALE_NAMES: dict[Scale, str] = {
    Scale.RESULTS: "results",
    Scale.TEACHERS_AND_GROUP: "teachers",
    Scale.MATERIALS_AND_EQUIPMENT: "materials",
    Scale.OVERALL_SATISFACTION: "satisfaction",
}

def _in_command(item: dict[str, Any]) -> dict[str, Any]:
    """A per-field reason naming the command's field (the scales are under ``scores``)."""
    field_name = str(item.get("field", ""))
    if field_name != "comment" and "field" in item:
        return {**item, "field": f"scores.{field_name}"}
    return item


def refused(error: DomainError) -> DomainError:
    """A rule's refusal as the command's: its per-field reasons name the command's fields."""
    errors = error.details.get("errors")
    if not isinstance(errors, list):
        return DomainError(error.code, error.message, **error.details)
    return DomainError(error.code, error.message, **{**error.details, "errors": [_in_command(e) for e in errors]})


def scale_means(view: AggregateView) -> ScaleMeans:
    return ScaleMeans(**{EVENT_SCALE_NAMES[s]: float(view.means[s.value] or 0) for s in Scale})


def program_event(program_id: uuid.UUID, provider_id: uuid.UUID, state: AggregateState, revision: int, prior: Prior
                  ) -> ProgramRatingChanged:
    view = present(state, prior)
    return ProgramRatingChanged(
        program_id=program_id, provider_id=provider_id, count=state.count, means=scale_means(view),
        score=float(view.shrunk_score), prior_mean=float(prior.mean), prior_weight=float(prior.weight), revision=revision,
    )


def provider_event(provider_id: uuid.UUID, state: AggregateState, program_count: int, revision: int, prior: Prior
                   ) -> ProviderRatingChanged:
    view = present(state, prior)
    return ProviderRatingChanged(
        provider_id=provider_id, program_count=program_count, count=state.count, means=scale_means(view),
        score=float(view.shrunk_score), prior_mean=float(prior.mean), prior_weight=float(prior.weight), revision=revision,
    )


@dataclass
class RecomputeReport:
    programs: int = 0
    providers: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False
    prior_before: dict[str, Any] = field(default_factory=dict)
    prior_after: dict[str, Any] = field(default_factory=dict)
    republished: int = 0

    @property
    def consistent(self) -> bool:
        return not self.differences


def _figures(state: AggregateState, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"count": state.count, "sums": dict(zip((s.value for s in Scale), state.sums, strict=True)), **(extra or {})}


class RatingsService:
    def __init__(self, runtime: ServiceRuntime, *, prior_weight: int, clock: Clock = utc_now,
                 timezone: str = "Europe/Moscow") -> None:
        self.runtime = runtime
        self.prior_weight = prior_weight
        self.clock = clock
        self.zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must give aware (UTC) timestamps")
        return value.astimezone(UTC)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    # ------------------------------------------------------------------ events in
    async def enrolment_ended(self, session: AsyncSession, event: EnrolmentEnded, envelope: Envelope) -> None:
        """Make the enrolment ratable. Keyed by enrolment id: a duplicate or an older event
        changes nothing; a newer one only refreshes outcome and end date."""
        existing = await repo.get_enrolment(session, event.enrolment_id)
        if existing is not None:
            same = (
                existing.enrolment.parent_id == event.parent_id
                and existing.enrolment.program_id == str(event.program_id)
                and existing.enrolment.provider_id == str(event.provider_id)
            )
            if not same:
                log.warning("enrolment_ended_conflict", enrolment_id=str(event.enrolment_id),
                            detail="a later event names another parent, program or provider; the first one is kept")
        outcome = await repo.upsert_enrolment(
            session,
            {
                "enrolment_id": event.enrolment_id, "certificate_id": event.certificate_id, "parent_id": event.parent_id,
                "program_id": event.program_id, "provider_id": event.provider_id, "module_id": event.module_id,
                "outcome": event.outcome.value if hasattr(event.outcome, "value") else str(event.outcome),
                "end_date": event.end_date, "event_time": envelope.time,
            },
        )
        log.info("enrolment_ratable", enrolment_id=str(event.enrolment_id), change=outcome)

    # ------------------------------------------------------------------ commands
    async def submit(self, who: Principal, enrolment_id: uuid.UUID, scores: dict[str, Any], comment: str | None) -> Rating:
        now = self.now()
        try:
            parsed = Scores.from_mapping(scores)
            rules.normalise_comment(comment)
        except DomainError as exc:
            raise refused(exc) from exc
        async with self.runtime.db.transaction() as session:
            row = await repo.get_enrolment(session, enrolment_id, lock=True)  # serialises submits of one enrolment
            existing = await repo.get_rating(session, enrolment_id) if row is not None else None
            try:
                rating = rules.submit(
                    enrolment=row.enrolment if row else None, rater_id=who.sub, existing=existing,
                    scores=parsed, comment=comment, now=now,
                )
            except DomainError as exc:
                raise refused(exc) from exc
            await repo.insert_rating(session, rating)
            await self._apply_to_aggregates(session, rating, None, rating.scores, now)
            await audit.record(
                session, who, "ratings.rating.submit", "rating", rating.enrolment_id,
                details={"fields": [*rating.scores.as_dict(), *(["comment"] if rating.comment else [])],
                         "program_id": rating.program_id},
            )
        return rating

    async def edit(self, who: Principal, enrolment_id: uuid.UUID, scores: dict[str, Any], comment: str | None) -> Rating:
        now = self.now()
        try:
            parsed = Scores.from_mapping(scores)
            rules.normalise_comment(comment)
        except DomainError as exc:
            raise refused(exc) from exc
        async with self.runtime.db.transaction() as session:
            current = await repo.get_rating(session, enrolment_id, lock=True)
            if current is None or current.rater_id != who.sub:
                # someone else's rating is answered like a missing one: its existence is not revealed
                raise DomainError("rating_not_found", "You have no rating for this enrolment.")
            try:
                changed = rules.edit(current, rater_id=who.sub, scores=parsed, comment=comment, now=now)
            except DomainError as exc:
                raise refused(exc) from exc
            if changed is current:
                return current
            await repo.update_rating(session, changed, expected_version=current.version)
            if changed.scores != current.scores:
                await self._apply_to_aggregates(session, changed, current.scores, changed.scores, now)
            fields = [s for s, v in changed.scores.as_dict().items() if current.scores.as_dict()[s] != v]
            if changed.comment != current.comment:
                fields.append("comment")
            await audit.record(
                session, who, "ratings.rating.edit", "rating", changed.enrolment_id,
                details={"fields": fields, "version": changed.version, "program_id": changed.program_id},
            )
        return changed

    async def _apply_to_aggregates(
        self, session: AsyncSession, rating: Rating, old: Scores | None, new: Scores, now: datetime
    ) -> None:
        """Incremental update under row locks (program, then provider: one order everywhere)."""
        program_id, provider_id = uuid.UUID(rating.program_id), uuid.UUID(rating.provider_id)
        prior = (await repo.get_prior(session)).prior(self.prior_weight)
        program = await repo.lock_program_aggregate(session, program_id, provider_id)
        provider = await repo.lock_provider_aggregate(session, provider_id)
        program_state = program.state.apply(old, new)
        provider_state = provider.state.apply(old, new)
        program_count = provider.program_count + (1 if program.state.count == 0 and program_state.count > 0 else 0)
        await repo.save_program_aggregate(session, program_id, provider_id, program_state, program.revision + 1, now)
        await repo.save_provider_aggregate(session, provider_id, provider_state, program_count, provider.revision + 1, now)
        await self.runtime.outbox.put(
            session,
            program_event(program_id, provider_id, program_state, program.revision + 1, prior),
            provider_event(provider_id, provider_state, program_count, provider.revision + 1, prior),
        )

    # ------------------------------------------------------------------ queries
    async def my_ratings(self, who: Principal) -> list[tuple[repo.EnrolmentRow, Rating | None]]:
        async with self.runtime.db.transaction() as session:
            enrolments = await repo.enrolments_of_parent(session, who.sub)
            ratings = await repo.ratings_of_rater(session, who.sub)
        return [(e, ratings.get(e.enrolment.enrolment_id)) for e in enrolments]

    async def program_aggregate(self, program_id: uuid.UUID) -> tuple[repo.StoredAggregate | None, Prior]:
        async with self.runtime.db.transaction() as session:
            stored = await repo.get_program_aggregate(session, program_id)
            prior = (await repo.get_prior(session)).prior(self.prior_weight)
        return stored, prior

    async def provider_aggregate(self, provider_id: uuid.UUID) -> tuple[repo.StoredAggregate | None, Prior]:
        async with self.runtime.db.transaction() as session:
            stored = await repo.get_provider_aggregate(session, provider_id)
            prior = (await repo.get_prior(session)).prior(self.prior_weight)
        return stored, prior

    async def comments(self, program_id: uuid.UUID, *, limit: int, offset: int) -> tuple[int, list[Rating]]:
        async with self.runtime.db.transaction() as session:
            return await repo.comments_page(session, program_id, limit=limit, offset=offset)

    # ------------------------------------------------------------------ recompute
    async def recompute(self, who: Principal | None = None, *, apply: bool = True, refresh_prior: bool = True
                        ) -> RecomputeReport:
        """Rebuild every aggregate from the ratings table and compare with the incremental ones.

        With ``apply`` the rebuilt values are stored (and published) where they differ, and with
        ``refresh_prior`` the regional prior becomes the region's current mean; when it moves,
        every aggregate is republished with its new score. Without ``apply`` nothing changes.
        """
        now = self.now()
        report = RecomputeReport(applied=apply)
        async with self.runtime.db.transaction() as session:
            await repo.lock_ratings_for_recompute(session)
            stored_programs = await repo.all_program_aggregates(session, lock=apply)
            stored_providers = await repo.all_provider_aggregates(session, lock=apply)

            # from scratch: the domain's recompute over each program's ratings
            program_provider: dict[uuid.UUID, uuid.UUID] = {}
            scores: dict[uuid.UUID, list[Scores]] = {}
            async for row in repo.stream_ratings_by_program(session):
                program_provider[row.program_id] = row.provider_id
                scores.setdefault(row.program_id, []).append(
                    Scores(row.results, row.teachers_and_group, row.materials_and_equipment, row.overall_satisfaction)
                )
            programs = {p: recompute(s) for p, s in scores.items()}
            providers: dict[uuid.UUID, AggregateState] = {}
            program_counts: dict[uuid.UUID, int] = {}
            for program_id, state in programs.items():
                provider_id = program_provider[program_id]
                providers[provider_id] = providers.get(provider_id, AggregateState()).merge(state)
                program_counts[provider_id] = program_counts.get(provider_id, 0) + 1
            report.programs, report.providers = len(programs), len(providers)

            changed_programs: set[uuid.UUID] = set()
            for program_id in programs.keys() | stored_programs.keys():
                fresh = programs.get(program_id, AggregateState())
                old = stored_programs.get(program_id)
                old_state = old.state if old else AggregateState()
                if fresh != old_state or (old is not None and fresh.count and old.provider_id != program_provider[program_id]):
                    changed_programs.add(program_id)
                    report.differences.append({
                        "kind": "program", "id": str(program_id), "incremental": _figures(old_state),
                        "recomputed": _figures(fresh),
                    })
            changed_providers: set[uuid.UUID] = set()
            for provider_id in providers.keys() | stored_providers.keys():
                fresh = providers.get(provider_id, AggregateState())
                fresh_count = program_counts.get(provider_id, 0)
                old = stored_providers.get(provider_id)
                old_state, old_count = (old.state, old.program_count) if old else (AggregateState(), 0)
                if fresh != old_state or fresh_count != old_count:
                    changed_providers.add(provider_id)
                    report.differences.append({
                        "kind": "provider", "id": str(provider_id),
                        "incremental": _figures(old_state, {"program_count": old_count}),
                        "recomputed": _figures(fresh, {"program_count": fresh_count}),
                    })

            region = AggregateState()
            for state in programs.values():
                region = region.merge(state)
            prior_row = await repo.get_prior(session, lock=apply)
            new_prior_row = repo.PriorRow(region.count, sum(region.sums)) if refresh_prior else prior_row
            report.prior_before = {"mean": float(prior_row.mean()), "count": prior_row.count, "weight": self.prior_weight}
            report.prior_after = {"mean": float(new_prior_row.mean()), "count": new_prior_row.count,
                                  "weight": self.prior_weight}
            if not apply:
                return report

            prior_moved = new_prior_row.mean() != prior_row.mean()
            if new_prior_row != prior_row:
                await repo.save_prior(session, new_prior_row, now)
            prior = new_prior_row.prior(self.prior_weight)
            events: list[Any] = []
            for program_id in programs.keys() | stored_programs.keys():
                if program_id not in changed_programs and not prior_moved:
                    continue
                state = programs.get(program_id, AggregateState())
                old = stored_programs.get(program_id)
                revision = (old.revision if old else 0) + 1
                provider_id = program_provider.get(program_id) or (old.provider_id if old else None)
                assert provider_id is not None
                await repo.save_program_aggregate(session, program_id, provider_id, state, revision, now)
                if state.count:
                    events.append(program_event(program_id, provider_id, state, revision, prior))
            for provider_id in providers.keys() | stored_providers.keys():
                if provider_id not in changed_providers and not prior_moved:
                    continue
                state = providers.get(provider_id, AggregateState())
                count = program_counts.get(provider_id, 0)
                old = stored_providers.get(provider_id)
                revision = (old.revision if old else 0) + 1
                await repo.save_provider_aggregate(session, provider_id, state, count, revision, now)
                if state.count:
                    events.append(provider_event(provider_id, state, count, revision, prior))
            await self.runtime.outbox.put_many(session, events)
            report.republished = len(events)
            await audit.record(
                session, who, "ratings.admin.recompute", "aggregates", "all",
                details={"differences": len(report.differences), "republished": len(events),
                         "prior_moved": prior_moved},
            )
        if report.differences:
            log.error("ratings_aggregates_differed", differences=report.differences[:20], total=len(report.differences))
        return report
