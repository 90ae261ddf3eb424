"""Development identities the emulator accepts. None of them is a real credential."""

DEV_CLIENT_ID = "aep-pipelines-dev-client"
# The dev client's secret is kept as its SHA-256 only: the value is the dev stack's secret config
# (`aep:clientSecret` in stacks/Pulumi.dev.yaml, encrypted; `pulumi config get aep:clientSecret
# --stack dev` shows it). Benchmarks and rehearsals start their emulator with a throwaway secret
# of their own (EmulatorProcess(client_secret=...)).
DEV_CLIENT_SECRET_SHA256 = "222ea430b61e97638cf248f3417e965538054cc53a057a379514d11c35644692"
DEV_ORG_ID = "AEPPIPELINESDEV0000000000@AdobeOrg"
DEV_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
# The tenant namespace custom XDM fields live under (`_{TENANT_ID}`), as in the Pendo tutorial.
TENANT_ID = "extconndev"
# Token lifetime in seconds, as IMS v3 reports it. Overridable with --token-ttl.
DEFAULT_TOKEN_TTL = 86399

# Other orgs a test may use: client id -> (secret, org). The dev client is always present.
EXTRA_CLIENTS: dict[str, tuple[str, str]] = {}
