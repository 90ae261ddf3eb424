"""A local emulator of the Adobe Experience Platform APIs that aep-pipelines uses.

It serves IMS, Flow Service, Data Prep, Schema Registry, Catalog and the streaming
inlet under one base URL, with the same paths as the real services, so the same
client code runs against it and against platform.adobe.io.
"""
