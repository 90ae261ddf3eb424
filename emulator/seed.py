"""The read-only connection and flow specs AEP ships, seeded into every emulator at startup.

IDs are AEP's real ones, so clients that hard-code them (as the Pendo tutorial does) work
unchanged. The Google Cloud Storage pair is the example in Adobe's Flow Service spec; it
gives the emulator a batch source that takes a base connection and needs a schedule.
"""

from __future__ import annotations

from typing import Any

from . import kinds, source_specs
from .store import Store

PENDO_PROVIDER_ID = source_specs.STREAMING_PROVIDER_ID
PENDO_SPEC_ID = source_specs.PENDO_SPEC_ID
CHATLIO_SPEC_ID = source_specs.CHATLIO_SPEC_ID
CUSTOMERIO_SPEC_ID = source_specs.CUSTOMERIO_SPEC_ID
HTTP_STREAMING_SPEC_ID = source_specs.HTTP_STREAMING_SPEC_ID
KINESIS_SPEC_ID = source_specs.KINESIS_SPEC_ID
EVENT_HUBS_SPEC_ID = source_specs.EVENT_HUBS_SPEC_ID
PUBSUB_SPEC_ID = source_specs.PUBSUB_SPEC_ID
DATALAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
STREAMING_FLOW_SPEC_ID = "e77fde5a-22a8-11ed-861d-0242ac120002"
# "Stream data with optional transformation" (help/sources/tutorials/api/collect/streaming.md).
OPTIONAL_TRANSFORM_FLOW_SPEC_ID = "d69717ba-71b4-4313-b654-49f9cf126d7a"
GCS_PROVIDER_ID = "0ed90a81-07f4-4586-8190-b40eccef1c5a"
GCS_SPEC_ID = "32e8f412-cdf7-464c-9885-78184cb113fd"
CLOUD_STORAGE_FLOW_SPEC_ID = "9753525b-82c7-4dce-8a9b-5ccfce2b9876"

# Streaming sources: their flows get an inlet.
STREAMING_SOURCE_SPEC_IDS = frozenset({*source_specs.WEBHOOK_SPEC_IDS, HTTP_STREAMING_SPEC_ID,
                                       *source_specs.ACCOUNT_SPEC_IDS})
# Sources that refuse a baseConnectionId (FLOW-1332-400): the webhooks have no account at all.
# The HTTP API source takes an optional "Streaming Connection" base connection (authenticated
# streaming); Kinesis, Event Hubs and Pub/Sub read through one and require it.
NO_BASE_CONNECTION_SPEC_IDS = frozenset(source_specs.WEBHOOK_SPEC_IDS)
OPTIONAL_BASE_CONNECTION_SPEC_IDS = frozenset({HTTP_STREAMING_SPEC_ID})
# Flows on these get an inlet. AEP pulls Kinesis, Event Hubs and Pub/Sub records from the
# customer's stream; the emulator has none to reach, so their flows get an inlet standing in
# for the stream (docs/emulator.md).
STREAMING_FLOW_SPEC_IDS = frozenset({STREAMING_FLOW_SPEC_ID, OPTIONAL_TRANSFORM_FLOW_SPEC_ID})
# Flow specs whose flows need scheduleParams (batch sources).
SCHEDULED_FLOW_SPEC_IDS = frozenset({CLOUD_STORAGE_FLOW_SPEC_ID})

_JSON_SCHEMA = "http://json-schema.org/draft-07/schema#"

_SOURCES_PERMISSIONS = {
    "manage": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["write"]}],
    "view": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["read"]}],
}


CONNECTION_SPECS: list[dict[str, Any]] = [
    *source_specs.CONNECTION_SPECS,
    {
        "id": DATALAKE_SPEC_ID,
        "name": "datalake",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "authSpec": [],
        "targetSpec": {
            "name": "datalake",
            "spec": {
                "schema": _JSON_SCHEMA,
                "type": "object",
                "properties": {"dataSetId": {"type": "string"}},
                "required": ["dataSetId"],
            },
        },
        "attributes": {"category": "Target", "connectorName": "Data Lake", "isSource": False},
        "permissionsInfo": _SOURCES_PERMISSIONS,
    },
    {
        "id": GCS_SPEC_ID,
        "name": "google-cloud",
        "providerId": GCS_PROVIDER_ID,
        "version": "1.0",
        "authSpec": [{
            "name": "Basic Authentication for Google Cloud Storage",
            "type": "Basic Authentication",
            "spec": {
                "schema": _JSON_SCHEMA,
                "type": "object",
                "properties": {"accessKeyId": {"type": "string"},
                               "secretAccessKey": {"type": "string", "format": "password"}},
                "required": ["accessKeyId", "secretAccessKey"],
            },
        }],
        "sourceSpec": {
            "name": "google-cloud",
            "type": "FileSystem",
            "spec": {"schema": _JSON_SCHEMA, "type": "object",
                     "path": {"type": "string"}, "recursive": {"type": "boolean", "default": "false"}},
            "attributes": {"uiAttributes": {"isSource": True, "category": "Cloud Storage",
                                            "label": "Google Cloud Storage"}},
        },
        "exploreSpec": {"name": "FileSystem", "type": "FileSystem"},
        "attributes": {"category": "Cloud Storage", "connectorName": "Google Cloud Storage", "isSource": True,
                       "uiAttributes": {"apiFeatures": {"explorePaginationSupported": False}}},
        "permissionsInfo": _SOURCES_PERMISSIONS,
    },
]


