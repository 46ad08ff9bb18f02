"""Writers: one module per telemetry kind, rendering a simulated case's state."""
