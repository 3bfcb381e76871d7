"""Every bound a person's input must respect, in one place.

The domain models, the API's request models, the web form's min/max/maxlength attributes
and the help sentences all read these (tests/integration/web/test_form_bounds.py checks
that the form and the API agree).
"""

from __future__ import annotations

# 3D strength: the largest parallax, in % of the frame width; above 0, at most 10.
DIVERGENCE_ABOVE = 0.0  # exclusive
DIVERGENCE_MAX = 10.0
DIVERGENCE_STEP = 0.1  # the form's granularity: its lowest value is one step above 0

# Screen plane: 0 behind the screen, 1 in front; down to -1 for a parallel rig.
CONVERGENCE_MIN = -1.0
CONVERGENCE_MAX = 1.0
CONVERGENCE_STEP = 0.05

TITLE_MAX_LENGTH = 300  # characters of a job's title (longer ones are cut)
URL_MAX_LENGTH = 4096  # characters of a source link
FILENAME_MAX_LENGTH = 255  # characters of an uploaded file's name


def bound_text(value: float) -> str:
    """10.0 -> '10', 0.1 -> '0.1': how the sentences and the form's attributes write a
    bound."""
    return f"{value:g}"


DIVERGENCE_RANGE_TEXT = (
    f"above {bound_text(DIVERGENCE_ABOVE)} and at most {bound_text(DIVERGENCE_MAX)}"
)
CONVERGENCE_RANGE_TEXT = f"between {bound_text(CONVERGENCE_MIN)} and {bound_text(CONVERGENCE_MAX)}"
