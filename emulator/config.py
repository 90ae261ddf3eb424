"""Development identities the emulator accepts. None of them is a real credential."""

DEV_CLIENT_ID = "aep-pipelines-dev-client"
DEV_CLIENT_SECRET = "aep-pipelines-dev-secret"  # documented, emulator-only
DEV_ORG_ID = "AEPPIPELINESDEV0000000000@AdobeOrg"
DEV_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
# The tenant namespace custom XDM fields live under (`_{TENANT_ID}`), as in the Pendo tutorial.
TENANT_ID = "extconndev"
# Token lifetime in seconds, as IMS v3 reports it. Overridable with --token-ttl.
DEFAULT_TOKEN_TTL = 86399

# Other orgs a test may use: client id -> (secret, org). The dev client is always present.
EXTRA_CLIENTS: dict[str, tuple[str, str]] = {}
