extension String {
    /// Whether `needle` occurs in the string, compared byte by byte in UTF-8.
    ///
    /// Much faster than the generic `contains(_:)` of the string-processing library for the short,
    /// frequent checks the linter makes (`${`, `${params.`); no Unicode normalisation is needed
    /// for them, as the needles are ASCII.
    public func containsBytes(_ needle: String) -> Bool {
        var haystack = self
        var needle = needle
        return haystack.withUTF8 { text in
            needle.withUTF8 { pattern in
                guard let first = pattern.first else { return true }
                guard pattern.count <= text.count else { return false }
                var index = 0
                let last = text.count - pattern.count
                while index <= last {
                    if text[index] == first {
                        var matched = 1
                        while matched < pattern.count, text[index + matched] == pattern[matched] { matched += 1 }
                        if matched == pattern.count { return true }
                    }
                    index += 1
                }
                return false
            }
        }
    }
}
