/// HeraldControl: the control plane over ZeroMQ: node agents, RPC, telemetry, the herald bus,
/// lab state, liveness and clock sync. Wire format: docs/PROTOCOL.md.
public enum HeraldControlModule {}
