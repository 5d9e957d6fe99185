import OsirisCore

/// Turns seed files into mutants: byte flips, inserts, deletes, splices between seeds, structural
/// tokens of the input's language, deep nesting, huge numbers and invalid UTF-8, stacked one to four
/// at a time.
struct Mutator {
    /// The syntax whose tokens are inserted.
    enum Language { case yaml, json }

    let seeds: [[UInt8]]
    let language: Language
    /// Mutants are cut to this size so one input never takes long to parse.
    let maximumSize = 256 * 1024

    private static let yamlTokens: [String] = [
        ": ", "- ", "\n", "\n  ", "\n    - ", "{", "}", "[", "]", ", ", "&a ", "*a", "<<: *a", "!!str ", "!!binary ", "!!int ",
        "!custom ", "---\n", "...\n", "'", "\"", "#", "|\n", ">-\n", "? ", "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "\t", "~", "null",
        "true", "no", "yes", "0o17", "0x1F", ".inf", "-.nan", "${VAR}", "${", "@pg.shop", "@", "{{ params.x }}", "params.",
        "oml_version", "steps", "needs", "component", "mode", "config", "connection", "id", "write_mode", "primary_key",
        "# osiris-lint: disable=OML104\n", "\u{FEFF}", "\r\n", "\\u0000", "\"\\x00\"", "'''", "\u{0085}", "\u{2028}",
    ]
    private static let jsonTokens: [String] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\u0000", "null", "true", "false", "-", "0", "-0",
        "1e309", "-1e309", "1.5e-400", "00", "0.", ".5", "\"\":", "{\"a\":", "\"id\":", "\"method\":", "\"params\":", "\"steps\":",
        "\"needs\":", "\"config\":", "\"order\":", "\"connection\":", "\"snapshot_version\":", "\"tables\":", "\"columns\":",
        "\"jsonrpc\":\"2.0\"", "\"exit_code\":", "\"offset\":", "\"length\":", "\"jobs\":", "\"retry\":", "\"attempts\":",
        "\"backoff_ms\":", "\t", "\n", " ", "\u{FEFF}",
    ]
    private static let hugeNumbers: [String] = [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "99999999999999999999999999999999999999", "2147483648", "-2147483649", "4294967296",
        "1e308", "1e309", "-1e400", "1.7976931348623157e308", "4.9e-324", "0.000000000000000000000000000001", "1E+2147483648",
        "123456789012345678901234567890.123456789", "-0", "0x7FFFFFFFFFFFFFFF", "1_000_000", "NaN", "Infinity", "-1",
    ]
    private static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xFE], [0xC0, 0x80], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
        [0x80], [0xBF], [0xEF, 0xBB, 0xBF], [0x00], [0xF0, 0x9F, 0x98], [0xC2, 0xA0], [0xE0, 0x80, 0xAF],
    ]

    private static let listItem = Array("- x:\n".utf8)

    /// `unit` `count` times over.
    private static func repeated(_ unit: [UInt8], _ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(unit.count * count)
        for _ in 0..<count { bytes.append(contentsOf: unit) }
        return bytes
    }

    /// One mutant of a seed chosen with `random`.
    func mutant(_ random: inout SplitMix64) -> [UInt8] {
        var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
        let count = 1 + Int(random.next() % 4)
        for _ in 0..<count { mutate(&bytes, &random) }
        if bytes.count > maximumSize { bytes.removeLast(bytes.count - maximumSize) }
        return bytes
    }

    private func position(_ bytes: [UInt8], _ random: inout SplitMix64) -> Int {
        Int(random.next() % UInt64(bytes.count + 1))
    }

    private func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        switch random.next() % 11 {
        case 0:  // flip bits of a few bytes
            guard !bytes.isEmpty else { return }
            for _ in 0..<(1 + random.next() % 4) {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
            }
        case 1:  // set a byte to a random value
            guard !bytes.isEmpty else { return }
            bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
        case 2:  // insert random bytes
            let inserted = (0..<(1 + random.next() % 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            bytes.insert(contentsOf: inserted, at: position(bytes, &random))
        case 3:  // delete a range
            guard !bytes.isEmpty else { return }
            let start = Int(random.next() % UInt64(bytes.count))
            let length = min(bytes.count - start, 1 + Int(random.next() % 64))
            bytes.removeSubrange(start..<(start + length))
        case 4:  // duplicate a range
            guard !bytes.isEmpty else { return }
            let start = Int(random.next() % UInt64(bytes.count))
            let length = min(bytes.count - start, 1 + Int(random.next() % 256))
            let copy = Array(bytes[start..<(start + length)])
            bytes.insert(contentsOf: copy, at: position(bytes, &random))
        case 5:  // splice: this seed's head with another seed's tail
            let other = seeds[Int(random.next() % UInt64(seeds.count))]
            let cut = position(bytes, &random)
            let otherCut = Int(random.next() % UInt64(other.count + 1))
            bytes = Array(bytes[..<cut]) + Array(other[otherCut...])
        case 6, 7:  // a structural token of the language
            let tokens = language == .yaml ? Self.yamlTokens : Self.jsonTokens
            let token = tokens[Int(random.next() % UInt64(tokens.count))]
            bytes.insert(contentsOf: Array(token.utf8), at: position(bytes, &random))
        case 8:  // deep nesting
            let depth = 1 + Int(random.next() % 3000)
            let nesting: [UInt8]
            // Built as bytes: String(repeating:) appends one copy at a time, and this case alone took
            // most of the worker target's time (2,000 mutants a batch).
            switch random.next() % 4 {
            case 0: nesting = Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
            case 1: nesting = Self.repeated(Array(#"{"a":"#.utf8), depth) + Array(repeating: UInt8(ascii: "}"), count: depth)
            case 2:
                var lines: [UInt8] = []
                let count = min(depth, 400)
                lines.reserveCapacity(count * (count + 11) / 2)
                for indent in 0..<count {
                    lines.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
                    lines.append(contentsOf: Self.listItem)
                }
                nesting = lines
            default: nesting = Array(repeating: UInt8(ascii: "["), count: depth)
            }
            bytes.insert(contentsOf: nesting, at: position(bytes, &random))
        case 9:  // a huge or odd number, replacing a digit run when there is one
            let number = Array(Self.hugeNumbers[Int(random.next() % UInt64(Self.hugeNumbers.count))].utf8)
            let digits = bytes.indices.filter { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
            if !digits.isEmpty, random.next() % 2 == 0 {
                var start = digits[Int(random.next() % UInt64(digits.count))]
                var end = start
                while start > 0, bytes[start - 1] >= 0x30, bytes[start - 1] <= 0x39 { start -= 1 }
                while end + 1 < bytes.count, bytes[end + 1] >= 0x30, bytes[end + 1] <= 0x39 { end += 1 }
                bytes.replaceSubrange(start...end, with: number)
            } else {
                bytes.insert(contentsOf: number, at: position(bytes, &random))
            }
        default:  // invalid UTF-8
            let sequence = Self.invalidUTF8[Int(random.next() % UInt64(Self.invalidUTF8.count))]
            bytes.insert(contentsOf: sequence, at: position(bytes, &random))
        }
    }
}
