"""The war room: server-rendered pages over the incident store."""
