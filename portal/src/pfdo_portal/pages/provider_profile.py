"""The provider's organisation (``/provider/profile``): registered once through the form (the
registry checks ИНН, ОГРН or ОГРНИП, КПП, БИК and the settlement account and starts moderation),
then shown with its details and moderation state, with the reason when refused or suspended."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..auth import PortalUser, csrf_protect
from ..gateway import ApiError
from ..gateway import organisation as api
from ..idempotency import new_key, submitted_key
from ..rendering import access_token, render
from . import provider_forms as forms
from .provider import provider_only

router = APIRouter(include_in_schema=False)

DONE = {"registered": "Организация зарегистрирована и отправлена на модерацию."}


async def own_organisation(request: Request, user: PortalUser) -> dict[str, Any] | None:
    """The signed-in person's organisation, None while it is not registered."""
    try:
        return await api.provider(request.app.state.api, access_token(request), str(user.provider_id))
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def _form_page(request: Request, values: dict[str, str], refusal: forms.Refusal, *,
                     status_code: int = 200) -> HTMLResponse:
    token = access_token(request)
    municipalities = await api.municipalities(request.app.state.api, token)
    labels = await request.app.state.labels.book(token)
    context = {"title": "Регистрация организации", "section": "profile", "nav_current": "provider",
               "values": values, "errors": refusal.fields, "general": refusal.general,
               "type_options": forms.options(labels, "provider_types", forms.PROVIDER_TYPES),
               "municipality_options": [(m["code"], m["name"]) for m in municipalities], "idempotency_key": new_key()}
    return render(request, "provider/register.html", context, labels=labels, status_code=status_code)


@router.get("/provider/profile", response_class=HTMLResponse)
async def profile(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    organisation = await own_organisation(request, user)
    if organisation is None:
        return await _form_page(request, {"provider_type": "private_org"}, forms.Refusal())
    labels = await request.app.state.labels.book(access_token(request))
    context = {"title": "Организация", "section": "profile", "nav_current": "provider", "organisation": organisation,
               "done": DONE.get(request.query_params.get("done", ""))}
    return render(request, "provider/profile.html", context, labels=labels)


@router.post("/provider/profile", dependencies=[Depends(csrf_protect)])
async def register(request: Request, user: PortalUser = Depends(provider_only)) -> Response:
    form = await request.form()
    values = forms.form_values(form, forms.PROVIDER_FIELDS)
    try:
        await api.register(request.app.state.api, access_token(request), forms.provider_body(form),
                           submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        return await _form_page(request, values, forms.refusal_of(exc, forms.PROVIDER_FIELDS),
                                status_code=exc.status)
    return RedirectResponse("/provider/profile?done=registered", status_code=303)
