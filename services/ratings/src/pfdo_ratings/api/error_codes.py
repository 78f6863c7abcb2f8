"""The ratings service's error codes with their HTTP status and their Russian and English texts.

Registered into the error catalogue when this module is imported, which the ``api`` package does
first, so every route (and ``problems(...)`` in its decorator) finds them. The scale codes are also
the per-field reasons of a rating's ``errors`` list.
"""

from __future__ import annotations

from typing import Any

from pfdo_plumbing.http.errors import ErrorCode, register

from ..domain.rating import COMMENT_MAX_LENGTH, EDIT_WINDOW, SCALE_MAX, SCALE_MIN, SCALE_STEP

SERVICE = "ratings"


def _until(details: dict[str, Any], language: str) -> dict[str, Any]:
    until = details.get("editable_until")
    if isinstance(until, str) and len(until) >= 10:
        details = {**details, "editable_until": f"{until[8:10]}.{until[5:7]}.{until[0:4]}"}
    return details


CODES: tuple[ErrorCode, ...] = (
    ErrorCode("not_eligible", 409, "Оценить можно только завершившееся обучение.",
              "Only an enrolment that has ended can be rated.", SERVICE),
    ErrorCode("not_your_enrolment", 403, "Это обучение не вашего ребёнка.", "The enrolment is not one of your child's.",
              SERVICE),
    ErrorCode("already_rated", 409, "Это обучение уже оценено: измените свою оценку.",
              "This enrolment is already rated: edit the rating instead.", SERVICE),
    ErrorCode("rating_final", 409,
              f"Оценку можно изменить только в течение {EDIT_WINDOW.days} дней[ (до {{editable_until}})].",
              f"A rating can be edited for {EDIT_WINDOW.days} days only[ (until {{editable_until}})].", SERVICE,
              prepare=_until),
    ErrorCode("rating_not_found", 404, "Вы не оценивали это обучение.", "You have no rating for this enrolment.",
              SERVICE),
    ErrorCode("scale_invalid", 422, "Оценка по шкале — целое число.", "A scale value is a whole number.", SERVICE),
    ErrorCode("scale_out_of_range", 422, f"Оценка по шкале — от {SCALE_MIN} до {SCALE_MAX}.",
              f"A scale value is within {SCALE_MIN}..{SCALE_MAX}.", SERVICE),
    ErrorCode("scale_not_step_of_10", 422, f"Оценка по шкале ставится с шагом {SCALE_STEP}.",
              f"A scale value is a multiple of {SCALE_STEP}.", SERVICE),
    ErrorCode("scale_missing", 422, "Поставьте оценку по каждой из четырёх шкал.", "Every one of the four scales is needed.",
              SERVICE),
    ErrorCode("unknown_scale", 422, "Такой шкалы нет.", "No such scale.", SERVICE),
    ErrorCode("comment_too_long", 422, f"Отзыв слишком длинный: не больше {COMMENT_MAX_LENGTH} символов.",
              f"The comment is too long: at most {COMMENT_MAX_LENGTH} characters.", SERVICE),
    ErrorCode("aggregate_underflow", 409, "Сводная оценка не может стать отрицательной.",
              "The aggregate rating would become negative.", SERVICE),
)

register(*CODES)
