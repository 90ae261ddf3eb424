"""Pulumi dynamic providers for the AEP Flow Service ingestion chain.

    from providers import XdmSchema, Dataset, SourceConnection, TargetConnection, MappingSet, Dataflow
    from providers import IdentityNamespace, IdentityDescriptor

Importing this package makes no resources, reads no config and makes no network call. It changes
two things in the Pulumi SDK:
- inside the dynamic-provider server, provider errors are shown without a traceback
  (`base._quiet_provider_errors`) and its RPC pool is widened (`rpc_workers`);
- in a program, each resource's provider is pickled through one sorting layer
  (`sdk_serialize`). The SDK adds one more layer per resource, until a RecursionError.
The provider classes are pickled into Pulumi state *by reference* (module + class name), so
these module paths and class names must stay importable; leave an alias behind if one moves.
"""

from .base_connection import BaseConnection, BaseConnectionProvider
from .client import AEPClient, AEPError, AEPSettings
from .dataflow import Dataflow, DataflowProvider
from .dataset import Dataset, DatasetProvider
from .identity_descriptor import IdentityDescriptor, IdentityDescriptorProvider
from .identity_namespace import IdentityNamespace, IdentityNamespaceProvider
from .mapping_set import MappingSet, MappingSetProvider
from .models import (
                     DATA_LAKE_SPEC,
                     EXPERIENCE_EVENT,
                     HTTP_STREAMING_SPEC,
                     PENDO_SPEC,
                     PROFILE,
                     STREAMING_FLOW_SPEC,
                     field_paths,
)
from .profile import ProfileEnablement, ProfileEnablementProvider
from .source_connection import SourceConnection, SourceConnectionProvider
from .target_connection import TargetConnection, TargetConnectionProvider
from .xdm_schema import XdmSchema, XdmSchemaProvider

__all__ = [
    "AEPClient", "AEPError", "AEPSettings", "BaseConnection", "BaseConnectionProvider", "DATA_LAKE_SPEC", "Dataflow",
    "DataflowProvider", "Dataset", "DatasetProvider", "EXPERIENCE_EVENT", "HTTP_STREAMING_SPEC", "IdentityDescriptor",
    "IdentityDescriptorProvider", "IdentityNamespace", "IdentityNamespaceProvider", "MappingSet",
    "MappingSetProvider", "PENDO_SPEC", "PROFILE", "ProfileEnablement", "ProfileEnablementProvider",
    "STREAMING_FLOW_SPEC", "SourceConnection", "SourceConnectionProvider", "TargetConnection",
    "TargetConnectionProvider", "XdmSchema", "XdmSchemaProvider", "field_paths",
]
