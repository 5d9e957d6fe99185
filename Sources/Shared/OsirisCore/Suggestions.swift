/// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo:
/// at most one edit for short words and about a third of the length for longer ones.
public func closestMatch(to word: String, among candidates: some Sequence<String>) -> String? {
    let target = Array(word.lowercased().unicodeScalars)
    let limit = max(1, target.count / 3)
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.lowercased().unicodeScalars), limit: limit)
        guard distance <= limit else { continue }
        if best == nil || distance < best!.distance || (distance == best!.distance && candidate < best!.candidate) {
            best = (candidate, distance)
        }
    }
    return best?.candidate
}

/// The Damerau–Levenshtein (optimal string alignment) distance, stopping early past `limit`.
func editDistance(_ lhs: [Unicode.Scalar], _ rhs: [Unicode.Scalar], limit: Int) -> Int {
    if abs(lhs.count - rhs.count) > limit { return limit + 1 }
    if lhs.isEmpty { return rhs.count }
    if rhs.isEmpty { return lhs.count }
    var previousPrevious = [Int](repeating: 0, count: rhs.count + 1)
    var previous = Array(0...rhs.count)
    var current = [Int](repeating: 0, count: rhs.count + 1)
    for i in 1...lhs.count {
        current[0] = i
        var rowMinimum = current[0]
        for j in 1...rhs.count {
            let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
            var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                value = min(value, previousPrevious[j - 2] + 1)
            }
            current[j] = value
            rowMinimum = min(rowMinimum, value)
        }
        if rowMinimum > limit { return limit + 1 }
        (previousPrevious, previous, current) = (previous, current, previousPrevious)
    }
    return previous[rhs.count]
}

/// Quotes a list of names for a message: `'a', 'b' or 'c'`.
public func quotedList(_ names: [String], conjunction: String = "or") -> String {
    let quoted = names.map { "'\($0)'" }
    switch quoted.count {
    case 0: return ""
    case 1: return quoted[0]
    default: return quoted.dropLast().joined(separator: ", ") + " \(conjunction) " + quoted.last!
    }
}

/// A noun with its indefinite article, for messages: "an integer", "a string".
public func withArticle(_ noun: String) -> String {
    guard let first = noun.lowercased().first else { return noun }
    return ("aeiou".contains(first) ? "an " : "a ") + noun
}
