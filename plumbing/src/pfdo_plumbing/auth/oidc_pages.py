"""The development issuer's pages, in Russian: pick a demo person, an error, signed out.
Plain HTML with its own small style: nothing is loaded from anywhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from .oidc_accounts import ROLE_TITLES, DemoAccount
from .principal import Role

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24;line-height:1.4}
main{max-width:44rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
ul{list-style:none;padding:0;margin:0}li{margin:.25rem 0}
button{width:100%;text-align:left;padding:.6rem .8rem;border:1px solid #8a94a3;border-radius:.4rem;
background:#fff;color:#1b1f24;font:inherit;cursor:pointer}
button:hover,button:focus{border-color:#0b57d0;outline:2px solid #0b57d0;outline-offset:1px}
.note{color:#4a5361;font-size:.9rem}fieldset{border:1px solid #c4cad3;border-radius:.4rem;margin-top:1rem}
label{display:block;margin:.4rem 0 .1rem}input,select{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
.error{border-left:4px solid #b3261e;padding:.5rem 1rem;background:#fff}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _hidden(params: Mapping[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items())


def sign_in_page(accounts: Iterable[DemoAccount], params: Mapping[str, str]) -> str:
    """One form per role group: each person is a submit button; the authorization request
    travels in hidden fields and is checked again when the form comes back."""
    by_role: dict[Role, list[DemoAccount]] = {}
    for account in accounts:
        by_role.setdefault(account.role, []).append(account)
    hidden = _hidden(params)
    sections = []
    for role, title in ROLE_TITLES.items():
        people = by_role.get(role)
        if not people:
            continue
        items = "".join(
            f'<li><button type="submit" name="account" value="{escape(a.sub)}">{escape(a.name)}'
            f' <span class="note">({escape(a.sub)})</span></button></li>'
            for a in people
        )
        sections.append(f'<h2>{escape(title)}</h2><form method="post">{hidden}<ul>{items}</ul></form>')
    roles = "".join(f'<option value="{r.value}">{escape(t)}</option>' for r, t in ROLE_TITLES.items())
    other = (
        '<form method="post"><fieldset><legend>Другая учётная запись</legend>'
        f'{hidden}<input type="hidden" name="account" value="">'
        f'<label for="role">Роль</label><select id="role" name="role">{roles}</select>'
        '<label for="sub">Идентификатор (sub)</label><input id="sub" name="sub" required maxlength="200">'
        '<label for="municipality">Код муниципалитета (для муниципального оператора)</label>'
        '<input id="municipality" name="municipality" maxlength="20">'
        '<label for="provider_id">Идентификатор организации (для сотрудника организации)</label>'
        '<input id="provider_id" name="provider_id" maxlength="64">'
        '<p><button type="submit">Войти</button></p></fieldset></form>'
    )
    body = (
        "<h1>Вход в систему (тестовый поставщик учётных записей)</h1>"
        '<p class="note">Только для разработки: выберите, от чьего имени войти. В регионе здесь будет '
        "настоящий вход (Keycloak, Госуслуги).</p>" + "".join(sections) + other
    )
    return _page("Вход: выбор учётной записи", body)


def error_page(description: str) -> str:
    body = f'<h1>Вход невозможен</h1><p class="error">{escape(description)}</p>'
    return _page("Ошибка входа", body)


def signed_out_page() -> str:
    return _page("Вы вышли", "<h1>Вы вышли из системы</h1><p>Сеанс завершён.</p>")
