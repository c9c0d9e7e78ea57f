"""Project codes and unified social credit codes."""

from hypothesis import given, strategies as st

from crm.projects.codes import (
    check_credit_code, check_project_code, make_credit_code, make_project_code,
    mod11_10_check_digit, USCC_CHARSET,
)


def test_known_valid_credit_code():
    assert check_credit_code("91350100M000100Y43") is None


def test_credit_code_errors_are_named():
    assert check_credit_code("91350100M000100Y4") == "length"
    assert check_credit_code("91350100M000100Y4I") == "characters"  # I is not in the charset
    assert check_credit_code("91350100M000100Y44") == "check"


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17).map(lambda s: "91" + "320612" + s[8:]))
def test_generated_credit_codes_validate_and_any_changed_check_char_fails(first17):
    code = make_credit_code(first17)
    assert check_credit_code(code) is None
    wrong = USCC_CHARSET[(USCC_CHARSET.index(code[-1]) + 1) % 31]
    assert check_credit_code(code[:-1] + wrong) == "check"


def test_current_project_code_with_check_digit():
    code = make_project_code("2405", "320612", "89", "01", "12345")
    result = check_project_code(code)
    assert result.valid and result.fmt == "current" and result.check_digit_ok


def test_failed_check_digit_is_a_warning_not_an_error():
    code = make_project_code("2405", "320612", "89", "01", "12345")
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    result = check_project_code(bad)
    assert result.valid and result.check_digit_ok is False


def test_legacy_project_code():
    result = check_project_code("2017-320612-34-03-512345")
    assert result.valid and result.fmt == "legacy" and result.check_digit_ok is None


def test_malformed_project_codes():
    for code in ("", "2405-320612-89-01-1234", "2405_320612_89_01_123456", "2499-320612-89-01-123456"):
        assert not check_project_code(code).valid, code


@given(st.text(alphabet="0123456789", min_size=19, max_size=19))
def test_mod11_10_detects_every_single_digit_change(digits):
    check = mod11_10_check_digit(digits)
    for i in range(19):
        changed = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1:]
        assert mod11_10_check_digit(changed) != check
