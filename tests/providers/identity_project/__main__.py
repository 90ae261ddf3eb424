"""A schema, a custom identity namespace and the schema's primary identity in it."""

import pulumi

from providers import IdentityDescriptor, IdentityNamespace, XdmSchema

cfg = pulumi.Config("identity")
tenant = pulumi.Config("aep").require("tenantId")
code = cfg.require("code")

schema = XdmSchema("events", tenant_id=tenant, fields={"visitorId": {"type": "string"}, "accountId": {"type": "string"}})
namespace = IdentityNamespace("visitors", code=code, id_type="Cross_device", name=cfg.get("name"))
visitor = IdentityDescriptor("visitor", schema_id=schema.schema_id, source_property=f"/_{tenant}/visitorId",
                             namespace=namespace.code, primary=True)

pulumi.export("namespace_id", namespace.namespace_id)
pulumi.export("code", namespace.code)
pulumi.export("descriptor_id", visitor.descriptor_id)
