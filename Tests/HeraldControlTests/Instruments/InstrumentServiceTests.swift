import Foundation
import HeraldCore
import Testing
import ZeroMQ

@testable import HeraldControl

@Suite struct InstrumentServiceTests {
    func service() async -> (InstrumentService, MultiCapabilityDouble) {
        let device = MultiCapabilityDouble(name: "alice/bench")
        let limits = InstrumentLimits(maximumBias: Microamps(19), maximumPower: Watts(milliwatts: 10),
                                      angleRange: Degrees(5)...Degrees(165))
        let guarded = Guarded(device, limits: limits, clock: VirtualClock())
        return (InstrumentService([.init(name: "bench", driver: "test-bench", instrument: guarded)]), device)
    }

    func call(_ service: InstrumentService, _ method: String, _ params: [String: JSONValue] = [:]) async throws(RPCFailure) -> JSONValue {
        var all = params
        if all["instrument"] == nil { all["instrument"] = .string("bench") }
        return try await service.handle(RPCCall(method: method, params: .object(all), caller: [], requestID: 1))
    }

    @Test func listsInstrumentsWithCapabilities() async throws {
        let (service, _) = await service()
        let list = try await service.handle(RPCCall(method: "instruments.list", params: .object([:]), caller: [], requestID: 1))
        #expect(list == .array([.object(["name": .string("bench"), "driver": .string("test-bench"),
                                         "capabilities": .array(["time-tagger", "snspd-controller", "polarization-controller", "laser"].map(JSONValue.string))])]))
    }

    @Test func everyCapabilityMethodReachesTheInstrument() async throws {
        let (service, device) = await service()
        #expect(try await call(service, "instrument.identify")["model"] == .string("TestBench"))
        _ = try await call(service, "tagger.setTriggerLevel", ["channel": .number(1), "level_V": .number(-0.3)])
        #expect(try await call(service, "tagger.triggerLevel", ["channel": .number(1)]) == .number(-0.3))
        _ = try await call(service, "tagger.setInputDelay", ["channel": .number(2), "delay_ps": .number(-250)])
        #expect(try await call(service, "tagger.inputDelay", ["channel": .number(2)]) == .number(-250))
        _ = try await call(service, "tagger.setChannelEnabled", ["channel": .number(2), "enabled": .bool(false)])
        #expect(try await call(service, "tagger.isChannelEnabled", ["channel": .number(2)]) == .bool(false))
        #expect(try await call(service, "tagger.countRates", ["integration_s": .number(0.1)]) == .object(["1": .number(1000)]))
        #expect(try await call(service, "tagger.deadTime", ["channel": .number(1)]) == .number(2000))
        #expect(try await call(service, "tagger.constraints")["channels"] == .array([.number(1), .number(2)]))

        _ = try await call(service, "snspd.setBias", ["channel": .number(1), "bias_uA": .number(17.5)])
        #expect(try await call(service, "snspd.bias", ["channel": .number(1)]) == .number(17.5))
        _ = try await call(service, "snspd.setEnabled", ["channel": .number(1), "enabled": .bool(true)])
        #expect(try await call(service, "snspd.isEnabled", ["channel": .number(1)]) == .bool(true))
        #expect(try await call(service, "snspd.countRate", ["channel": .number(1), "integration_s": .number(1)]) == .number(1750))
        #expect(try await call(service, "snspd.isLatched", ["channel": .number(1)]) == .bool(false))
        _ = try await call(service, "snspd.resetLatch", ["channel": .number(1)])
        // Guarded narrows the constraints to the lab's limit.
        #expect(try await call(service, "snspd.constraints")["biasRange"] == .array([.number(0), .number(19)]))

        _ = try await call(service, "polarization.home")
        #expect(try await call(service, "polarization.isHomed") == .bool(true))
        _ = try await call(service, "polarization.setPosition", ["axis": .number(1), "angle_deg": .number(85)])
        #expect(try await call(service, "polarization.position", ["axis": .number(1)]) == .object(["angle_deg": .number(85)]))
        _ = try await call(service, "polarization.setPositions", ["positions": .array([10, 20, 30].map { .object(["angle_deg": .number($0)]) })])
        #expect(await device.positions == [.angle(Degrees(10)), .angle(Degrees(20)), .angle(Degrees(30))])

        _ = try await call(service, "laser.setWavelength", ["wavelength_nm": .number(1550.12)])
        #expect(try await call(service, "laser.wavelength") == .number(1550.12))
        _ = try await call(service, "laser.setFineTuning", ["offset_Hz": .number(1.5e9)])
        #expect(try await call(service, "laser.fineTuning") == .number(1.5e9))
        _ = try await call(service, "laser.setPower", ["power_mW": .number(5)])
        #expect(try await call(service, "laser.powerSetpoint") == .number(5))
        _ = try await call(service, "laser.setEmission", ["on": .bool(true)])
        #expect(try await call(service, "laser.isEmitting") == .bool(true))
        #expect(try await call(service, "laser.power") == .number(5))
        #expect(try await call(service, "laser.status")["ready"] == .bool(true))
    }

    @Test func failuresCarryCodes() async {
        let (service, device) = await service()
        let cases: [(String, [String: JSONValue], String)] = [
            ("snspd.setBias", ["channel": .number(1), "bias_uA": .number(25)], "limit-exceeded"),
            ("laser.setPower", ["power_mW": .number(12)], "limit-exceeded"),
            ("polarization.setPosition", ["axis": .number(0), "angle_deg": .number(170)], "limit-exceeded"),
            ("snspd.setBias", ["channel": .number(7), "bias_uA": .number(5)], "invalid-channel"),
            ("laser.setWavelength", ["wavelength_nm": .number(1600)], "out-of-range"),
            ("tagger.setDeadTime", ["channel": .number(1), "dead_time_ps": .number(5000)], "unsupported"),
            ("snspd.setBias", ["channel": .number(1)], "bad-params"),
            ("snspd.setBias", ["channel": .number(1.5), "bias_uA": .number(5)], "bad-params"),
            ("snspd.setBias", ["channel": .number(1), "bias_uA": .string("high")], "bad-params"),
            ("polarization.setPosition", ["axis": .number(0)], "bad-params"),
            ("snspd.fly", [:], "unknown-method"),
            ("meter.power", [:], "unsupported-capability"),
            ("snspd.bias", ["instrument": .string("nothing"), "channel": .number(1)], "unknown-instrument"),
            ("snspd.bias", ["instrument": .number(3)], "bad-params"),
        ]
        for (method, params, code) in cases {
            do {
                _ = try await call(service, method, params)
                Issue.record("\(method) \(params) succeeded")
            } catch {
                #expect(error.code == code, "\(method) \(params): \(error.message)")
            }
        }
        // Nothing refused reached the device.
        #expect(await device.commandCount == 0)
    }

    /// The same over the wire: a remote client is refused by the node's limits, with the
    /// instrument's own words.
    @Test func remoteCallsObeyLimits() async throws {
        let (service, _) = await service()
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "agent")
        let serverKeys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()
        _ = try await ZAPAuthenticator(loop: loop, allowedClientKeys: [clientKeys.publicKey])
        let server = try await RPCServer(loop: loop, endpoint: "tcp://127.0.0.1:*", keys: serverKeys) { call throws(RPCFailure) in
            try await service.handle(call)
        }
        let client = try await RPCClient(loop: loop, endpoint: server.endpoint, keys: clientKeys, serverKey: serverKeys.publicKey)
        // Generous timeouts: tests run in parallel on a shared machine; a working server answers at once.
        #expect(try await client.call("snspd.setBias", params: .object(["instrument": .string("bench"), "channel": .number(2), "bias_uA": .number(18)]), timeout: .seconds(30)) == .null)
        do {
            _ = try await client.call("snspd.setBias", params: .object(["instrument": .string("bench"), "channel": .number(2), "bias_uA": .number(22)]), timeout: .seconds(30))
            Issue.record("22 µA was not refused")
        } catch {
            guard case let .remote(code, message) = error else { Issue.record("\(error)"); return }
            #expect(code == "limit-exceeded")
            #expect(message.contains("above the lab file's maximum bias 19 µA"))
        }
        await client.close()
        await server.close()
        await loop.shutdown()
        context.terminate()
    }
}
