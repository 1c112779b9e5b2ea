public import HeraldCore

/// Streaming N-fold coincidences: the number of tuples with one tag from each channel in
/// `channels` whose delay-corrected times all lie within `window` of each other
/// (`max − min <= window`). For two channels this is the pair count of `CoincidenceCounter`.
///
/// Each tuple is counted once, at its earliest tag (ties broken by the order of `channels`).
public final class NFoldCoincidenceCounter {
    public let channels: [Int32]
    public let window: Picoseconds
    public private(set) var count: Int64 = 0

    private var streams: ChannelStreams
    private var next: [Int]

    public init(channels: [Int32], window: Picoseconds, delays: [Int32: Picoseconds] = [:]) throws(AnalysisConfigurationError) {
        guard window.value >= 0 else { throw .invalidWindow("window \(window) is negative") }
        guard channels.count >= 2 else { throw .invalidChannels("an N-fold coincidence needs at least two channels") }
        guard Set(channels).count == channels.count else { throw .invalidChannels("channels \(channels) repeat") }
        self.channels = channels
        self.window = window
        streams = ChannelStreams(channels: channels, delays: delays)
        next = Array(repeating: 0, count: channels.count)
    }

    public func process(_ batch: TagBatch) {
        streams.append(batch)
        settle()
    }

    public func finish() {
        streams.finish()
        settle()
    }

    public func singles(_ channel: Int32) -> Int64 { streams.slot(of: channel).map { streams.seen[$0] } ?? 0 }

    private func settle() {
        let w = window.value
        let horizon = streams.minimumHorizon
        let limit = horizon == .max ? Int64.max : horizon &- w
        let k = channels.count
        for c in 0..<k {
            while true {
                let local = next[c] - streams.dropped[c]
                guard local < streams.times[c].count else { break }
                let t = streams.times[c][local]
                guard t < limit else { break }
                var product: Int64 = 1
                for s in 0..<k where s != c {
                    let n = streams.times[s].withUnsafeBufferPointer { b -> Int in
                        let lo = s < c ? upperBound(b, t) : lowerBound(b, t)
                        return upperBound(b, t &+ w, from: lo) - lo
                    }
                    product &*= Int64(n)
                    if product == 0 { break }
                }
                count &+= product
                next[c] += 1
            }
        }
        var earliest = Int64.max
        for c in 0..<k {
            let local = next[c] - streams.dropped[c]
            earliest = min(earliest, local < streams.times[c].count ? streams.times[c][local] : streams.horizons[c])
        }
        for s in 0..<k {
            let index = streams.times[s].withUnsafeBufferPointer { lowerBound($0, earliest) }
            streams.trim(s, keepingFrom: min(next[s], streams.dropped[s] + index))
        }
    }
}
