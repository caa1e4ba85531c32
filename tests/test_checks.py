"""Lab checks: passed, failed and not-done answers, as text and HTML."""

from __future__ import annotations

import pytest

from mtlslab.checks import FAILED, NOT_DONE, PASSED, check, evaluate


def passing():
    assert 1 + 1 == 2


def failing():
    assert "clientAuth" in ("serverAuth",), "the certificate lacks clientAuth"


def not_done():
    raise NotImplementedError


def undefined():
    return undefined_name  # noqa: F821


def test_passing_check():
    result = evaluate("Exercise", passing, hint="unused")
    assert result.status == PASSED
    assert str(result) == "✔ Exercise: passed"


def test_failing_check_shows_message_and_hint():
    result = evaluate("Exercise", failing, hint="Use issue_client().")
    assert result.status == FAILED
    assert "the certificate lacks clientAuth" in str(result)
    assert "Hint: Use issue_client()." in str(result)


@pytest.mark.parametrize("assertions", [not_done, undefined])
def test_unfinished_exercise_is_not_done(assertions):
    assert evaluate("Exercise", assertions).status == NOT_DONE


def test_check_raises_when_asked(monkeypatch):
    monkeypatch.setenv("MTLSLAB_CHECKS_RAISE", "1")
    with pytest.raises(AssertionError, match="lacks clientAuth"):
        check("Exercise")(failing)


def test_check_reports_without_raising_for_learners(monkeypatch, capsys):
    monkeypatch.delenv("MTLSLAB_CHECKS_RAISE", raising=False)
    result = check("Exercise")(failing)
    assert result.status == FAILED


def test_not_done_never_raises(monkeypatch):
    monkeypatch.setenv("MTLSLAB_CHECKS_RAISE", "1")
    assert check("Exercise")(not_done).status == NOT_DONE


def test_html_escapes_detail():
    def unsafe():
        raise AssertionError("<script>")

    assert "&lt;script&gt;" in evaluate("Exercise", unsafe)._repr_html_()


def test_mimebundle_has_plain_text_outside_kernel():
    bundle = evaluate("Exercise", passing)._repr_mimebundle_()
    assert bundle["text/plain"] == "✔ Exercise: passed"
    assert "application/vnd.jupyter.widget-view+json" not in bundle


def wrong_type():
    root = "a certificate, not a credential"
    assert root.certificate is not None  # type: ignore[attr-defined]


def wrong_operand():
    assert "clientAuth" in 42  # type: ignore[operator]


def test_wrong_type_answer_fails():
    result = evaluate("Exercise", wrong_type, hint="Pass the credential.")
    assert result.status == FAILED
    assert "AttributeError: " in result.detail
    assert "check the type of your answer" in result.detail
    assert "Hint: Pass the credential." in str(result)


def test_type_error_answer_fails():
    result = evaluate("Exercise", wrong_operand)
    assert result.status == FAILED
    assert result.detail.startswith("TypeError: ")


def test_wrong_type_raises_when_asked(monkeypatch):
    monkeypatch.setenv("MTLSLAB_CHECKS_RAISE", "1")
    with pytest.raises(AssertionError, match="AttributeError"):
        check("Exercise")(wrong_type)


def test_wrong_type_reports_for_learners(monkeypatch):
    monkeypatch.delenv("MTLSLAB_CHECKS_RAISE", raising=False)
    assert check("Exercise")(wrong_type).status == FAILED
