/// A configuration that an analysis cannot run with.
public enum AnalysisConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidWindow(String)
    case invalidChannels(String)
    case invalidBinning(String)

    public var description: String {
        switch self {
        case let .invalidWindow(why): "invalid coincidence window: \(why)"
        case let .invalidChannels(why): "invalid channels: \(why)"
        case let .invalidBinning(why): "invalid histogram binning: \(why)"
        }
    }
}
