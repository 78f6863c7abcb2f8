from pfdo_plumbing.logging import REDACTED, redact


def test_personal_fields_and_snils_numbers_are_redacted() -> None:
    event = {
        "event": "application", "surname": "Иванов", "child": {"first_name": "Анна", "birth_date": "2015-01-01"},
        "note": "СНИЛС 112-233-445 95 given", "certificate_number": "4801000001",
    }
    out = redact(event)
    assert out["surname"] == REDACTED
    assert out["child"] == {"first_name": REDACTED, "birth_date": REDACTED}
    assert "112-233-445 95" not in out["note"]
    assert out["certificate_number"] == "4801000001"


async def test_nul_characters_are_refused_before_the_handler() -> None:
    import httpx
    from fastapi import FastAPI

    from pfdo_plumbing.http.nul_guard import NulGuardMiddleware

    app = FastAPI()
    seen: list[str] = []

    @app.post("/things")
    async def things(body: dict) -> dict:
        seen.append(body["name"])
        return body

    app.add_middleware(NulGuardMiddleware)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        bad = await client.post("/things", content=b'{"name": "a\\u0000b"}', headers={"content-type": "application/json"})
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_characters"
        escaped_backslash = await client.post("/things", content=b'{"name": "a\\\\u0000b"}',
                                              headers={"content-type": "application/json"})
        assert escaped_backslash.status_code == 200
        assert (await client.post("/things?x=%00", json={"name": "ok"})).status_code == 422
        assert (await client.post("/things", json={"name": "ok"})).json() == {"name": "ok"}
    assert seen == ["a\\u0000b", "ok"]


async def test_unpaired_surrogates_are_refused_and_pairs_pass() -> None:
    import httpx
    from fastapi import FastAPI

    from pfdo_plumbing.http.nul_guard import NulGuardMiddleware

    app = FastAPI()

    @app.post("/things")
    async def things(body: dict) -> dict:
        return {"n": len(body["name"])}

    app.add_middleware(NulGuardMiddleware)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        pair = await client.post("/things", content=b'{"name": "\\ud83d\\ude00"}', headers={"content-type": "application/json"})
        assert pair.status_code == 200 and pair.json() == {"n": 1}
        for lone in (b'{"name": "\\udb75x"}', b'{"name": "x\\udc92"}'):
            answer = await client.post("/things", content=lone, headers={"content-type": "application/json"})
            assert answer.status_code == 422, lone
