import Foundation

/// Clock sync over the control plane: the `clock.exchange` RPC method every agent answers, and
/// the client side that runs exchanges against it and feeds a `ClockSyncEstimator`.
///
/// The agent answers `{"t2", "t3"}`: t2 when the request came off its socket, t3 just before it
/// answers (ns since 1970 on its host clock). The caller stamps t1 before sending and t4 on the
/// answer. Queueing inside either process only lengthens a round trip, and the estimator keeps
/// the shortest ones.
public enum ClockExchange {
    /// The agent's answer to `clock.exchange`.
    public static func answer(_ call: RPCCall) -> JSONValue {
        .object(["t2": .string(String(call.receivedNanoseconds)), "t3": .string(String(ControlEpoch.timestamp()))])
    }

    /// Runs `count` exchanges with the agent behind `client`, `interval` apart, and returns the
    /// estimate of the agent's clock against this host's (offset in ns, drift as a fraction).
    public static func measure(
        _ client: RPCClient, count: Int = 64, interval: Duration = .milliseconds(20), timeout: Duration = .seconds(5)
    ) async throws(ControlError) -> ClockSyncEstimator.Estimate {
        var estimator = ClockSyncEstimator(capacity: max(count, 1))
        for index in 0..<max(count, 1) {
            let t1 = ControlEpoch.timestamp()
            let reply = try await client.call("clock.exchange", timeout: timeout)
            let t4 = ControlEpoch.timestamp()
            guard let t2 = reply["t2"]?.string.flatMap({ Int64($0) }), let t3 = reply["t3"]?.string.flatMap({ Int64($0) }) else {
                throw .badReply("clock.exchange answered \(reply), not {t2, t3}")
            }
            estimator.add(ClockSyncEstimator.Exchange(t1: t1, t2: t2, t3: t3, t4: t4))
            if index < count - 1 { try? await Task.sleep(for: interval) }
        }
        guard let estimate = estimator.estimate else { throw .badReply("no usable clock exchange") }
        return estimate
    }
}
