/// One heralded entanglement attempt, as the heralding station announces it.
public struct HeraldRecord: Codable, Sendable, Hashable {
    /// The attempt's id, unique per station run.
    public var attempt: UInt64
    /// The detection window on the station's time base, ps: [begin, end).
    public var windowBegin: Int64
    public var windowEnd: Int64
    /// Which Bell state the measurement projected onto.
    public var outcome: BellOutcome
    /// After this wall-clock time (ns since 1970) the herald is stale: nodes must not apply it.
    public var expiresAtNanoseconds: Int64

    public init(attempt: UInt64, windowBegin: Int64, windowEnd: Int64, outcome: BellOutcome, expiresAtNanoseconds: Int64) {
        self.attempt = attempt
        self.windowBegin = windowBegin
        self.windowEnd = windowEnd
        self.outcome = outcome
        self.expiresAtNanoseconds = expiresAtNanoseconds
    }
}

/// A Bell-state measurement outcome. A linear-optics analyzer resolves only ψ⁺ and ψ⁻.
public enum BellOutcome: String, Codable, Sendable, Hashable, CaseIterable {
    case phiPlus = "phi+", phiMinus = "phi-", psiPlus = "psi+", psiMinus = "psi-"

    /// The Pauli correction that maps this outcome's state onto Φ⁺ (applied at one end node).
    public var correction: PauliFrame {
        switch self {
        case .phiPlus: PauliFrame(x: false, z: false)
        case .phiMinus: PauliFrame(x: false, z: true)
        case .psiPlus: PauliFrame(x: true, z: false)
        case .psiMinus: PauliFrame(x: true, z: true)
        }
    }
}

/// A Pauli frame X^x Z^z, tracked in software instead of applied to the photon (up to phase).
public struct PauliFrame: Codable, Sendable, Hashable, CustomStringConvertible {
    public var x: Bool
    public var z: Bool
    public init(x: Bool, z: Bool) {
        self.x = x
        self.z = z
    }
    public static let identity = PauliFrame(x: false, z: false)
    /// Composes two frames (Paulis commute up to phase).
    public func composed(with other: PauliFrame) -> PauliFrame { PauliFrame(x: x != other.x, z: z != other.z) }
    public var description: String { x ? (z ? "Y" : "X") : (z ? "Z" : "I") }
}

/// An end node's answer to a herald.
public struct HeraldAck: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable, Hashable {
        /// The feedforward was applied (once, however often the herald arrived).
        case applied
        /// The herald arrived after it expired and was not applied.
        case expired
    }
    public var attempt: UInt64
    public var status: Status
    public init(attempt: UInt64, status: Status) {
        self.attempt = attempt
        self.status = status
    }
}

/// What became of one herald at one node, as the station accounts for it.
public enum HeraldVerdict: String, Codable, Sendable, Hashable {
    /// Sent, no answer yet, not yet expired.
    case pending
    case applied
    case expired
    /// Expired with no answer: the node may never have seen it (see `reconcile`).
    case lost
}

/// Deterministic message faults for tests of the accounting: each outgoing message is dropped
/// with probability `drop`, otherwise sent twice with probability `duplicate`.
public struct FaultInjection: Sendable, Hashable {
    public var drop: Double
    public var duplicate: Double
    public var seed: UInt64
    public init(drop: Double, duplicate: Double, seed: UInt64) {
        self.drop = drop
        self.duplicate = duplicate
        self.seed = seed
    }

    /// How many copies of message number `index` to send (0, 1 or 2).
    func copies(of index: UInt64) -> Int {
        var state = seed &+ index &* 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        if next() < drop { return 0 }
        return next() < duplicate ? 2 : 1
    }
}
