"""Which extractor and which mode classifier fit a dataset: the one rule every evaluation uses.

`gmeval evaluate` (its mode classifier), periodic evaluation during training, the cheap mode
check of the training monitor and `--evaluate-at-end` all choose here, so a run on Fashion-MNIST
is never scored with digit features by one path and clothing features by another:

    domain      = the dataset name of the source, if gmeval ships a classifier for it (mnist,
                  fashion-mnist); None for folders, arrays and other datasets
    extractor   = explicit choice, else the domain classifier, else Inception
    classifier  = explicit choice, else the domain, else the extractor if it is a domain classifier

An explicit choice that contradicts the data's domain is allowed (e.g. to reproduce an old
number) but warns with DomainMismatchWarning.
"""

from __future__ import annotations

import os
import warnings

#: datasets with a shipped classifier (gmeval.features.classifier), usable as extractor and for modes
CLASSIFIER_DOMAINS = ("mnist", "fashion-mnist")


class DomainMismatchWarning(UserWarning):
    """An explicit extractor/classifier belongs to another domain than the data.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     choose_extractor("fashion-mnist:test", "mnist")
        'mnist'
        >>> caught[0].category.__name__
        'DomainMismatchWarning'
    """


def domain_of(source) -> str | None:
    """The classifier domain of a source spec or origin ("fashion-mnist:train" -> "fashion-mnist").

    Args:
        source: a source spec or origin (anything; only strings and paths can have a domain).

    Returns:
        A name from CLASSIFIER_DOMAINS, or None.

    Example:
        >>> domain_of("fashion-mnist:train"), domain_of("MNIST:test"), domain_of("digits:test"), domain_of(None)
        ('fashion-mnist', 'mnist', None, None)
    """
    if not isinstance(source, (str, os.PathLike)):
        return None
    name = str(source).split(":", 1)[0].strip().lower()
    return name if name in CLASSIFIER_DOMAINS else None


def _check(role: str, choice: str, domain: str | None, source) -> None:
    if domain is not None and choice in CLASSIFIER_DOMAINS and choice != domain:
        warnings.warn(f"{role} {choice!r} does not match the domain of {source!r} ({domain!r}): its features/classes "
                      f"describe another dataset; use {domain!r} (the default) unless you mean to compare with an "
                      "earlier number", DomainMismatchWarning, stacklevel=3)


def choose_extractor(source, explicit: str | None = None) -> str:
    """Feature extractor for `source`: explicit, else its domain classifier, else Inception.

    Args:
        source: the real data's spec or origin.
        explicit: an explicit extractor name, or None (warns when it contradicts the domain).

    Returns:
        The extractor name.

    Example:
        >>> choose_extractor("mnist:test"), choose_extractor("samples/"), choose_extractor("mnist:test", "inception")
        ('mnist', 'inception', 'inception')
    """
    domain = domain_of(source)
    if explicit:
        _check("extractor", explicit, domain, source)
        return explicit
    return domain or "inception"


def choose_classifier(source, explicit: str | None = None, extractor: str | None = None) -> str | None:
    """Mode classifier for `source`: explicit, else its domain, else `extractor` if it is a domain classifier.

    Args:
        source: the real data's spec or origin.
        explicit: an explicit classifier, or None (warns when it contradicts the domain).
        extractor: the evaluation's extractor, or None.

    Returns:
        A classifier name, or None when there is none.

    Example:
        >>> choose_classifier("fashion-mnist:test"), choose_classifier("digits:test", extractor="mnist")
        ('fashion-mnist', 'mnist')
        >>> choose_classifier("samples/", extractor="inception") is None
        True
    """
    domain = domain_of(source)
    if explicit:
        _check("classifier", explicit, domain, source)
        return explicit
    if domain is not None:
        return domain
    return extractor if extractor in CLASSIFIER_DOMAINS else None
