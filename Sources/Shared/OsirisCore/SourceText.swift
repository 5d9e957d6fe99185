/// The text of an input file with fast access to its lines, for quoting source in diagnostics.
public struct SourceText: Sendable {
    /// The file's bytes as read.
    public let bytes: [UInt8]
    private let lineStarts: [Int]

    /// Indexes the lines of `bytes`; `\n`, `\r\n` and a lone `\r` all end a line.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                starts.append(index + 1)
            } else if byte == UInt8(ascii: "\r") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { index += 1 }
                starts.append(index + 1)
            }
            index += 1
        }
        lineStarts = starts
    }

    /// Indexes the lines of a string.
    public init(_ text: String) { self.init(bytes: Array(text.utf8)) }

    /// How many lines the text has (a final line break does not start another line).
    public var lineCount: Int {
        lineStarts.count > 1 && lineStarts.last == bytes.count ? lineStarts.count - 1 : lineStarts.count
    }

    /// The text of a 1-based line without its line break, invalid UTF-8 replaced; nil past the end.
    public func line(_ number: Int) -> String? {
        guard number >= 1, number <= lineStarts.count else { return nil }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] : bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if start == bytes.count && number > 1 { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
