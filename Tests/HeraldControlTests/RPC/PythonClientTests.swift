import Foundation
import HeraldCore
import Testing
import ZeroMQ

@testable import HeraldControl

/// Runs the documented Python client (Examples/python/herald_rpc_client.py, pyzmq) against a
/// live Herald RPC server: the wire format of docs/PROTOCOL.md, as another implementation reads it.
@Suite struct PythonClientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Debian's python3, where python3-zmq installs (a pyenv python3 on PATH would not see it).
    static var python: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    func runPython(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [Self.python, Self.root.appendingPathComponent("Examples/python/herald_rpc_client.py").path] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Bounded: the client's own timeout is 5 s; kill it after 30 s whatever happens.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        let (stdout, stderr) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let stdout = out.fileHandleForReading.readDataToEndOfFile()
                let stderr = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (stdout, stderr))
            }
        }
        watchdog.cancel()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func pyzmqClientCallsInstruments() async throws {
        let probe = try await runPython([])
        try #require(!probe.stderr.contains("No module named 'zmq'"),
                     "pyzmq is missing: run scripts/install-dependencies --tests (Debian package python3-zmq)")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("py-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serverKeys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()
        let (serverPublic, _) = try CurveKeyFile.write(serverKeys, name: "alice", directory: directory)
        let (_, clientSecret) = try CurveKeyFile.write(clientKeys, name: "python", directory: directory)

        let device = MultiCapabilityDouble(name: "alice/tagger")
        let service = InstrumentService([.init(name: "tagger", driver: "test-bench",
                                               instrument: Guarded(device, limits: .none, clock: VirtualClock()))])
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "agent")
        _ = try await ZAPAuthenticator(loop: loop, allowedClientKeys: [try CurveKeyFile.readPublic(path: directory + "/python.key")])
        let server = try await RPCServer(loop: loop, endpoint: "tcp://127.0.0.1:*", keys: serverKeys) { call throws(RPCFailure) in
            try await service.handle(call)
        }

        let list = try await runPython([server.endpoint, clientSecret, serverPublic, "instruments.list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains(#""name": "tagger""#))
        let rates = try await runPython([server.endpoint, clientSecret, serverPublic, "tagger.countRates",
                                         #"{"instrument": "tagger", "integration_s": 0.1}"#])
        let parsed = try JSONSerialization.jsonObject(with: Data(rates.stdout.utf8)) as? [String: Double]
        #expect(parsed == ["1": 1000, "2": 2000], "\(rates.stdout) \(rates.stderr)")
        let refused = try await runPython([server.endpoint, clientSecret, serverPublic, "tagger.setInputDelay",
                                           #"{"instrument": "tagger", "channel": 9, "delay_ps": 0}"#])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("invalid-channel: "))

        await server.close()
        await loop.shutdown()
        context.terminate()
    }
}
