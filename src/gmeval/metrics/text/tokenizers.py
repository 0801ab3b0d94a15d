"""Named tokenizers for the text metrics, and the per-language defaults.

Every text metric tokenizes, and the tokenizer changes the number, so each one here has a name
that goes into the metric's signature (STYLE.md, items 4 and 6).

* sacreBLEU tokenizers (``13a``, ``intl``, ``zh``, ``char``, ``none``, and ``ja-mecab`` /
  ``ko-mecab`` when their optional packages are installed) are used for BLEU, self-BLEU and,
  by default, for distinct-n and the repetition rates (tokens = sacreBLEU's output split on
  whitespace, exactly as sacreBLEU's own n-gram extraction does).
* ``unicode-words`` / ``unicode-chars`` are the ROUGE tokenizers. rouge-score's default tokenizer
  lower-cases and then deletes every character outside ``a-z0-9``, so Chinese, Russian or Greek
  text has no tokens and scores 0. ``unicode-words`` keeps every letter, mark and digit of every
  script (``\\p{L}\\p{M}\\p{N}``), treats everything else as a separator, and splits runs of Han
  ideographs, Hiragana and Katakana into single characters (these scripts do not separate words
  with spaces; character n-grams are the usual unit for Chinese ROUGE). On ASCII text it yields
  exactly rouge-score's tokens, so English scores are unchanged. ``unicode-chars`` makes every
  letter (with its combining marks) or digit a token, for scripts written without spaces and
  without a segmenter here (Thai, Lao, Khmer, Burmese).
* ``rouge-score`` is rouge-score's own DefaultTokenizer (ASCII only), kept for comparisons.
* ``whitespace`` splits on whitespace and nothing else.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from ...errors import InvalidArgumentError, MissingDependencyError, require
from ..score import Signature

#: sacreBLEU tokenizers offered here (spm/flores need a downloaded SentencePiece model: excluded)
BLEU_TOKENIZERS = ("13a", "intl", "zh", "char", "none", "ja-mecab", "ko-mecab")
#: tokenizers for ROUGE
ROUGE_TOKENIZERS = ("unicode-words", "unicode-chars", "rouge-score")
#: tokenizers for distinct-n / repetition (any of the above, or plain whitespace)
WORD_TOKENIZERS = BLEU_TOKENIZERS + ("unicode-words", "unicode-chars", "whitespace")

#: languages written without spaces between words, and no segmenter here: character tokens
_CHAR_LANGS = frozenset({"ja", "th", "lo", "km", "my"})
_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_NOT_A_LANGUAGE = frozenset({"und", "mul", "mis", "zxx"})  # undetermined, multiple, uncoded, no linguistic content

_MECAB_PACKAGES = {"ja-mecab": "sacrebleu[ja]", "ko-mecab": "sacrebleu[ko]"}


def check_lang(lang: str) -> str:
    """Validate a language tag against the ISO 639 / BCP 47 registry (through `langcodes`) and return
    its primary language subtag in the shortest standard form, which selects the tokenizers.

    ISO 639-2/3 codes map to their ISO 639-1 code (``zho``, ``chi`` -> ``zh``; ``jpn`` -> ``ja``;
    ``tha`` -> ``th``; ``eng`` -> ``en``), and individual languages of a macrolanguage to the
    macrolanguage (``cmn`` -> ``zh``, CLDR's alias data). Subtags are allowed (``zh-Hant``, ``pt-BR``).

    Args:
        lang: the language tag.

    Returns:
        The primary language subtag (``"zh"``).

    Raises:
        InvalidArgumentError: codes that are not in the registry (``xx``, ``zn``), private-use and
            reserved codes (``x-...``, ``qaa``-``qtz``), non-languages (``und``, ``mul``, ``mis``,
            ``zxx``) and malformed tags (``zh_CN``).
        MissingDependencyError: `langcodes` (the ``text`` extra) is not installed.

    Example:
        >>> check_lang("zho"), check_lang("cmn"), check_lang("pt-BR")
        ('zh', 'zh', 'pt')
        >>> check_lang("zh_CN")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `lang` must be an ISO 639 code of a registered language, ...but got 'zh_CN'.
    """
    allowed = ("an ISO 639 code of a registered language, such as 'en', 'zh', 'ja', 'ru' or 'zho' (optionally with "
               "BCP 47 subtags, e.g. 'zh-Hant')")
    if not isinstance(lang, str) or not _TAG_RE.match(lang):  # BCP 47 syntax ("zh_CN" is not)
        raise InvalidArgumentError("lang", allowed, lang)
    langcodes = require("langcodes", "checking --lang against ISO 639", extra="text")
    try:
        valid = langcodes.tag_is_valid(lang)
        primary = langcodes.standardize_tag(lang, macro=True).split("-", 1)[0].lower() if valid else ""
    except (ValueError, LookupError):
        valid, primary = False, ""
    reserved = len(primary) == 3 and "qaa" <= primary <= "qtz"
    if not valid or len(primary) < 2 or reserved or primary in _NOT_A_LANGUAGE:
        raise InvalidArgumentError("lang", allowed, lang, "It is not a registered ISO 639 language code.")
    return primary


#: scripts written without spaces between words: 13a leaves a whole sentence as one token
_UNSEGMENTED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"


class UnsegmentedTextWarning(UserWarning):
    """Text in a script written without spaces (Chinese, Japanese, Thai...) is tokenized with a
    whitespace-based tokenizer; its n-gram scores are near zero and meaningless.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = warn_if_unsegmented(["猫が座った"], "13a")
        >>> caught[0].category.__name__
        'UnsegmentedTextWarning'
    """


def warn_if_unsegmented(sentences: Sequence[str], tokenize: str, share: float = 0.1) -> bool:
    """Warn when at least `share` of the non-space characters are Han/Kana/Thai/Lao/Khmer/Myanmar and the
    tokenizer (``13a``, ``intl``, ``none``) splits only at spaces and punctuation.

    Args:
        sentences: the sentences (the first 2000 are looked at).
        tokenize: the sacreBLEU tokenizer in use.
        share: the share of such characters that triggers the warning.

    Returns:
        True if it warned.

    Example:
        >>> warn_if_unsegmented(["猫が座った"], "zh"), warn_if_unsegmented(["the cat"], "13a")
        (False, False)
    """
    if tokenize not in ("13a", "intl", "none"):
        return False
    import regex

    text = "".join(sentences[:2000])
    letters = len(regex.findall(r"\S", text))
    if not letters:
        return False
    found = len(regex.findall(f"[{_UNSEGMENTED}]", text))
    if found / letters < share:
        return False
    warnings.warn(f"{100 * found / letters:.0f}% of the text's characters are Chinese, Japanese, Thai or another script "
                  f"written without spaces, but the tokenizer is {tokenize!r}: whole sentences become single tokens "
                  "and BLEU is near 0. Pass --lang (e.g. zh, ja, th) or --tokenize zh/char.",
                  UnsegmentedTextWarning, stacklevel=3)
    return True


def bleu_tokenizer_for(lang: str) -> str:
    """Default sacreBLEU tokenizer for a target language.

    ``zh`` -> ``zh`` (sacreBLEU's Chinese tokenizer); ``ja``, ``th``, ``lo``, ``km``, ``my`` ->
    ``char`` (sacreBLEU recommends ``ja-mecab`` for Japanese; it needs mecab-python3 and ipadic,
    pass ``tokenize="ja-mecab"`` if they are installed); everything else -> ``13a`` (the WMT
    standard, mteval-v13a).

    Args:
        lang: the language tag (validated by `check_lang`).

    Returns:
        A name from BLEU_TOKENIZERS.

    Raises:
        InvalidArgumentError: an invalid language tag.

    Example:
        >>> bleu_tokenizer_for("zh-Hant"), bleu_tokenizer_for("ja"), bleu_tokenizer_for("de")
        ('zh', 'char', '13a')
    """
    lang = check_lang(lang)
    if lang == "zh":
        return "zh"
    if lang in _CHAR_LANGS:
        return "char"
    return "13a"


def rouge_tokenizer_for(lang: str) -> str:
    """Default ROUGE tokenizer: ``unicode-chars`` for th/lo/km/my, else ``unicode-words``.

    (Japanese keeps ``unicode-words``: its kana and kanji runs are split into characters there.)

    Args:
        lang: the language tag.

    Returns:
        A name from ROUGE_TOKENIZERS.

    Raises:
        InvalidArgumentError: an invalid language tag.

    Example:
        >>> rouge_tokenizer_for("th"), rouge_tokenizer_for("ja")
        ('unicode-chars', 'unicode-words')
    """
    lang = check_lang(lang)
    return "unicode-chars" if lang in _CHAR_LANGS - {"ja"} else "unicode-words"


def check_choice(name: str, value, allowed: Sequence[str]):
    """Return `value` if it is one of `allowed`, else raise a typed error naming them.

    Args:
        name: the argument's name.
        value: the value given.
        allowed: the allowed values.

    Returns:
        `value`.

    Raises:
        InvalidArgumentError: `value` is not allowed.

    Example:
        >>> check_choice("tokenize", "zh", BLEU_TOKENIZERS)
        'zh'
        >>> check_choice("mode", "x", ("words", "chars"))
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `mode` must be one of 'words', 'chars', but got 'x'.
    """
    if value not in allowed:
        raise InvalidArgumentError(name, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value


@functools.lru_cache(maxsize=None)
def _sacrebleu_tokenizer(name: str):
    from sacrebleu.metrics import BLEU

    try:
        return BLEU(tokenize=name).tokenizer
    except ImportError as exc:  # mecab tokenizers need optional packages
        raise MissingDependencyError(_MECAB_PACKAGES.get(name, name), f"the sacreBLEU tokenizer {name!r}") from exc
    except RuntimeError as exc:  # sacrebleu raises RuntimeError when mecab dictionaries are missing
        raise MissingDependencyError(_MECAB_PACKAGES.get(name, name), f"the sacreBLEU tokenizer {name!r}") from exc


def sacrebleu_tokenizer(name: str):
    """A sacreBLEU tokenizer object (callable str -> tokenized str; ``.signature()``).

    Args:
        name: a name from BLEU_TOKENIZERS.

    Returns:
        The (cached) sacreBLEU tokenizer.

    Raises:
        InvalidArgumentError: an unknown name.
        MissingDependencyError: a mecab tokenizer without its packages.

    Example:
        >>> sacrebleu_tokenizer("13a")("Hello, world!")
        'Hello , world !'
    """
    check_choice("tokenize", name, BLEU_TOKENIZERS)
    return _sacrebleu_tokenizer(name)


# -- Unicode-aware tokenizer for ROUGE ------------------------------------------------------------
# Han (incl. compatibility ideographs and extensions), Hiragana, Katakana: one token per character.
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"


@functools.lru_cache(maxsize=None)
def _patterns():
    import regex  # installed with sacrebleu; supports Unicode scripts and properties

    words = regex.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[\p{{L}}\p{{M}}\p{{N}}])+")
    chars = regex.compile(r"[\p{L}\p{N}]\p{M}*")
    return words, chars


_ASCII_TOKEN = re.compile(r"^[a-z0-9]+$")


class UnicodeTokenizer:
    """A rouge-score compatible tokenizer (has ``tokenize(text) -> list[str]``) for any script.

    Args:
        mode: ``"words"``: lower-case; tokens are maximal runs of letters, combining marks and digits
            of any script; punctuation, symbols and whitespace separate tokens; every Han / Hiragana /
            Katakana character is a token of its own. On ASCII input this equals rouge-score's default
            tokenizer (lower-case, non ``[a-z0-9]`` characters are separators).
            ``"chars"``: lower-case; every letter (with following combining marks) or digit is a token.
        use_stemmer: Porter-stem tokens longer than 3 characters that are ASCII ``[a-z0-9]+``, as
            rouge-score does (its stemmer is English-only; other tokens are left alone).

    Raises:
        InvalidArgumentError: an unknown mode.

    Example:
        >>> UnicodeTokenizer().tokenize("Der Käse, 東京!")
        ['der', 'käse', '東', '京']
        >>> t = UnicodeTokenizer("chars")
        >>> t.name, t("ab1")
        ('unicode-chars', ['a', 'b', '1'])
    """

    def __init__(self, mode: str = "words", use_stemmer: bool = False):
        self.mode = check_choice("mode", mode, ("words", "chars"))
        self.use_stemmer = bool(use_stemmer)
        self._stemmer = None
        if self.use_stemmer:
            from nltk.stem import porter  # rouge-score depends on nltk; the Porter stemmer needs no data

            self._stemmer = porter.PorterStemmer()

    @property
    def name(self) -> str:
        """``unicode-words`` or ``unicode-chars``."""
        return f"unicode-{self.mode}"

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text` (also the instance's ``__call__``)."""
        words, chars = _patterns()
        pattern = words if self.mode == "words" else chars
        tokens = pattern.findall(text.lower())
        if self._stemmer is not None:
            tokens = [self._stemmer.stem(t) if len(t) > 3 and _ASCII_TOKEN.match(t) else t for t in tokens]
        return tokens

    __call__ = tokenize

    def __repr__(self) -> str:
        return f"UnicodeTokenizer(mode={self.mode!r}, use_stemmer={self.use_stemmer})"


def rouge_tokenizer(name: str, use_stemmer: bool = False):
    """A tokenizer object for ``rouge_score.rouge_scorer.RougeScorer(tokenizer=...)``.

    Args:
        name: a name from ROUGE_TOKENIZERS (``"rouge-score"``: rouge-score's own ASCII tokenizer).
        use_stemmer: Porter stemming.

    Returns:
        An object with ``tokenize(text) -> list[str]``.

    Raises:
        InvalidArgumentError: an unknown name.

    Example:
        >>> rouge_tokenizer("unicode-words", use_stemmer=True).tokenize("The cats running")
        ['the', 'cat', 'run']
    """
    check_choice("tokenizer", name, ROUGE_TOKENIZERS)
    if name == "rouge-score":
        from rouge_score import tokenizers as rs_tokenizers

        return rs_tokenizers.DefaultTokenizer(use_stemmer=use_stemmer)
    return UnicodeTokenizer(mode=name.split("-", 1)[1], use_stemmer=use_stemmer)


@dataclass(frozen=True)
class WordTokenizer:
    """Text -> list of tokens, by name (see WORD_TOKENIZERS). Used by distinct-n and repetition.

    Attributes:
        name: a name from WORD_TOKENIZERS.
        lowercase: lowercase before tokenizing.

    Raises:
        InvalidArgumentError: an unknown name.

    Example:
        >>> t = WordTokenizer("13a", lowercase=True)
        >>> t("The cat, the hat."), t.batch(["A b", "c"])
        (['the', 'cat', ',', 'the', 'hat', '.'], [['a', 'b'], ['c']])
        >>> t.signature, WordTokenizer("whitespace").signature
        ('tok:13a|case:lc', 'tok:whitespace|case:mixed')
    """

    name: str
    lowercase: bool = False

    def __post_init__(self):
        check_choice("tokenize", self.name, WORD_TOKENIZERS)

    @property
    def _fn(self) -> Callable[[str], list[str]]:
        if self.name == "whitespace":
            return str.split
        if self.name.startswith("unicode-"):
            return UnicodeTokenizer(self.name.split("-", 1)[1]).tokenize
        tok = sacrebleu_tokenizer(self.name)
        return lambda s: tok(s.rstrip()).split()

    def batch(self, sentences: Sequence[str]) -> list[list[str]]:
        """The tokens of every sentence."""
        fn = self._fn
        if self.lowercase:
            return [fn(s.lower()) for s in sentences]
        return [fn(s) for s in sentences]

    def __call__(self, sentence: str) -> list[str]:
        """The tokens of one sentence."""
        return self.batch([sentence])[0]

    @property
    def signature_fields(self) -> tuple[tuple[str, str], ...]:
        """The tokenizer's fields of a metric's `Signature`: ``(("tok", name), ("case", "lc" | "mixed"))``."""
        lower = self.lowercase or self.name.startswith("unicode-")  # the unicode tokenizers always lower-case
        return (("tok", self.name), ("case", "lc" if lower else "mixed"))

    @property
    def signature(self) -> str:
        """``signature_fields`` as a string (``tok:13a|case:mixed``)."""
        return Signature("", self.signature_fields).format()
