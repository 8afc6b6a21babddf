"""Detectors and the vault: what is found, what is not, tokens per session, catastrophic patterns refused."""

from __future__ import annotations

import pytest

from engine.privacy import DetectorError, RestoreLimitError, TokenError, Vault, parse_detectors


def vault(spec: object = True) -> Vault:
    return Vault(parse_detectors(spec))


def test_every_built_in_detector_finds_its_kind() -> None:
    v = vault()
    text = ("mail ann.lee@example.co.uk, call +44 20 7946 0958 or (555) 123-4567, card 4111 1111 1111 1111, "
            "IBAN GB82 WEST 1234 5698 7654 32, key sk-proj-abcdefghijklmnopqrstuvwxyz12, Bearer abcdefghijklmnop1234")
    out = v.redact_text(text)
    for secret in ("ann.lee@example.co.uk", "7946", "123-4567", "4111", "GB82", "sk-proj", "abcdefghijklmnop1234"):
        assert secret not in out
    assert v.tag in out and out.count("[") == 7
    assert v.restore_text(out) == text


def test_checksums_keep_lookalikes() -> None:
    v = vault()
    text = "card 4111 1111 1111 1112, IBAN GB82 WEST 1234 5698 7654 33, date 2024-01-15, order 12345678"
    assert v.redact_text(text) == text


def test_the_same_value_gets_the_same_token_and_other_sessions_other_tokens() -> None:
    one, two = vault(), vault()
    first = one.redact({"to": "a@example.com", "cc": ["a@example.com", "b@example.com"]})
    assert first["to"] == first["cc"][0] != first["cc"][1]
    assert one.tag != two.tag
    assert two.redact_text("a@example.com") != first["to"]
    with pytest.raises(TokenError, match="not a token of this code session"):
        two.restore({"to": first["to"]})
    with pytest.raises(TokenError):
        one.restore_text(f"[EMAIL_9:{one.tag}]")  # a number it never gave


def test_user_patterns_are_labelled_by_name() -> None:
    v = vault(["email", {"name": "employee", "pattern": r"EMP-\d{6}"}])
    assert v.redact_text("EMP-123456 and x@y.io").startswith("[EMPLOYEE_1:")


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|a)*b", r"(\w+\s?)+!", r"(x*)*y"])
def test_a_catastrophic_pattern_is_refused_with_the_reason(pattern: str) -> None:
    with pytest.raises(DetectorError, match="backtrack"):
        parse_detectors([{"name": "bad", "pattern": pattern}])


@pytest.mark.parametrize(("spec", "message"), [
    (["nope"], "unknown detector"),
    ([{"name": "x", "pattern": "a*"}], "empty string"),
    ([{"name": "x", "pattern": "("}], "does not compile"),
    ([{"name": "email", "pattern": "x"}], "built in"),
    ([{"name": "x"}], "must be a non-empty string"),
    ("email", "true, false or a list"),
])
def test_bad_detector_specifications_are_refused(spec: object, message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        parse_detectors(spec)


@pytest.mark.parametrize("pattern", [r"\d+x", r"\w+@corp\.com", r".*secret"])
def test_an_unbounded_repeat_tried_at_every_position_is_refused_with_a_hint(pattern: str) -> None:
    # Each costs the window squared (seconds of GIL-holding CPU on a long string): bound the repeat.
    with pytest.raises(DetectorError, match=r"bound repeats"):
        parse_detectors([{"name": "costly", "pattern": pattern}])
    assert parse_detectors([{"name": "cheap", "pattern": pattern.replace("+", "{1,64}").replace("*", "{0,64}")}])


def test_a_linear_user_pattern_is_bounded_by_windows_on_a_long_subject() -> None:
    v = vault([{"name": "run", "pattern": r"\d{1,64}x"}])
    text = "1" * 200_000 + "x"
    out = v.redact_text(text)  # windows of 4096: bounded work, the match near the end still found
    assert out.endswith(f":{v.tag}]")


def test_hostile_structures_are_bounded() -> None:
    v = vault()
    loop: list[object] = []
    loop.append(loop)
    deep: list[object] = []
    node = deep
    for _ in range(100_000):
        child: list[object] = []
        node.append(child)
        node = child
    assert "not inspected" in str(v.redact(loop))
    assert "not inspected" in str(v.redact(deep))


def test_a_full_vault_still_hides_values() -> None:
    v = Vault(parse_detectors(["email"]), max_values=1)
    assert v.redact_text("a@example.com b@example.com") == f"[EMAIL_1:{v.tag}] [EMAIL_REDACTED]"


def test_tokens_put_back_are_bounded_per_call() -> None:
    v = vault()
    token = v.redact_text("Bearer " + "A" * 512).split()[-1]
    assert v.restore({"a": [token] * 3}) == {"a": ["A" * 512] * 3}
    with pytest.raises(RestoreLimitError, match="nothing was sent"):
        v.restore({"a": token * 20_000})  # over the token count: stops there, never builds 10 MB
    with pytest.raises(RestoreLimitError):
        v.restore({"a": [token] * 10, "b": token * 5}, max_growth=5_000)  # the growth of every string counts
    assert v.restore({"a": token * 9}, max_tokens=9) == {"a": "A" * 512 * 9}
