"""The emulator's dev client secret, for tests: the plaintext of the dev stack's `aep:clientSecret`
(stacks/Pulumi.dev.yaml, encrypted there); the emulator keeps only its SHA-256
(emulator/config.py). Outside tests nothing holds it in the clear."""

DEV_CLIENT_SECRET = "aep-pipelines-dev-secret"
