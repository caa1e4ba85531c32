"""A timeline of a rotation: handshakes that succeeded and failed at each step."""

from __future__ import annotations

from mtlslab.lifecycle.fleet import StepResult


def plot_timeline(results: list[StepResult], title: str):
    """Draw one stacked bar per step, successes in green and failures in red; return the figure."""
    import matplotlib.pyplot as plt

    steps = [result.step for result in results]
    succeeded = [result.succeeded for result in results]
    failed = [result.failed for result in results]

    figure, axes = plt.subplots(figsize=(8, 0.5 * len(results) + 1.2))
    positions = list(range(len(results)))
    axes.barh(positions, succeeded, color="#2e8540", label="succeeded")
    axes.barh(positions, failed, left=succeeded, color="#c62828", label="failed")
    axes.set_yticks(positions, steps)
    axes.invert_yaxis()
    axes.set_xlabel("handshakes")
    axes.set_title(title)
    # Outside the axes, so that the legend never hides the failures at the end of the last bar.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    plt.close(figure)
    return figure
