/// Core-schema (YAML 1.2) scalar resolution, hand-written over UTF-8 bytes (no regular expressions).
enum ScalarResolver {
    static let tagPrefix = "tag:yaml.org,2002:"

    /// Resolves an untagged plain scalar.
    static func resolvePlain(_ bytes: UnsafeBufferPointer<UInt8>, text: String) -> YAMLScalarValue {
        guard let first = bytes.first else { return .null }
        switch first {
        case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"):
            if isNull(text) { return .null }
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            if let value = bool(text) { return .bool(value) }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            if let value = integer(bytes, text: text) { return value }
            if let value = float(bytes, text: text) { return .float(value) }
        default:
            break
        }
        return .string(text)
    }

    /// Resolves a scalar carrying an explicit tag; core types fall back to a string when the text does not parse.
    static func resolveTagged(_ bytes: UnsafeBufferPointer<UInt8>, text: String, tag: String) -> YAMLScalarValue {
        guard tag.hasPrefix(tagPrefix) else { return .string(text) }
        switch tag.dropFirst(tagPrefix.count) {
        case "null":
            if isNull(text) { return .null }
        case "bool":
            if let value = bool(text) { return .bool(value) }
        case "int":
            if let value = integer(bytes, text: text) { return value }
        case "float":
            if let value = float(bytes, text: text) { return .float(value) }
        default:
            break
        }
        return .string(text)
    }

    static func isNull(_ text: String) -> Bool {
        switch text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte &- UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte &- UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`; a value too large for `Int` becomes a float.
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>, text: String) -> YAMLScalarValue? {
        let count = bytes.count
        guard count > 0 else { return nil }
        if count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "o") || bytes[1] == UInt8(ascii: "x") {
            let radix = bytes[1] == UInt8(ascii: "o") ? 8 : 16
            var value = 0
            var approximate = 0.0
            var overflow = false
            for index in 2..<count {
                guard let digit = hexDigit(bytes[index]), digit < radix else { return nil }
                approximate = approximate * Double(radix) + Double(digit)
                if !overflow {
                    let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
                    let (sum, o2) = shifted.addingReportingOverflow(digit)
                    if o1 || o2 { overflow = true } else { value = sum }
                }
            }
            return overflow ? .float(approximate) : .int(value)
        }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        guard index < count else { return nil }
        var value = 0
        var overflow = false
        while index < count {
            let byte = bytes[index]
            guard isDigit(byte) else { return nil }
            if !overflow {
                let digit = Int(byte &- UInt8(ascii: "0"))
                let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                if o1 || o2 { overflow = true } else { value = sum }
            }
            index += 1
        }
        if overflow {
            guard let double = Double(text) else { return nil }
            return .float(double)
        }
        return .int(value)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?\.(inf|Inf|INF)`, `\.(nan|NaN|NAN)`.
    static func float(_ bytes: UnsafeBufferPointer<UInt8>, text: String) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        guard index < count else { return nil }
        if bytes[index] == UInt8(ascii: "."), count - index == 4 {
            let word = text.utf8.dropFirst(index + 1)
            if word.elementsEqual("inf".utf8) || word.elementsEqual("Inf".utf8) || word.elementsEqual("INF".utf8) {
                return negative ? -.infinity : .infinity
            }
            if index == 0, word.elementsEqual("nan".utf8) || word.elementsEqual("NaN".utf8) || word.elementsEqual("NAN".utf8) {
                return .nan
            }
        }
        var integerDigits = 0
        while index < count, isDigit(bytes[index]) { index += 1; integerDigits += 1 }
        var fractionDigits = 0
        var hasPoint = false
        if index < count, bytes[index] == UInt8(ascii: ".") {
            hasPoint = true
            index += 1
            while index < count, isDigit(bytes[index]) { index += 1; fractionDigits += 1 }
        }
        // Either digits before the point, or (with no integer digits) at least one after it.
        guard integerDigits > 0 || (hasPoint && fractionDigits > 0) else { return nil }
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            var exponentDigits = 0
            while index < count, isDigit(bytes[index]) { index += 1; exponentDigits += 1 }
            guard exponentDigits > 0 else { return nil }
        }
        guard index == count else { return nil }
        if let value = Double(text) { return value }
        // The grammar allows forms the standard parser may reject ("1.", ".5e3"); normalise them.
        var normalised = ""
        normalised.reserveCapacity(count + 2)
        var previous: UInt8 = 0
        for (offset, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "."), !isDigit(previous) { normalised.append("0") }
            normalised.unicodeScalars.append(Unicode.Scalar(byte))
            if byte == UInt8(ascii: "."), offset + 1 == count || !isDigit(bytes[offset + 1]) { normalised.append("0") }
            previous = byte
        }
        return Double(normalised)
    }
}
