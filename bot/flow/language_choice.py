"""How a line picks each call's language without a menu: the flow's ``language_choice`` section.

    language_choice:
      order: [called_number, caller_country, returning_caller]   # the default order
      numbers: {"+420228880000": cs, "+48223070000": pl}        # the number called → language
      countries: {CZ: cs, SK: cs, PL: pl, LV: lv, GB: en}       # the caller's country → language
      switch_by_speech: true                                    # "can we speak English?"

A caller is never asked to pick from a list. The first signal in ``order`` that names one of
the line's languages wins; none does: the flow's default language.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers

from bot.flow.model import SIGNALS, LanguageChoice
from bot.flow.yaml_lines import Map, Node, Reader, did_you_mean

_KEYS = ("order", "numbers", "countries", "switch_by_speech")
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

#: A check of one table key: the problem with it (or ``""``) and the key as it is looked up.
_Check = Callable[[str], tuple[str, str]]


def read_language_choice(reader: Reader, node: Node, languages: tuple[str, ...]) -> LanguageChoice:
    """The ``language_choice`` section; every problem is recorded with its line."""
    mapping = reader.mapping(node, "'language_choice'")
    if mapping is None:
        return LanguageChoice(where=node.where)
    reader.keys(mapping, _KEYS, "language_choice: ")
    switch = mapping.items.get("switch_by_speech")
    return LanguageChoice(
        order=_order(reader, mapping),
        numbers=_table(reader, mapping, "numbers", languages, _check_number),
        countries=_table(reader, mapping, "countries", languages, _check_region),
        switch_by_speech=_flag(reader, switch) if switch is not None else True,
        where=mapping.where,
    )


def _order(reader: Reader, mapping: Map) -> tuple[str, ...]:
    node = mapping.items.get("order")
    if node is None:
        return SIGNALS
    items = reader.sequence(node, "language_choice: 'order'")
    if items is not None and not items.items:
        reader.problem(
            node.where, "language_choice: 'order' is empty; leave it out for the default"
        )
    order: list[str] = []
    for item in items.items if items else ():
        signal = reader.text(item, "language_choice: a signal in 'order'")
        if signal is None:
            continue
        if signal not in SIGNALS:
            hint = did_you_mean(signal, SIGNALS)
            reader.problem(item.where, f"language_choice: unknown signal '{signal}'{hint}")
        elif signal in order:
            reader.problem(item.where, f"language_choice: '{signal}' is listed twice")
        else:
            order.append(signal)
    return tuple(order)


def _table(
    reader: Reader, mapping: Map, key: str, languages: tuple[str, ...], check: _Check
) -> dict[str, str]:
    node = mapping.items.get(key)
    table = reader.mapping(node, f"language_choice: '{key}'") if node is not None else None
    chosen: dict[str, str] = {}
    for name, value in table.items.items() if table else ():
        where = table.key_at[name] if table else mapping.where
        language = reader.text(value, f"language_choice: {key}: '{name}'")
        problem, name = check(name)
        if problem:
            reader.problem(where, f"language_choice: {key}: {problem}")
        elif language is not None and language not in languages:
            listed = ", ".join(languages)
            reader.problem(
                value.where,
                f"language_choice: {key}: '{name}' names language '{language}', "
                f"which the line does not speak (languages: {listed})",
            )
        elif language is not None:
            chosen[name] = language
    return chosen


def _check_number(number: str) -> tuple[str, str]:
    """A problem with a line's number (or ``""``), and the number in E.164 (``+420228880000``)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not number.startswith("+") or not phonenumbers.is_possible_number(parsed):
        problem = f"'{number}' is not a phone number in international form, like +420228880000"
        return problem, number
    return "", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _check_region(region: str) -> tuple[str, str]:
    """A problem with a country code (or ``""``): ISO 3166 two letters like ``CZ``."""
    if region in _REGIONS:
        return "", region
    hint = f" (did you mean '{region.upper()}'?)" if region.upper() in _REGIONS else ""
    return f"'{region}' is not a country code like CZ, PL or GB{hint}", region


def _flag(reader: Reader, node: Node) -> bool:
    value = getattr(node, "value", None)
    if isinstance(value, bool):
        return value
    reader.problem(node.where, "language_choice: 'switch_by_speech' should be true or false")
    return True
