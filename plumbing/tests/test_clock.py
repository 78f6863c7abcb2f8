import datetime as dt
import os

from pfdo_plumbing.clock import Clock


def test_without_an_offset_file_the_clock_is_the_wall_clock() -> None:
    clock = Clock(None)
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=1)


def test_an_offset_file_moves_the_business_calendar_and_is_reread_on_change(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "offset"
    path.write_text(str(30 * 86400))
    clock = Clock(str(path))
    assert clock.today("Europe/Moscow") == (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).astimezone(
        dt.timezone(dt.timedelta(hours=3))).date()
    tmp = tmp_path / "offset.tmp"
    tmp.write_text("-86400")
    os.replace(tmp, path)
    assert abs(clock.now() - (dt.datetime.now(dt.UTC) - dt.timedelta(days=1))) < dt.timedelta(seconds=1)
