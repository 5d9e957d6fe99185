/// Renders diagnostics for people, clang style:
///
/// ```
/// shop.oml:11:13: error: needs names unknown step 'extrct' [OML104]
///    11 |     needs: [extrct]
///       |             ^~~~~~
///       = help: did you mean 'extract'?
/// ```
public struct TextRenderer: DiagnosticRenderer {
    private let useColor: Bool

    /// A text renderer; `useColor` adds ANSI colours.
    public init(useColor: Bool) { self.useColor = useColor }

    private func paint(_ text: String, _ code: String) -> String {
        useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func severityLabel(_ severity: Severity) -> String {
        switch severity {
        case .error: paint("error", "1;31")
        case .warning: paint("warning", "1;35")
        case .note: paint("note", "1;36")
        }
    }

    public mutating func render(_ diagnostics: [Diagnostic], source: SourceText?) -> [UInt8] {
        var output = ""
        for diagnostic in diagnostics {
            output += renderOne(diagnostic, source: source)
        }
        return Array(output.utf8)
    }

    /// The text of one diagnostic, with its source excerpt, notes and help, ending in a newline.
    public func renderOne(_ diagnostic: Diagnostic, source: SourceText?) -> String {
        let start = diagnostic.range.start
        var output = paint("\(diagnostic.file):\(start.line):\(start.column):", "1")
        output += " \(severityLabel(diagnostic.severity)): \(paint(diagnostic.message, "1")) [\(diagnostic.code)]\n"
        let gutterWidth = String(start.line).count + 1
        if let line = source?.line(start.line).map(Self.printable) {
            let gutter = String(repeating: " ", count: gutterWidth)
            output += paint(" \(leftPad(String(start.line), gutterWidth)) |", "1;34") + " \(line)\n"
            output += paint(" \(gutter) |", "1;34") + " " + paint(marker(for: diagnostic.range, line: line), "1;32") + "\n"
        }
        for note in diagnostic.notes {
            var location = ""
            if let range = note.range {
                location = "\(note.file ?? diagnostic.file):\(range.start.line):\(range.start.column): "
            }
            output += String(repeating: " ", count: gutterWidth + 2) + "= \(paint("note", "1;36")): \(location)\(note.message)\n"
        }
        if let help = diagnostic.help {
            output += String(repeating: " ", count: gutterWidth + 2) + "= \(paint("help", "1;36")): \(help)\n"
        }
        return output
    }

    /// The line with control characters shown as U+FFFD, so binary input cannot drive the terminal.
    static func printable(_ line: String) -> String {
        guard line.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else { return line }
        return String(String.UnicodeScalarView(line.unicodeScalars.map { scalar in
            (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F ? "\u{FFFD}" : scalar
        }))
    }

    private func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// A caret under the first character of the range and tildes under the rest of it on that line;
    /// tabs are kept so the marker lines up with the quoted source.
    private func marker(for range: SourceRange, line: String) -> String {
        let scalars = Array(line.unicodeScalars)
        let startIndex = max(0, min(range.start.column - 1, scalars.count))
        var endIndex = range.end.line == range.start.line ? range.end.column - 1 : scalars.count
        endIndex = max(startIndex + 1, min(endIndex, scalars.count))
        var result = ""
        for index in 0..<startIndex {
            result += scalars[index] == "\t" ? "\t" : " "
        }
        result += "^"
        if endIndex - startIndex > 1 { result += String(repeating: "~", count: endIndex - startIndex - 1) }
        return result
    }

    public mutating func finish(summary: DiagnosticSummary) -> [UInt8] {
        guard summary.errors + summary.warnings > 0 else { return [] }
        var parts: [String] = []
        if summary.errors > 0 { parts.append(summary.errors == 1 ? "1 error" : "\(summary.errors) errors") }
        if summary.warnings > 0 { parts.append(summary.warnings == 1 ? "1 warning" : "\(summary.warnings) warnings") }
        let files = summary.files == 1 ? "1 file" : "\(summary.files) files"
        return Array("\(parts.joined(separator: " and ")) in \(files)\n".utf8)
    }
}
