"""Human evaluation with the HYPE protocol (Zhou et al., NeurIPS 2019): a web app and its scoring.

- `protocol`: study design, trial plans, the HYPE-time staircase;
- `images`: real/fake image providers over `gmeval.sources.load_images`, served by opaque ids;
- `store`: SQLite (WAL) storage with idempotent answer submissions;
- `app`: the Flask application (`create_app`, `open_study`, `make_server`);
- `scoring`: HYPE-infinity / HYPE-time with bootstrap intervals, agreement, rank correlation.

Flask is only imported by `app.create_app` (optional extra ``gmeval[human]``).
"""

from .protocol import PROTOCOLS, PlannedTrial, Pools, Staircase, StaircaseConfig, StudyDesign, plan_trials, staircase_exposures
from .scoring import (HypeInfinity, HypeTime, bootstrap_hype_infinity, fleiss_kappa, hype_infinity_score, hype_time_score,
                      modal_exposure, pairwise_agreement, rank_correlation, score_store)
from .store import ConflictError, HumanEvalError, Store, UnknownRaterError, UnknownTrialError

__all__ = [
    "PROTOCOLS", "PlannedTrial", "Pools", "Staircase", "StaircaseConfig", "StudyDesign", "plan_trials",
    "staircase_exposures", "HypeInfinity", "HypeTime", "bootstrap_hype_infinity", "fleiss_kappa",
    "hype_infinity_score", "hype_time_score", "modal_exposure", "pairwise_agreement", "rank_correlation",
    "score_store", "ConflictError", "HumanEvalError", "Store", "UnknownRaterError", "UnknownTrialError",
]
