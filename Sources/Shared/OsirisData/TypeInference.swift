#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level recognisers for the CSV reader's type inference, and the conversion of a batch's raw
/// text columns to their inferred types.
///
/// Every inferred type writes back byte for byte: integers only without leading zeros or `-0`,
/// decimals and dates kept as their text, floats only when the text is exactly Swift's shortest
/// form of the number, booleans only as lowercase `true`/`false`.
enum TypeInference {
    /// The types a value could belong to, as bits.
    struct Kinds: OptionSet {
        let rawValue: UInt16
        static let int64 = Kinds(rawValue: 1 << 0)
        static let decimal = Kinds(rawValue: 1 << 1)
        /// Any number form, including exponents; a float64 column needs all of them to round-trip.
        static let number = Kinds(rawValue: 1 << 2)
        static let bool = Kinds(rawValue: 1 << 3)
        static let date = Kinds(rawValue: 1 << 4)
        static let time = Kinds(rawValue: 1 << 5)
        static let timestamp = Kinds(rawValue: 1 << 6)
        static let timestamptz = Kinds(rawValue: 1 << 7)
        static let all = Kinds(rawValue: 0xff)
    }

    typealias Bytes = UnsafePointer<UInt8>

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Parses `0` or `-?[1-9][0-9]*` fitting in Int64.
    @inline(__always)
    static func parseInt(_ pointer: Bytes, _ count: Int) -> Int64? {
        if count == 0 || count > 20 { return nil }
        var index = 0
        let negative = pointer[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        let digits = count - index
        if digits == 0 { return nil }
        let first = pointer[index]
        if first == UInt8(ascii: "0") {
            return digits == 1 && !negative ? 0 : nil
        }
        var magnitude: UInt64 = 0
        if digits <= 18 {
            while index < count {
                let digit = pointer[index] &- UInt8(ascii: "0")
                if digit >= 10 { return nil }
                magnitude = magnitude &* 10 &+ UInt64(digit)
                index &+= 1
            }
            let value = Int64(magnitude)
            return negative ? -value : value
        }
        if digits > 19 { return nil }
        while index < count {
            let digit = pointer[index] &- UInt8(ascii: "0")
            if digit >= 10 { return nil }
            let (product, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
            index &+= 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? nil : Int64(magnitude)
    }

    /// For `0`, `-?[1-9][0-9]*` (any length) or `-?(0|[1-9][0-9]*)\.[0-9]+`: the digits before the
    /// point (a lone `0` counts none) and after it.
    @inline(__always)
    static func decimalShape(_ pointer: Bytes, _ count: Int) -> (integerDigits: Int, scale: Int)? {
        var index = 0
        if count > 0, pointer[0] == UInt8(ascii: "-") { index = 1 }
        let integerStart = index
        while index < count, isDigit(pointer[index]) { index += 1 }
        let integerDigits = index - integerStart
        if integerDigits == 0 { return nil }
        if integerDigits > 1, pointer[integerStart] == UInt8(ascii: "0") { return nil }
        let significant = pointer[integerStart] == UInt8(ascii: "0") ? 0 : integerDigits
        if index == count {
            // An integer: "-0" would not write back as it was read.
            if integerStart == 1, significant == 0 { return nil }
            return (significant, 0)
        }
        if pointer[index] != UInt8(ascii: ".") { return nil }
        index += 1
        let fractionStart = index
        while index < count, isDigit(pointer[index]) { index += 1 }
        if index != count || index == fractionStart { return nil }
        return (significant, count - fractionStart)
    }

    /// Whether the text is a number with an exponent: `-?(0|[1-9][0-9]*)(\.[0-9]+)?[eE][+-]?[0-9]+`.
    static func isExponentNumber(_ pointer: Bytes, _ count: Int) -> Bool {
        var index = 0
        if count > 0, pointer[0] == UInt8(ascii: "-") { index = 1 }
        let integerStart = index
        while index < count, isDigit(pointer[index]) { index += 1 }
        if index == integerStart || (index - integerStart > 1 && pointer[integerStart] == UInt8(ascii: "0")) { return false }
        if index < count, pointer[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < count, isDigit(pointer[index]) { index += 1 }
            if index == fractionStart { return false }
        }
        guard index < count, pointer[index] | 0x20 == UInt8(ascii: "e") else { return false }
        index += 1
        if index < count, pointer[index] == UInt8(ascii: "+") || pointer[index] == UInt8(ascii: "-") { index += 1 }
        let exponentStart = index
        while index < count, isDigit(pointer[index]) { index += 1 }
        return index == count && index > exponentStart
    }

    /// The number, when the text is exactly Swift's shortest round-trip form of it (`0.5`, `1e-05`).
    static func roundTripDouble(_ pointer: Bytes, _ count: Int) -> Double? {
        if count == 0 || count > 32 { return nil }
        let text = String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        var description = value.description
        let same = description.withUTF8 { $0.count == count && memcmp($0.baseAddress!, pointer, count) == 0 }
        return same ? value : nil
    }

    /// For text of decimal shape: whether it is Swift's shortest form of its number, without
    /// building a string in the common cases (an integer never is: `3` prints as `3.0`; up to 15
    /// significant digits without a trailing zero always are, unless below 1e-4, which prints with an exponent).
    static func plainDecimalRoundTrips(_ pointer: Bytes, _ count: Int) -> Bool {
        guard let point = memchr(pointer, Int32(UInt8(ascii: ".")), count) else { return false }
        let pointIndex = UnsafeRawPointer(point) - UnsafeRawPointer(pointer)
        if pointer[count - 1] == UInt8(ascii: "0") || count > 16 { return roundTripDouble(pointer, count) != nil }
        let integerStart = pointer[0] == UInt8(ascii: "-") ? 1 : 0
        if pointIndex - integerStart == 1, pointer[integerStart] == UInt8(ascii: "0") {
            var zeros = 0
            while pointIndex + 1 + zeros < count, pointer[pointIndex + 1 + zeros] == UInt8(ascii: "0") { zeros += 1 }
            return zeros < 4
        }
        return true
    }

    /// The number of any decimal or exponent form (`1`, `2.50`, `1e5`): what a column declared float64
    /// accepts. An inferred float64 column only ever holds values of `roundTripDouble`'s exact form.
    static func anyDouble(_ pointer: Bytes, _ count: Int) -> Double? {
        if let value = roundTripDouble(pointer, count) { return value }
        guard count > 0, decimalShape(pointer, count) != nil || isExponentNumber(pointer, count) else { return nil }
        let value = Double(String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self))
        return value?.isFinite == true ? value : nil
    }

    /// Whether the text is `true`.
    @inline(__always)
    static func isTrue(_ pointer: Bytes, _ count: Int) -> Bool {
        count == 4 && pointer[0] == UInt8(ascii: "t") && pointer[1] == UInt8(ascii: "r")
            && pointer[2] == UInt8(ascii: "u") && pointer[3] == UInt8(ascii: "e")
    }

    /// Whether the text is `false`.
    @inline(__always)
    static func isFalse(_ pointer: Bytes, _ count: Int) -> Bool {
        count == 5 && pointer[0] == UInt8(ascii: "f") && pointer[1] == UInt8(ascii: "a")
            && pointer[2] == UInt8(ascii: "l") && pointer[3] == UInt8(ascii: "s") && pointer[4] == UInt8(ascii: "e")
    }

    /// Two digits at `index` as a number, or nil.
    @inline(__always)
    private static func twoDigits(_ pointer: Bytes, _ index: Int) -> Int? {
        let high = pointer[index] &- UInt8(ascii: "0")
        let low = pointer[index + 1] &- UInt8(ascii: "0")
        if high >= 10 || low >= 10 { return nil }
        return Int(high) * 10 + Int(low)
    }

    /// Whether the 10 bytes at `pointer` are `YYYY-MM-DD` with a month 01–12 and a day 01–31.
    @inline(__always)
    private static func isDatePart(_ pointer: Bytes) -> Bool {
        guard isDigit(pointer[0]), isDigit(pointer[1]), isDigit(pointer[2]), isDigit(pointer[3]),
              pointer[4] == UInt8(ascii: "-"), pointer[7] == UInt8(ascii: "-"),
              let month = twoDigits(pointer, 5), let day = twoDigits(pointer, 8)
        else { return false }
        return month >= 1 && month <= 12 && day >= 1 && day <= 31
    }

    /// The length of a `HH:MM:SS(.fraction)?` time at the start of the text (hours 00–23, minutes
    /// 00–59, seconds 00–60), or 0.
    @inline(__always)
    private static func timePartLength(_ pointer: Bytes, _ count: Int) -> Int {
        guard count >= 8, pointer[2] == UInt8(ascii: ":"), pointer[5] == UInt8(ascii: ":"),
              let hour = twoDigits(pointer, 0), let minute = twoDigits(pointer, 3), let second = twoDigits(pointer, 6),
              hour <= 23, minute <= 59, second <= 60
        else { return 0 }
        var index = 8
        if index < count, pointer[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < count, isDigit(pointer[index]) { index += 1 }
            if index == fractionStart { return 0 }
        }
        return index
    }

    /// Whether the text is a zone suffix: `Z`, `±HH`, `±HH:MM` or `±HHMM`.
    @inline(__always)
    private static func isZone(_ pointer: Bytes, _ count: Int) -> Bool {
        if count == 1 { return pointer[0] == UInt8(ascii: "Z") }
        guard count >= 3, pointer[0] == UInt8(ascii: "+") || pointer[0] == UInt8(ascii: "-"),
              let hours = twoDigits(pointer, 1), hours <= 23
        else { return false }
        switch count {
        case 3: return true
        case 5: if let minutes = twoDigits(pointer, 3) { return minutes <= 59 }
        case 6: if pointer[3] == UInt8(ascii: ":"), let minutes = twoDigits(pointer, 4) { return minutes <= 59 }
        default: break
        }
        return false
    }

    /// The date and time kinds the text belongs to (none, or one of date, time, timestamp, timestamptz).
    @inline(__always)
    static func temporalKind(_ pointer: Bytes, _ count: Int) -> Kinds {
        if count == 10 { return isDatePart(pointer) ? .date : [] }
        if count < 8 { return [] }
        if pointer[2] == UInt8(ascii: ":") { return timePartLength(pointer, count) == count ? .time : [] }
        guard count >= 19, isDatePart(pointer), pointer[10] == UInt8(ascii: "T") || pointer[10] == UInt8(ascii: " ") else { return [] }
        let timeLength = timePartLength(pointer + 11, count - 11)
        if timeLength == 0 { return [] }
        let rest = count - 11 - timeLength
        if rest == 0 { return .timestamp }
        return isZone(pointer + 11 + timeLength, rest) ? .timestamptz : []
    }

    /// Every kind the value could belong to.
    static func classify(_ pointer: Bytes, _ count: Int) -> Kinds {
        if count == 0 { return [] }
        let first = pointer[0]
        if isDigit(first) || first == UInt8(ascii: "-") {
            if decimalShape(pointer, count) != nil {
                if let isInteger = integerFitsOrOverflows(pointer, count) {
                    return isInteger ? [.int64, .decimal, .number] : [.decimal, .number]
                }
                return [.decimal, .number]
            }
            if isExponentNumber(pointer, count) { return .number }
            return temporalKind(pointer, count)
        }
        return isTrue(pointer, count) || isFalse(pointer, count) ? .bool : []
    }

    /// For text already known to be a decimal shape: true when it is an integer fitting Int64,
    /// false when an integer that does not fit, nil when it has a fraction.
    @inline(__always)
    private static func integerFitsOrOverflows(_ pointer: Bytes, _ count: Int) -> Bool? {
        if memchr(pointer, Int32(UInt8(ascii: ".")), count) != nil { return nil }
        return parseInt(pointer, count) != nil
    }

    /// What a scan of every value of one column found: the kinds all of them belong to, and for
    /// decimals the widest integer part and scale.
    struct ColumnScan {
        var kinds = Kinds.all
        var seen = false
        var integerDigits = 0
        var scale = 0

        /// Adds one non-null value. A float64 column needs every value to be Swift's shortest form of
        /// its number, which is checked only while float64 is still possible.
        @inline(__always)
        mutating func add(_ pointer: Bytes, _ count: Int) {
            seen = true
            if kinds.isEmpty { return }
            // Fast paths for the common columns, which skip the general classification.
            if kinds.isSubset(of: Self.temporal) {
                kinds.formIntersection(temporalKind(pointer, count))
                return
            }
            if kinds.contains(.decimal), let shape = decimalShape(pointer, count) {
                var valueKinds: Kinds = [.decimal, .number]
                // Only integers have no scale; int64 needs them to fit in 64 bits.
                if shape.scale == 0, kinds.contains(.int64), parseInt(pointer, count) != nil { valueKinds.insert(.int64) }
                kinds.formIntersection(valueKinds)
                integerDigits = max(integerDigits, shape.integerDigits)
                scale = max(scale, shape.scale)
                if kinds.contains(.number), shape.scale == 0 || !plainDecimalRoundTrips(pointer, count) { kinds.remove(.number) }
                return
            }
            let valueKinds = classify(pointer, count)
            kinds.formIntersection(valueKinds)
            if kinds.contains(.number) {
                let exact = valueKinds.contains(.decimal)
                    ? plainDecimalRoundTrips(pointer, count) : roundTripDouble(pointer, count) != nil
                if !exact { kinds.remove(.number) }
            }
        }

        /// Adds what another scan of other rows of the same column found: every value's kinds are
        /// intersected and the digits take the larger, so the order of the rows does not matter.
        mutating func merge(_ other: ColumnScan) {
            kinds.formIntersection(other.kinds)
            seen = seen || other.seen
            integerDigits = max(integerDigits, other.integerDigits)
            scale = max(scale, other.scale)
        }

        private static let temporal: Kinds = [.date, .time, .timestamp, .timestamptz]

        /// The column's type: the narrowest every value fits; decimals with the precision and scale
        /// that cover them all.
        func field(named name: String) -> Field {
            let type = TypeInference.type(of: kinds, seen: seen)
            if type == .decimal { return Field(name: name, type: .decimal, precision: max(1, integerDigits + scale), scale: scale) }
            return Field(name: name, type: type)
        }
    }

    /// The narrowest type of a set of kinds; text when no value was seen or none is shared.
    static func type(of kinds: Kinds, seen: Bool) -> LogicalType {
        if !seen { return .text }
        if kinds.contains(.int64) { return .int64 }
        if kinds.contains(.decimal) { return .decimal }
        if kinds.contains(.number) { return .float64 }
        if kinds.contains(.bool) { return .bool }
        if kinds.contains(.date) { return .date }
        if kinds.contains(.time) { return .time }
        if kinds.contains(.timestamp) { return .timestamp }
        if kinds.contains(.timestamptz) { return .timestamptz }
        return .text
    }

    /// Whether one value fits a field's type (for decimals, within its precision and scale when known).
    static func fits(_ pointer: Bytes, _ count: Int, _ field: Field) -> Bool {
        switch field.type {
        case .text, .bytes, .json, .uuid: return true
        case .int64: return parseInt(pointer, count) != nil
        case .float64: return anyDouble(pointer, count) != nil
        case .bool: return isTrue(pointer, count) || isFalse(pointer, count)
        case .decimal:
            guard let shape = decimalShape(pointer, count) else { return false }
            guard let precision = field.precision, let scale = field.scale else { return true }
            return shape.scale <= scale && shape.integerDigits <= precision - scale
        case .date: return temporalKind(pointer, count) == .date
        case .time: return temporalKind(pointer, count) == .time
        case .timestamp: return temporalKind(pointer, count) == .timestamp
        case .timestamptz: return temporalKind(pointer, count) == .timestamptz
        }
    }

    /// The type of a raw text column from its values (nulls ignored; no values at all is text).
    static func inferField(_ column: Column, named name: String) -> Field {
        var scan = ColumnScan()
        for row in 0..<column.count where !column.isNull(row) {
            let (pointer, count) = column.bytes(row)
            scan.add(pointer, count)
        }
        return scan.field(named: name)
    }

    /// Converts a raw text column to `field`'s type, exactly: the converted column, or the first row
    /// whose value does not fit (the stream's schema never changes, so nothing falls back to text).
    static func convert(_ column: Column, to field: Field) -> Result<Column, RowMismatch> {
        switch field.type {
        case .text:
            return .success(column)
        case .bytes, .json, .uuid:
            return .success(column.relabeled(field.type))
        case .int64:
            let words = Buffer<Int64>(capacity: column.count)
            let output = words.base
            let offsets = column.words.base
            let data = column.data.base
            for row in 0..<column.count {
                let start = Int(offsets[row])
                let length = Int(offsets[row + 1]) - start
                if length == 0, column.isNull(row) {
                    output[row] = 0
                    continue
                }
                guard let value = parseInt(data + start, length) else { return .failure(RowMismatch(row: row)) }
                output[row] = value
            }
            words.count = column.count
            return .success(Column(type: .int64, count: column.count, nullCount: column.nullCount, validity: column.validity,
                                   data: Buffer(capacity: 1), words: words))
        case .float64:
            let words = Buffer<Int64>(capacity: column.count)
            for row in 0..<column.count {
                if column.isNull(row) {
                    words.append(0)
                    continue
                }
                let (pointer, length) = column.bytes(row)
                guard let value = anyDouble(pointer, length) else { return .failure(RowMismatch(row: row)) }
                words.append(Int64(bitPattern: value.bitPattern))
            }
            return .success(Column(type: .float64, count: column.count, nullCount: column.nullCount, validity: column.validity,
                                   data: Buffer(capacity: 1), words: words))
        case .bool:
            let data = Buffer<UInt8>(capacity: column.count)
            for row in 0..<column.count {
                if column.isNull(row) {
                    data.append(0)
                    continue
                }
                let (pointer, length) = column.bytes(row)
                if isTrue(pointer, length) {
                    data.append(1)
                } else if isFalse(pointer, length) {
                    data.append(0)
                } else {
                    return .failure(RowMismatch(row: row))
                }
            }
            return .success(Column(type: .bool, count: column.count, nullCount: column.nullCount, validity: column.validity,
                                   data: data, words: Buffer(capacity: 1)))
        case .decimal, .date, .time, .timestamp, .timestamptz:
            for row in 0..<column.count where !column.isNull(row) {
                let (pointer, length) = column.bytes(row)
                if !fits(pointer, length, field) { return .failure(RowMismatch(row: row)) }
            }
            return .success(column.relabeled(field.type))
        }
    }

    /// The row of a batch whose value does not fit its column's type.
    struct RowMismatch: Error {
        var row: Int
    }
}
