"""One module per AEP service; each exposes a FastAPI `router` mounted at the real base path."""
