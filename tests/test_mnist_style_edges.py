"""MNIST-style normalisation edges the main digit tests leave open: anti-aliased grey levels, lighter strokes kept as
part of the digit, and where "no visible strokes" begins."""
import numpy as np
import pytest

from generative.digits import to_mnist_style
from generative.image_io import ImageInputError


def test_a_sharp_black_and_white_drawing_is_anti_aliased_into_grey_levels_as_mnist_was():
    """LeCun et al. fitted each digit into its 20×20 box with anti-aliasing, so MNIST's strokes have grey edges; a
    model trained on them sees a drawing's hard edges shrunk the same way, not as jagged 0/1 pixels."""
    page = np.ones((210, 130), np.float32)
    page[20:190, 50:72] = 0.0  # a thick '1' whose sides do not fall on the shrunk grid
    page[170:190, 25:105] = 0.0
    digit = to_mnist_style(page)
    edges = ((digit > 0.05) & (digit < 0.95)).sum()
    assert edges >= 10, f"only {edges} grey edge pixels: the digit was shrunk without anti-aliasing"


def test_a_lighter_stroke_is_part_of_the_digit_and_is_kept():
    """A drawing's strokes are rarely equally dark: a bar a third as dark as the main stroke (a lighter pencil
    stroke) is still ink, inside the crop, and so in the 28×28 digit; only pixels under a fifth of the darkest ink
    fall outside."""
    page = np.ones((100, 100), np.float32)
    page[30:90, 45:55] = 0.0   # the main stroke: ink 1
    page[10:16, 15:85] = 0.65  # a lighter top bar: ink 0.35 of the darkest
    digit = to_mnist_style(page)
    cols = np.nonzero((digit > 0.1).any(axis=0))[0]
    assert cols.max() - cols.min() + 1 >= 15, "the lighter bar was cropped away"
    rows = np.nonzero((digit > 0.1).any(axis=1))[0]
    assert digit[rows.min():rows.min() + 3].max() > 0.2  # the bar sits at the top of the box


@pytest.mark.parametrize("contrast, readable", [(0.04, False), (0.045, False), (0.06, True)])
def test_strokes_count_as_visible_from_5_percent_of_the_grey_range(contrast, readable):
    page = np.full((60, 40), 0.5, np.float32)
    page[10:50, 18:22] = 0.5 + contrast
    if readable:
        assert to_mnist_style(page).max() == pytest.approx(1.0, abs=0.05)
    else:
        with pytest.raises(ImageInputError, match="no visible strokes"):
            to_mnist_style(page)
