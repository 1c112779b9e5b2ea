import Foundation
import HeraldCore

/// `tagger.*` methods.
enum TimeTaggerMethods {
    static func call(_ name: String, _ tagger: any TimeTagger, _ params: Params) async throws -> JSONValue {
        switch name {
        case "constraints": return try encode(await tagger.timeTaggerConstraints())
        case "setTriggerLevel": try await tagger.setTriggerLevel(Volts(try params.number("level_V")), channel: try params.channel())
        case "triggerLevel": return .number(try await tagger.triggerLevel(channel: try params.channel()).value)
        case "setDeadTime": try await tagger.setDeadTime(Picoseconds(Int64(try params.integer("dead_time_ps"))), channel: try params.channel())
        case "deadTime": return .number(Double(try await tagger.deadTime(channel: try params.channel()).value))
        case "setInputDelay": try await tagger.setInputDelay(Picoseconds(Int64(try params.integer("delay_ps"))), channel: try params.channel())
        case "inputDelay": return .number(Double(try await tagger.inputDelay(channel: try params.channel()).value))
        case "setChannelEnabled": try await tagger.setChannelEnabled(try params.bool("enabled"), channel: try params.channel())
        case "isChannelEnabled": return .bool(try await tagger.isChannelEnabled(channel: try params.channel()))
        case "countRates":
            let rates = try await tagger.countRates(over: Seconds(try params.number("integration_s")))
            return .object(Dictionary(uniqueKeysWithValues: rates.map { (String($0.key), JSONValue.number($0.value.value)) }))
        default: throw RPCFailure.unknownMethod("tagger.\(name)")
        }
        return .null
    }
}

/// `snspd.*` methods.
enum SNSPDMethods {
    static func call(_ name: String, _ snspd: any SNSPDController, _ params: Params) async throws -> JSONValue {
        switch name {
        case "constraints": return try encode(await snspd.snspdConstraints())
        case "setBias": try await snspd.setBias(Microamps(try params.number("bias_uA")), channel: try params.channel())
        case "bias": return .number(try await snspd.bias(channel: try params.channel()).value)
        case "setEnabled": try await snspd.setEnabled(try params.bool("enabled"), channel: try params.channel())
        case "isEnabled": return .bool(try await snspd.isEnabled(channel: try params.channel()))
        case "setTriggerLevel": try await snspd.setTriggerLevel(Volts(try params.number("level_V")), channel: try params.channel())
        case "triggerLevel": return .number(try await snspd.triggerLevel(channel: try params.channel()).value)
        case "countRate":
            return .number(try await snspd.countRate(channel: try params.channel(), over: Seconds(try params.number("integration_s"))).value)
        case "isLatched": return .bool(try await snspd.isLatched(channel: try params.channel()))
        case "resetLatch": try await snspd.resetLatch(channel: try params.channel())
        default: throw RPCFailure.unknownMethod("snspd.\(name)")
        }
        return .null
    }
}

/// `polarization.*` methods.
enum PolarizationMethods {
    static func call(_ name: String, _ controller: any PolarizationController, _ params: Params) async throws -> JSONValue {
        switch name {
        case "constraints": return try encode(await controller.polarizationConstraints())
        case "setPosition":
            try await controller.setPosition(try Params.axisSetting(params.value, method: params.method), axis: try params.integer("axis"))
        case "position": return Params.encode(try await controller.position(axis: try params.integer("axis")))
        case "setPositions":
            guard case let .array(items)? = params.value["positions"] else {
                throw RPCFailure.badParams("\(params.method): 'positions' must be a list of {angle_deg} or {voltage_V}")
            }
            var settings: [AxisSetting] = []
            for item in items { settings.append(try Params.axisSetting(item, method: params.method)) }
            try await controller.setPositions(settings)
        case "home": try await controller.home()
        case "isHomed": return .bool(try await controller.isHomed())
        default: throw RPCFailure.unknownMethod("polarization.\(name)")
        }
        return .null
    }
}

/// `laser.*` methods.
enum LaserMethods {
    static func call(_ name: String, _ laser: any Laser, _ params: Params) async throws -> JSONValue {
        switch name {
        case "constraints": return try encode(await laser.laserConstraints())
        case "setWavelength": try await laser.setWavelength(Nanometers(try params.number("wavelength_nm")))
        case "wavelength": return .number(try await laser.wavelength().value)
        case "setFineTuning": try await laser.setFineTuning(Hertz(try params.number("offset_Hz")))
        case "fineTuning": return .number(try await laser.fineTuning().value)
        case "setPower": try await laser.setPower(Watts(milliwatts: try params.number("power_mW")))
        case "powerSetpoint": return .number(try await laser.powerSetpoint().milliwatts)
        case "power": return .number(try await laser.power().milliwatts)
        case "setEmission": try await laser.setEmission(try params.bool("on"))
        case "isEmitting": return .bool(try await laser.isEmitting())
        case "status": return try encode(try await laser.laserStatus())
        default: throw RPCFailure.unknownMethod("laser.\(name)")
        }
        return .null
    }
}

/// `meter.*` methods.
enum PowerMeterMethods {
    static func call(_ name: String, _ meter: any PowerMeter, _ params: Params) async throws -> JSONValue {
        switch name {
        case "constraints": return try encode(await meter.powerMeterConstraints())
        case "power": return .number(try await meter.measuredPower().value)
        case "setWavelength": try await meter.setCorrectionWavelength(Nanometers(try params.number("wavelength_nm")))
        case "wavelength": return .number(try await meter.correctionWavelength().value)
        case "setPowerRange": try await meter.setPowerRange(try params.optionalNumber("range_W").map { Watts($0) })
        default: throw RPCFailure.unknownMethod("meter.\(name)")
        }
        return .null
    }
}
