"""Phone numbers said aloud, as E.164.

Callers say a number digit by digit or in groups ("一三八 一二三四 五六七八", "幺三九…", "five five
five zero one…", "415 555 0199"); the recognizer writes them as digits or as number words. The
runs are joined here and given a country by their shape (`phonenumbers` checks what it can: the
555-01xx numbers used in examples are not "valid" to it, so the shape rules come first)."""

from __future__ import annotations

import phonenumbers

ZH_DIGITS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
             "五": "5", "六": "6", "七": "7", "拐": "7", "八": "8", "九": "9", "勾": "9"}
EN_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
             "six": "6", "seven": "7", "eight": "8", "nine": "9"}


def e164(digits: str, region: str) -> str | None:
    """'13812345678' (CN) -> '+8613812345678'; '5550101234' (US) -> '+15550101234'; else None."""
    if region == "CN":
        if len(digits) == 11 and digits[0] == "1":
            return "+86" + digits  # a mobile number
        if digits.startswith("86") and len(digits) == 13:
            return "+" + digits
        if digits.startswith("0") and 10 <= len(digits) <= 12:
            return "+86" + digits[1:]  # a landline with its area code (0931 …)
    if region == "US":
        if len(digits) == 10:
            return "+1" + digits
        if len(digits) == 11 and digits[0] == "1":
            return "+" + digits
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
