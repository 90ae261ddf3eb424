"""Flow Service's error codes (Experience League, flow-service-errors.md) and its two common errors.

Where AEP documents no code for a validation failure the emulator uses 1400 (docs/emulator.md).
"""

from __future__ import annotations

from ...errors import AEPError, flow_error

INVALID = 1400            # emulator's code for validation failures AEP documents without a code
LIMIT_WITH_COUNT = 1401
IF_MATCH_MISSING = 1403
IF_MATCH_STALE = 1404
EMPTY_BODY = 1405
STATE_ON_CREATE = 1410
BAD_MAPPING_VERSION = 1412
CONNECTION_SPEC_IMMUTABLE = 1414
BASE_CONNECTION_IN_USE = 1418
ILLEGAL_ACTION = 1422
SCHEMA_MISMATCH = 1425
BAD_ORDERBY = 1432
UNSUPPORTED_PATCH_OP = 1434
NOT_FOUND = 1439
PATCH_PATH_MISSING = 1455
PATCH_PATH_INVALID = 1365
START_TIME_PASSED = 1366
TARGET_SPEC_NOT_DATALAKE = 1307
BASE_CONNECTION_NOT_ALLOWED = 1332


def invalid(message: str, code: int = INVALID) -> AEPError:
    """A 400 in Flow Service's shape (FLOW-<code>-400)."""
    return flow_error(400, code, message)


def not_found(resource: str, id_: str) -> AEPError:
    """The 404 Flow Service answers for an id that does not exist in the caller's sandbox."""
    return flow_error(404, NOT_FOUND, f"Resource with id {id_} not found.", id=id_, type=resource)
