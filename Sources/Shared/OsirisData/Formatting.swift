/// Text forms of values, written straight into byte buffers.
package enum Formatting {
    /// Appends the decimal digits of `value`.
    @inline(__always)
    package static func appendInt(_ value: Int64, to output: Buffer<UInt8>) {
        output.reserve(20)
        var magnitude = value.magnitude
        var pointer = output.base + output.count
        if value < 0 {
            pointer.pointee = UInt8(ascii: "-")
            pointer += 1
        }
        // Digits come out last first: count them, then fill from the right.
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits &+= 1
        }
        var cursor = pointer + digits
        repeat {
            cursor -= 1
            let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: 10)
            cursor.pointee = UInt8(truncatingIfNeeded: remainder) &+ UInt8(ascii: "0")
            magnitude = quotient
        } while magnitude != 0
        output.count = pointer + digits - output.base
    }

    /// Appends Swift's shortest round-trip text of `value`: `1.0`, `1e-05`, `inf`, `-inf`, `nan`.
    @inline(__always)
    static func appendDouble(_ value: Double, to output: Buffer<UInt8>) {
        var text = value.description
        text.withUTF8 { output.append($0.baseAddress!, count: $0.count) }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends `\x` and the lowercase hexadecimal of `bytes`, the PostgreSQL text form of bytea.
    static func appendHex(_ bytes: UnsafeRawBufferPointer, to output: Buffer<UInt8>) {
        output.reserve(2 + bytes.count * 2)
        var pointer = output.base + output.count
        pointer[0] = UInt8(ascii: "\\")
        pointer[1] = UInt8(ascii: "x")
        pointer += 2
        let digits = hexDigits.utf8Start
        for byte in bytes {
            pointer[0] = digits[Int(byte >> 4)]
            pointer[1] = digits[Int(byte & 0xf)]
            pointer += 2
        }
        output.count = pointer - output.base
    }
}
