import OsirisCore

/// The `# oml-lint: disable=CODE[,CODE...] reason` comments of a file. Each silences its codes on
/// its own line and the next one.
struct Suppressions {
    /// One code named by a suppression comment, with where it is written.
    struct Entry {
        /// The code, uppercased.
        let code: String
        /// The code's text inside the comment.
        let range: SourceRange
    }

    private var codesByLine: [Int: Set<String>] = [:]
    /// Every code named by a suppression comment, in file order.
    private(set) var entries: [Entry] = []

    /// Finds the suppression comments in a file's text.
    init(source: SourceText) {
        let marker = Array("oml-lint:".utf8)
        let bytes = source.bytes
        guard bytes.count >= marker.count else { return }
        var line = 1
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
            } else if byte == UInt8(ascii: "#"), index == lineStart || Self.isSpace(bytes[index - 1]) {
                var cursor = index + 1
                while cursor < bytes.count, Self.isSpace(bytes[cursor]) { cursor += 1 }
                if bytes[cursor...].starts(with: marker) {
                    cursor += marker.count
                    while cursor < bytes.count, Self.isSpace(bytes[cursor]) { cursor += 1 }
                    let disable = Array("disable=".utf8)
                    if bytes[cursor...].starts(with: disable) {
                        cursor += disable.count
                        var codes = Set<String>()
                        var current: [UInt8] = []
                        var currentStart = cursor
                        func flush() {
                            guard !current.isEmpty else { return }
                            let code = String(decoding: current, as: UTF8.self).uppercased()
                            codes.insert(code)
                            // Columns count Unicode scalars, so measure the line's text before the code.
                            let column = String(decoding: bytes[lineStart..<currentStart], as: UTF8.self).unicodeScalars.count + 1
                            entries.append(Entry(code: code, range: SourceRange(
                                start: SourcePosition(line: line, column: column),
                                end: SourcePosition(line: line, column: column + current.count))))
                        }
                        while cursor < bytes.count {
                            let character = bytes[cursor]
                            if Self.isCodeCharacter(character) {
                                if current.isEmpty { currentStart = cursor }
                                current.append(character)
                            } else if character == UInt8(ascii: ",") {
                                flush()
                                current = []
                            } else {
                                break
                            }
                            cursor += 1
                        }
                        flush()
                        codesByLine[line, default: []].formUnion(codes)
                        codesByLine[line + 1, default: []].formUnion(codes)
                    }
                }
                // The rest of the line is comment.
                while index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "\n") { index += 1 }
            }
            index += 1
        }
    }

    /// Whether a finding with `code` on `line` is silenced.
    func silences(code: String, line: Int) -> Bool {
        codesByLine[line]?.contains(code) ?? false
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func isCodeCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
