"""Bundle format for provisioning the box from a USB stick (reader, writer, verifier)."""
