/// "Did you mean ...?" for a misspelled key or name: the closest candidate by edit distance,
/// if it is close enough to be a plausible typo.
func closestName(to word: String, among candidates: [String]) -> String? {
    let lowered = word.lowercased()
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(lowered, candidate.lowercased())
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    guard let best else { return nil }
    let allowed = max(2, min(word.count, best.name.count) / 3)
    if best.distance <= allowed { return best.name }
    // A truncated or extended key ("bias" for "bias_max_uA") is a plausible typo too.
    let prefixMatches = candidates.filter {
        $0.lowercased().hasPrefix(lowered) || lowered.hasPrefix($0.lowercased())
    }
    return prefixMatches.count == 1 ? prefixMatches[0] : nil
}

/// Levenshtein distance between two strings, by characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
