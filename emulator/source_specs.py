"""The connection specs of the streaming sources the emulator serves, as Adobe's pages give them.

Where each fact comes from (Experience League, AdobeDocs/experience-platform.en):

* Pendo `6ff5654f-...`: help/sources/tutorials/api/create/analytics/pendo-webhook.md;
  Chatlio `073127a3-...`: .../marketing-automation/chatlio-webhook.md; Customer.io
  `96479064-...`: .../marketing-automation/customerio-webhook.md. Each sends no base
  connection, `providerId` 521eee4d-..., `data.format` json ("the only supported data
  format") and the GenericStreamingAEP flow spec.
* HTTP API `bc7b00d6-...`: .../streaming/http.md: auth spec "Streaming Connection" with
  `dataType` (`xdm` or `raw`), `name`, optional `sourceId`, `authenticationRequired`.
* Amazon Kinesis `86043421-...`: .../cloud-storage/kinesis.md: auth spec "Aws Kinesis
  authentication credentials" (`accessKeyId`, `secretKey`, `region`); source params
  `stream`, `dataType` (`raw`, `xdm`), `reset` (`latest`, `earliest`).
* Azure Event Hubs `bf9f5905-...`: .../cloud-storage/eventhub.md: auth spec "Azure EventHub
  authentication credentials" (`sasKeyName`, `sasKey`, `namespace`, `eventHubName` for SAS
  authentication); params `eventHubName`, `dataType`, optional `reset` (default
  `earliest`) and `consumerGroup` (default `$Default`).
* Google Pub/Sub `70116022-a743-464a-bbfe-e226a7f8210c`: .../cloud-storage/google-pubsub.md
  (the full id also in the flow spec on help/sources/tutorials/api/collect/streaming.md):
  auth specs "Project Based Authentication" (`projectId`, `credentials`) and "Topic &
  Subscription Based Authentication" (`credentials`, `topicName`, `subscriptionName`);
  params `topicName`, `subscriptionName`, `dataType`.

A param is required unless its page calls it optional or gives it a default; Pub/Sub's
`topicName`/`subscriptionName` need at least one of the two (`anyOf`). Secrets carry
`format: password`, and GETs of a base connection mask them (docs/emulator.md).
`sourceSpec.attributes.dataFormats` is the emulator's record of the formats a page names.
"""

from __future__ import annotations

from typing import Any

STREAMING_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
PENDO_SPEC_ID = "6ff5654f-19d5-427d-bd3e-c0ebc802389a"
CHATLIO_SPEC_ID = "073127a3-26e3-496c-9d94-9f48fb93fba8"
CUSTOMERIO_SPEC_ID = "96479064-7b8a-4d69-b9ed-21c5683837ea"
HTTP_STREAMING_SPEC_ID = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
KINESIS_SPEC_ID = "86043421-563b-46ec-8e6c-e23184711bf6"
EVENT_HUBS_SPEC_ID = "bf9f5905-92b7-48bf-bf20-455bc6b60a4e"
PUBSUB_SPEC_ID = "70116022-a743-464a-bbfe-e226a7f8210c"

WEBHOOK_SPEC_IDS = (PENDO_SPEC_ID, CHATLIO_SPEC_ID, CUSTOMERIO_SPEC_ID)
# Sources that read through an account: a source connection without baseConnectionId is refused.
ACCOUNT_SPEC_IDS = (KINESIS_SPEC_ID, EVENT_HUBS_SPEC_ID, PUBSUB_SPEC_ID)

_JSON_SCHEMA = "http://json-schema.org/draft-07/schema#"
_DOCS = "https://experienceleague.adobe.com/docs/experience-platform/sources/connectors"
STREAMING_PERMISSIONS = {
    "manage": [{"@type": "lowLevel", "name": "StreamingSource", "permissions": ["write"]}],
    "view": [{"@type": "lowLevel", "name": "StreamingSource", "permissions": ["read"]}],
}
_DATA_TYPE = {"type": "string", "enum": ["raw", "xdm"],
              "description": "The type of the data being ingested: raw or xdm."}
_RESET = {"type": "string", "enum": ["latest", "earliest"],
          "description": "Where reading starts: the most recent data (latest) or the first available (earliest)."}


