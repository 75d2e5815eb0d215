"""How long `portal.kernel.memo` keeps an answer no write has touched: `SECONDS`, from
`PORTAL_MEMO_SECONDS` (default 60), after which it is asked again."""

from __future__ import annotations

import pytest

from portal.kernel import memo


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, 60.0), ("10", 10.0), ("0", 0.0), ("2.5", 2.5), ("soon", 60.0), ("-1", 60.0)]
    + [("nan", 60.0), ("inf", 60.0), ("1e400", 60.0), ("\x00", 60.0)],
)
def test_the_window_comes_from_the_setting_and_a_bad_one_keeps_the_default(
    raw: str | None, seconds: float
) -> None:
    assert memo._seconds(raw) == seconds


def test_an_answer_is_kept_for_the_window_then_asked_again(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [1000.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(memo, "SECONDS", 60.0)
    asked: list[float] = []

    def compute() -> float:
        asked.append(clock[0])
        return clock[0]

    with app.app_context():
        memo.forget()
        assert memo.remembered(("window test",), compute) == 1000.0
        clock[0] += 59.5
        assert memo.remembered(("window test",), compute) == 1000.0  # kept
        clock[0] += 0.5
        assert memo.remembered(("window test",), compute) == 1060.0  # 60 s passed: asked again
        assert asked == [1000.0, 1060.0]
        memo.forget()
