import Foundation
import Synchronization
public import HeraldCore
public import ZeroMQ

/// Everything one node serves on the control plane, from its lab-file entry: the ZAP handler
/// (allow-list: the lab's node keys), RPC for its instruments and its lab state, telemetry with
/// heartbeats, and the herald bus when the node heralds. `stop()` closes every socket and the
/// context.
public final class NodeAgent: Sendable {
    public let node: String
    public let context: ZMQContext
    public let loop: ZMQEventLoop
    public let authenticator: ZAPAuthenticator
    public let rpc: RPCServer
    public let telemetry: TelemetryPublisher
    public let state: LabStateStore
    public let heralds: HeraldingStation?
    /// This node's end of the herald bus, when the lab has a station and this node is not it.
    public let heraldReceiver: HeraldReceiver?
    /// `heralds.*` RPC over the station and/or receiver.
    public let heraldService: HeraldService
    /// `tags.*` RPC: the node's tag streams, when its lab entry has a `tags` endpoint.
    public let tagStreams: TagStreamService?
    private let heartbeat: HeartbeatPublisher
    private let heraldTelemetry: Task<Void, Never>

    /// How often the agent publishes its heartbeat.
    public static let heartbeatInterval = Duration.milliseconds(250)

    /// Starts the agent of `node` in `lab`, serving `instruments` (wrap them in `Guarded`).
    /// `keys` is this node's key pair; `allowedKeys` the public keys that may connect.
    /// `heraldStation`: the station this node takes heralds from (its endpoint and public key).
    /// `heraldFaults`: drop and duplicate herald-bus messages on purpose (tests of the accounting).
    public init(
        lab: LabFile, node name: String, instruments: [InstrumentService.Entry], keys: CurveKeyPair,
        allowedKeys: [String], heraldStation: (endpoint: String, serverKey: String)? = nil,
        heraldFaults: FaultInjection? = nil, log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        guard let node = lab.node(named: name) else { throw AgentError.unknownNode(name, lab.nodes.map(\.name)) }
        guard let control = node.control else { throw AgentError.noControl(name) }
        self.node = name
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "agent-\(name)")
        self.context = context
        self.loop = loop
        do {
            authenticator = try await ZAPAuthenticator(loop: loop, allowedClientKeys: allowedKeys)
            telemetry = try await TelemetryPublisher(loop: loop, endpoint: control.telemetry, keys: keys)
            let state = LabStateStore(publisher: telemetry)
            self.state = state
            let service = InstrumentService(instruments)
            let latencyLog = Mutex<HeraldService?>(nil)
            let station = try await control.heralds.asyncMap { endpoint in
                try await HeraldingStation(loop: loop, endpoint: endpoint, keys: keys, faults: heraldFaults, log: log) { key, verdict, elapsed in
                    latencyLog.withLock { $0 }?.recordLatency(key, verdict, elapsed)
                }
            }
            heralds = station
            heraldReceiver = try await heraldStation.asyncMap { station in
                try await HeraldReceiver(loop: loop, endpoint: station.endpoint, keys: keys, serverKey: station.serverKey, node: name,
                                         faults: heraldFaults)
            }
            let heraldService = HeraldService(station: station, receiver: heraldReceiver)
            let tagStreams = try await control.tags.asyncMap { endpoint in
                TagStreamService(publisher: try await TagStreamPublisher(loop: loop, endpoint: endpoint, keys: keys), node: name, instruments: service)
            }
            self.tagStreams = tagStreams
            latencyLog.withLock { $0 = heraldService }
            self.heraldService = heraldService
            rpc = try await RPCServer(loop: loop, endpoint: control.rpc, keys: keys, log: log) { call throws(RPCFailure) in
                if call.method == "agent.describe" {
                    return .object(["node": .string(name), "lab": .string(lab.name), "epoch": .number(Double(ControlEpoch.current >> 11))])
                }
                if call.method == "clock.exchange" { return ClockExchange.answer(call) }
                if let answer = try state.handle(call) { return answer }
                if let answer = try await heraldService.handle(call) { return answer }
                if let answer = try await tagStreams?.handle(call) { return answer }
                return try await service.handle(call)
            }
            heartbeat = try await HeartbeatPublisher(node: name, publisher: telemetry, interval: Self.heartbeatInterval)
            let publisher = telemetry
            let heralding = station != nil || heraldReceiver != nil
            heraldTelemetry = Task {
                // Herald tallies once a second, for `herald monitor` and dashboards.
                while heralding, !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    _ = try? publisher.publish(topic: "heralds/\(name)", heraldService.summary())
                }
            }
        } catch {
            await loop.shutdown()
            context.terminate()
            throw error
        }
    }

    /// Stops serving: closes every socket, ends the loop and terminates the context.
    public func stop() async {
        heraldTelemetry.cancel()
        await tagStreams?.stopAll()
        await tagStreams?.publisher.close()
        await heartbeat.stop()
        await heraldReceiver?.close()
        await heralds?.close()
        await rpc.close()
        await telemetry.close()
        await loop.shutdown()
        context.terminate()
    }
}

/// Why an agent cannot start.
public enum AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownNode(String, [String])
    case noControl(String)
    case keys(String)

    public var description: String {
        switch self {
        case let .unknownNode(name, nodes): "the lab has no node '\(name)' (nodes: \(nodes.joined(separator: ", ")))"
        case let .noControl(name): "node '\(name)' has no 'control:' endpoints in the lab file"
        case let .keys(reason): reason
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