def _mapping_transformation() -> dict[str, Any]:
    return {
        "name": "Mapping",
        "spec": {
            "schema": _JSON_SCHEMA,
            "type": "object",
            "description": "Defines various params required for different mapping from source to target",
            "properties": {"mappingId": {"type": "string"}, "mappingVersion": {"type": "string"}},
        },
    }


# The options both flow specs take (FS 1855-1870; GenericStreamingAEP's are the same).
_OPTION_SPEC = {"name": "OptionSpec", "spec": {"schema": _JSON_SCHEMA, "type": "object", "properties": {
    "errorDiagnosticsEnabled": {"title": "Error diagnostics", "type": "boolean", "default": False},
    "partialIngestionPercent": {"title": "Partial ingestion threshold", "type": "number", "exclusiveMinimum": 0}}}}

FLOW_SPECS: list[dict[str, Any]] = [
    {
        "id": STREAMING_FLOW_SPEC_ID,
        "name": "GenericStreamingAEP",
        "providerId": PENDO_PROVIDER_ID,
        "version": "1.0",
        # The webhook sources' pages create their flows on this spec; HTTP API is the project's
        # unauthenticated streaming path (http.md itself names c1a19761/d8a6f005, not emulated).
        "sourceConnectionSpecIds": [*source_specs.WEBHOOK_SPEC_IDS, HTTP_STREAMING_SPEC_ID],
        "targetConnectionSpecIds": [DATALAKE_SPEC_ID],
        "transformationSpecs": [_mapping_transformation()],
        "optionSpec": _OPTION_SPEC,
        "attributes": {"isSourceFlow": True, "frequency": "streaming",
                       "notification": {"category": "sources", "flowRun": {"enabled": True}}},
        "permissionsInfo": _SOURCES_PERMISSIONS,
    },
    {
        # help/sources/tutorials/api/collect/streaming.md, "Retrieve a list of dataflow specifications".
        "id": OPTIONAL_TRANSFORM_FLOW_SPEC_ID,
        "name": "Stream data with optional transformation",
        "providerId": PENDO_PROVIDER_ID,
        "version": "1.0",
        "sourceConnectionSpecIds": [HTTP_STREAMING_SPEC_ID, EVENT_HUBS_SPEC_ID, KINESIS_SPEC_ID, PUBSUB_SPEC_ID],
        "targetConnectionSpecIds": [EVENT_HUBS_SPEC_ID, DATALAKE_SPEC_ID, "db4fe783-ef79-4a12-bda9-32b2b1bc3b2c"],
        # The page shows no optionSpec for this spec, so its flows take no options.
        "transformationSpecs": [_mapping_transformation()],
        "attributes": {"isSourceFlow": True, "frequency": "streaming",
                       "uiAttributes": {"apiFeatures": {"flowRunsSupported": False}}},
        "permissionsInfo": source_specs.STREAMING_PERMISSIONS,
    },
    {
        "id": CLOUD_STORAGE_FLOW_SPEC_ID,
        "name": "CloudStorageToAEP",
        "providerId": GCS_PROVIDER_ID,
        "version": "1.0",
        "sourceConnectionSpecIds": [GCS_SPEC_ID],
        "targetConnectionSpecIds": [DATALAKE_SPEC_ID],
        "optionSpec": _OPTION_SPEC,
        "transformationSpecs": [_mapping_transformation()],
        "scheduleSpec": {
            "name": "PeriodicSchedule",
            "type": "Periodic",
            "spec": {
                "schema": _JSON_SCHEMA,
                "type": "object",
                "properties": {
                    "startTime": {"type": "integer"},
                    "frequency": {"type": "string", "enum": ["once", "minute", "hour", "day", "week"]},
                    "interval": {"type": "integer"},
                    "backfill": {"type": "boolean", "default": True},
                },
                "required": ["startTime", "frequency"],
            },
        },
        "attributes": {"isSourceFlow": True, "flacValidationSupported": True, "frequency": "batch",
                       "notification": {"category": "sources", "flowRun": {"enabled": True}}},
        "permissionsInfo": _SOURCES_PERMISSIONS,
    },
]


def seed(store: Store) -> None:
    """Write the built-in specs (idempotent: rewrites them, so an upgrade refreshes old data dirs)."""
    with store.tx():
        for spec in CONNECTION_SPECS:
            store.put(kinds.CONNECTION_SPEC, "", "", spec["id"], spec)
        for spec in FLOW_SPECS:
            store.put(kinds.FLOW_SPEC, "", "", spec["id"], spec)
