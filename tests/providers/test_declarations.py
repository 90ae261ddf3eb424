"""Each resource is declared once: its args model's fields carry their rules, and everything
else (the managed fields diff compares, the passive inputs, the secrets, the constructor's
keywords) follows from that model. No network."""

from __future__ import annotations

import inspect
from typing import Annotated

import pytest

from providers import (
    BaseConnection,
    BaseConnectionProvider,
    Dataflow,
    DataflowProvider,
    Dataset,
    DatasetProvider,
    IdentityDescriptor,
    IdentityDescriptorProvider,
    IdentityNamespace,
    IdentityNamespaceProvider,
    MappingSet,
    MappingSetProvider,
    SourceConnection,
    SourceConnectionProvider,
    TargetConnection,
    TargetConnectionProvider,
    XdmSchema,
    XdmSchemaProvider,
    models,
)
from providers.base import AEPProvider, declared
from providers.models import AEPArgs, Managed

RESOURCES = [(XdmSchema, XdmSchemaProvider), (Dataset, DatasetProvider), (SourceConnection, SourceConnectionProvider),
             (TargetConnection, TargetConnectionProvider), (MappingSet, MappingSetProvider),
             (Dataflow, DataflowProvider), (BaseConnection, BaseConnectionProvider),
             (IdentityNamespace, IdentityNamespaceProvider), (IdentityDescriptor, IdentityDescriptorProvider)]
ids = [r.__name__ for r, _ in RESOURCES]


@pytest.mark.parametrize("resource, provider", RESOURCES, ids=ids)
def test_every_args_model_field_is_managed_computed_or_passive(resource, provider):
    managed = {f.name for f in provider.fields}
    accounted = managed | set(provider.passive) | set(provider.computed)
    assert set(provider.args_model.model_fields) <= accounted
    assert managed.isdisjoint(provider.passive)
    assert "sandbox" in managed and {"adopt_id", "allow_replace"} <= set(provider.passive)


def test_a_field_without_rules_is_refused_when_the_provider_is_defined():
    class Sloppy(AEPArgs):
        name: Annotated[str | None, Managed()] = None
        colour: str | None = None  # forgotten: it would be stored and never diffed

    with pytest.raises(TypeError, match=r"\['colour'\] are neither managed, computed nor passive"):
        class SloppyProvider(AEPProvider):
            args_model = Sloppy
    assert [f.name for f in declared(Sloppy, computed=("colour",))[0]] == ["sandbox", "name"]


@pytest.mark.parametrize("resource, provider", RESOURCES, ids=ids)
def test_the_constructor_takes_the_args_model_inputs_typed_and_documented(resource, provider):
    sig = inspect.signature(resource.__init__)
    keywords = {n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY} - {"opts"}
    inputs = set(provider.args_model.model_fields)
    # The one-way-door guard is only on resources whose replacement loses something; a
    # dataset's retain_on_delete is its resource option, recorded as an input for policy packs.
    expected = (inputs if provider.replacement_loses else inputs - {"allow_replace"}) - {"retain_on_delete"}
    assert keywords == expected
    doc = inspect.getdoc(resource.__init__) or ""
    for name in keywords:
        annotation = str(sig.parameters[name].annotation)
        assert "Input" in annotation and "Any" != annotation, (name, annotation)
        assert f"    {name}: " in doc, f"{resource.__name__}.__init__ does not document {name}"


def test_secret_inputs_come_from_the_declarations():
    assert BaseConnectionProvider.secret_inputs == ("auth_params",)
    assert all(p.secret_inputs == () for _, p in RESOURCES if p is not BaseConnectionProvider)


def test_the_args_models_stay_importable_from_models():
    for _, provider in RESOURCES:
        assert getattr(models, provider.args_model.__name__) is provider.args_model
    with pytest.raises(AttributeError):
        models.NoSuchArgs  # noqa: B018
