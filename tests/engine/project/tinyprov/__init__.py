"""A dynamic provider with a lifecycle and no network: enough to prove the engine runs it.

It lives in a package, not in __main__.py, so Pulumi pickles it by reference.
"""

import uuid

from pulumi import Output
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class NoteProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props):
        return CreateResult(uuid.uuid4().hex, {"text": props["text"]})

    def diff(self, _id, olds, news):
        return DiffResult(changes=olds.get("text") != news.get("text"))

    def update(self, _id, _olds, news):
        return UpdateResult({"text": news["text"]})

    def read(self, id_, props):
        return ReadResult(id_, {"text": props.get("text")}, inputs={"text": props.get("text")})

    def delete(self, _id, _props):
        pass


class Note(Resource):
    text: Output[str]

    def __init__(self, name, text, opts=None):
        super().__init__(NoteProvider(), name, {"text": text}, opts)
