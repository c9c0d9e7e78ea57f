"""Money is stored in 万元 and shown in 亿元 with one decimal and thousands separators."""

import pytest

from crm.i18n import yi


@pytest.mark.parametrize("wan,shown", [
    (10000, "1.0"), (12345, "1.2"), (12500, "1.3"), (125000, "12.5"), (123456789, "12,345.7"),
    (0, "0.0"), (None, ""),
])
def test_yi_rounds_half_up_to_one_decimal(wan, shown):
    assert yi(wan) == shown
