public import ZeroMQ

/// The ZMTP-level liveness settings of every Herald socket: libzmq pings each connection every
/// second and drops one that is silent for 3 s (dead link or host), and reconnects with back-off
/// from 100 ms to 2 s. These run in libzmq's I/O thread, so a hung program still answers them:
/// application heartbeats (`HeartbeatPublisher`, `PeerMonitor`) cover that.
public enum ZMTPHeartbeats {
    public static let interval = 1000
    public static let timeout = 3000

    public static func apply(to socket: ZMQSocket) throws(ZMQError) {
        try socket.set(.heartbeatInterval, interval)
        try socket.set(.heartbeatTimeout, timeout)
        try socket.set(.heartbeatTTL, timeout)
        try socket.set(.reconnectInterval, 100)
        try socket.set(.reconnectIntervalMaximum, 2000)
    }
}
