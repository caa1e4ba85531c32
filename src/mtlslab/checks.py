"""Instant feedback for lab exercises: a pass or fail box with a hint.

A check cell in a lab looks like this::

    @check("Exercise 1: a client certificate", hint="Pass extended_key_usage=('clientAuth',).")
    def _():
        assert "clientAuth" in summarize(client.certificate).extended_key_usage, "clientAuth is missing"

The decorated function runs at once and its result is displayed. In JupyterLab the result is an ipywidgets box
with a button that reveals the hint; other front ends (nbval, a terminal, a static
viewer) get the same result as plain text or HTML.

An exercise that is not done yet (its variables are undefined, or its stub still
raises NotImplementedError) is reported as "not done yet" and never raises, so a
learner's lab runs from top to bottom. A wrong answer is reported as failed, and so is any other
exception from the check body (a wrong-typed answer often raises AttributeError or
TypeError): the failure names the exception type and message. A failure also
raises AssertionError when the environment variable ``MTLSLAB_CHECKS_RAISE`` is ``1``,
which the test suite sets so that a broken solution fails the tests.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import dataclass

PASSED, FAILED, NOT_DONE = "passed", "failed", "not done yet"

_SYMBOLS = {PASSED: "✔", FAILED: "✘", NOT_DONE: "…"}
_COLOURS = {PASSED: "#1b7f3b", FAILED: "#b3261e", NOT_DONE: "#8a6d00"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its title, status, the reason for a failure and a hint."""

    title: str
    status: str
    detail: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        """True when the exercise's answer passed every assertion."""
        return self.status == PASSED

    def __str__(self) -> str:
        text = f"{_SYMBOLS[self.status]} {self.title}: {self.status}"
        if self.detail:
            text += f"\n  {self.detail}"
        if self.hint and self.status != PASSED:
            text += f"\n  Hint: {self.hint}"
        return text

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.status]
        body = f"<b>{_SYMBOLS[self.status]} {html.escape(self.title)}: {self.status}</b>"
        if self.detail:
            body += f"<br>{html.escape(self.detail)}"
        return f'<div style="border-left: 4px solid {colour}; padding: 4px 8px;">{body}</div>'

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": str(self), "text/html": self._repr_html_()}
        widget = self._widget()
        if widget is not None:
            bundle.update(widget._repr_mimebundle_() or {})
            bundle["text/plain"] = str(self)
        return bundle

    def _widget(self):
        """Build the JupyterLab view, or return None where ipywidgets has no kernel to talk to."""
        try:
            import ipywidgets
            from IPython import get_ipython
        except ImportError:
            return None
        if get_ipython() is None or getattr(get_ipython(), "kernel", None) is None:
            return None

        box = ipywidgets.HTML(self._repr_html_())
        if self.status == PASSED or not self.hint:
            return box
        hint = ipywidgets.HTML(f"<i>Hint: {html.escape(self.hint)}</i>", layout=ipywidgets.Layout(display="none"))
        button = ipywidgets.Button(description="Show hint", button_style="info")

        def toggle(_button) -> None:
            hint.layout.display = None if hint.layout.display == "none" else "none"

        button.on_click(toggle)
        return ipywidgets.VBox([box, button, hint])


def check(title: str, hint: str = "") -> Callable[[Callable[[], None]], CheckResult]:
    """Run the decorated function now, display its :class:`CheckResult` and return it."""

    def run(assertions: Callable[[], None]) -> CheckResult:
        result = evaluate(title, assertions, hint)
        _show(result)
        if result.status == FAILED and os.environ.get("MTLSLAB_CHECKS_RAISE") == "1":
            raise AssertionError(str(result))
        return result

    return run


def _show(result: CheckResult) -> None:
    try:
        from IPython.display import display
    except ImportError:
        print(result)
        return
    display(result)


def evaluate(title: str, assertions: Callable[[], None], hint: str = "") -> CheckResult:
    """Run ``assertions`` and classify the outcome as passed, failed or not done yet."""
    try:
        assertions()
    except NotImplementedError:
        return CheckResult(title, NOT_DONE, "The exercise cell above still raises NotImplementedError.", hint)
    except NameError as error:
        return CheckResult(title, NOT_DONE, f"Run the exercise cell above first ({error}).", hint)
    except AssertionError as error:
        return CheckResult(title, FAILED, str(error) or "An assertion failed.", hint)
    except Exception as error:
        # A wrong-typed answer (a certificate where a credential was expected, a report where a string was)
        # makes the check body itself raise. That is a wrong answer too, so it fails instead of crashing the cell.
        detail = f"{type(error).__name__}: {error}; check the type of your answer."
        return CheckResult(title, FAILED, detail, hint)
    return CheckResult(title, PASSED)
