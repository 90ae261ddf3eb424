import pulumi
from tinyprov import Note

note = Note("note", text=pulumi.Config().get("text") or "hello")
pulumi.export("text", note.text)