def _object(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {"$schema": _JSON_SCHEMA, "type": "object", "properties": properties, "required": required, **extra}


def _auth(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"name": name, "type": name, "spec": _object(properties, required)}


def _text(description: str, secret: bool = False) -> dict[str, Any]:
    return {"type": "string", "description": description, **({"format": "password"} if secret else {})}


def _source(spec_id: str, name: str, label: str, category: str, doc: str, *,
            auth_spec: list[dict[str, Any]] | None = None, params: dict[str, Any] | None = None,
            required: list[str] | None = None, any_of: list[str] | None = None,
            formats: list[str] | None = None) -> dict[str, Any]:
    extra = {"anyOf": [{"required": [p]} for p in any_of]} if any_of else {}
    attributes: dict[str, Any] = {"uiAttributes": {"isSource": True, "documentationLink": f"{_DOCS}/{doc}",
                                                   "category": category, "label": label}}
    if formats:
        attributes["dataFormats"] = formats
    return {
        "id": spec_id,
        "name": name,
        "providerId": STREAMING_PROVIDER_ID,
        "version": "1.0",
        "authSpec": auth_spec or [],
        "sourceSpec": {"name": name, "type": "Streaming",
                       "spec": _object(params or {}, required or [], **extra), "attributes": attributes},
        "exploreSpec": {},
        "attributes": {"category": category, "connectorName": label, "isSource": True, "isStreaming": True,
                       "uiAttributes": {"apiFeatures": {"explorePaginationSupported": False}}},
        "permissionsInfo": STREAMING_PERMISSIONS,
    }


def _webhook(spec_id: str, name: str, label: str, category: str, doc: str) -> dict[str, Any]:
    return _source(spec_id, name, label, category, doc, formats=["json"])


CONNECTION_SPECS: list[dict[str, Any]] = [
    _webhook(PENDO_SPEC_ID, "pendo-webhook", "Pendo", "Analytics", "analytics/pendo-webhook.html"),
    _webhook(CHATLIO_SPEC_ID, "chatlio-webhook", "Chatlio", "Marketing Automation",
             "marketing-automation/chatlio-webhook.html"),
    _webhook(CUSTOMERIO_SPEC_ID, "customerio-webhook", "Customer.io", "Marketing Automation",
             "marketing-automation/customerio-webhook.html"),
    _source(HTTP_STREAMING_SPEC_ID, "http-connector", "HTTP API", "Streaming", "streaming/http.html",
            auth_spec=[_auth("Streaming Connection", {
                "sourceId": _text("An additional identifier; defaults to the name."),
                "dataType": _DATA_TYPE,
                "name": _text("The name of the streaming connection."),
                "authenticationRequired": {"type": "boolean",
                                           "description": "Whether senders must authenticate."},
            }, ["dataType"])]),
    _source(KINESIS_SPEC_ID, "aws-kinesis", "Amazon Kinesis", "Cloud Storage", "cloud-storage/kinesis.html",
            auth_spec=[_auth("Aws Kinesis authentication credentials", {
                "accessKeyId": _text("One half of the access key pair."),
                "secretKey": _text("The other half of the access key pair.", secret=True),
                "region": _text("The region of the Kinesis account."),
            }, ["accessKeyId", "secretKey", "region"])],
            params={"stream": _text("The name of the data stream to pull records from."),
                    "dataType": _DATA_TYPE, "reset": _RESET},
            required=["stream", "dataType", "reset"], formats=["json"]),
    _source(EVENT_HUBS_SPEC_ID, "azure-event-hubs", "Azure Event Hubs", "Cloud Storage",
            "cloud-storage/eventhub.html",
            auth_spec=[_auth("Azure EventHub authentication credentials", {
                "sasKeyName": _text("The name of the authorization rule (SAS key name)."),
                "sasKey": _text("The primary key of the Event Hubs namespace.", secret=True),
                "namespace": _text("The namespace of the Event Hubs."),
                "eventHubName": _text("The Event Hub, for SAS authentication."),
            }, ["sasKeyName", "sasKey", "namespace"])],
            params={"eventHubName": _text("The name of the Event Hubs source."), "dataType": _DATA_TYPE,
                    "reset": {**_RESET, "default": "earliest"},
                    "consumerGroup": {**_text("The consumer group; one flow at a time."), "default": "$Default"}},
            required=["eventHubName", "dataType"], formats=["json"]),
    _source(PUBSUB_SPEC_ID, "google-pubsub", "Google PubSub", "Cloud Storage", "cloud-storage/google-pubsub.html",
            auth_spec=[
                _auth("Project Based Authentication", {
                    "projectId": _text("The project ID."),
                    "credentials": _text("The credential or key (a service account key).", secret=True),
                }, ["projectId", "credentials"]),
                _auth("Topic & Subscription Based Authentication", {
                    "credentials": _text("The credential or key (a service account key).", secret=True),
                    "topicName": _text("projects/{PROJECT_ID}/topics/{TOPIC_ID}"),
                    "subscriptionName": _text("projects/{PROJECT_ID}/subscriptions/{SUBSCRIPTION_ID}"),
                }, ["credentials", "topicName", "subscriptionName"]),
            ],
            params={"topicName": _text("The Pub/Sub topic."),
                    "subscriptionName": _text("The subscription of that topic; one dataflow each."),
                    "dataType": _DATA_TYPE},
            required=["dataType"], any_of=["topicName", "subscriptionName"], formats=["json"]),
]
