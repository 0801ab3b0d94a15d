"""Human evaluation with the HYPE protocol (Zhou et al., NeurIPS 2019): a web app and its scoring.

- `protocol`: study design, trial plans, the HYPE-time staircase;
- `images`: real/fake image providers over `gmeval.sources.load_images`, served by opaque ids;
- `store`: SQLite (WAL) storage with idempotent answer submissions;
- `app`: the Flask application (`create_app`, `open_study`, `make_server`);
- `access`: admin tokens and sessions, per-address rate limits, the Host allowlist;
- `server`: the production WSGI server (waitress) with request/idle timeouts and limits;
- `scoring`: HYPE-infinity / HYPE-time with bootstrap intervals, agreement, rank correlation.

Flask and waitress are only imported by `app.create_app` / `server.StudyServer` (optional extra
``gmeval[human]``).
"""

from .protocol import PROTOCOLS, PlannedTrial, Pools, Staircase, StaircaseConfig, StudyDesign, plan_trials, staircase_exposures
from .scoring import (HypeInfinity, HypeTime, bootstrap_hype_infinity, fleiss_kappa, hype_infinity_score, hype_time_score,
                      modal_exposure, pairwise_agreement, rank_correlation, score_store)
from .store import (ConflictError, CorruptDatabaseError, DatabaseInUseError, HumanEvalError, Store, StudyFullError,
                    UnknownRaterError, UnknownTrialError)

__all__ = [
    "PROTOCOLS", "PlannedTrial", "Pools", "Staircase", "StaircaseConfig", "StudyDesign", "plan_trials",
    "staircase_exposures", "HypeInfinity", "HypeTime", "bootstrap_hype_infinity", "fleiss_kappa",
    "hype_infinity_score", "hype_time_score", "modal_exposure", "pairwise_agreement", "rank_correlation",
    "score_store", "ConflictError", "CorruptDatabaseError", "DatabaseInUseError", "HumanEvalError", "Store",
    "StudyFullError", "UnknownRaterError", "UnknownTrialError",
]
