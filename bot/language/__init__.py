"""Which language a call is in: chosen at the start without a menu, switched by speech.

:mod:`bot.language.choose` picks the first language from the number called, the caller's
country and their last call; :mod:`bot.language.switch` notices a caller who asks for another
language or simply speaks one, using :mod:`bot.language.identify` on the words heard.
"""

from bot.language.choose import Chosen, choose_language
from bot.language.identify import LanguageIdentifier
from bot.language.switch import Switch, detect_switch

__all__ = ["Chosen", "LanguageIdentifier", "Switch", "choose_language", "detect_switch"]
