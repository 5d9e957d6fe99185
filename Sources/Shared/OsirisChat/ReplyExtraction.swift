import OsirisCore
import OsirisHTTP
import OsirisYAML

/// What a model's reply holds: an OML draft, a clarifying question, or neither.
public enum ReplyContent: Sendable, Equatable {
    /// An OML document, normalised (tabs in indentation expanded, `oml_version` added when missing).
    case draft(String)
    /// A question to the user.
    case question(String)
    /// Neither: prose without a document.
    case nothing
}

/// Finds the OML in a model's reply. Small models wrap it in prose, in one or several fences
/// (``` or ~~~, with or without a `yaml` tag), indent with tabs, or forget `oml_version`; this takes
/// the first candidate that parses as a YAML mapping with `steps` (or a legacy `tasks`, which lint
/// then explains) and leaves everything else to lint.
public enum ReplyExtractor {
    /// The content of `reply`.
    public static func extract(_ reply: String) -> ReplyContent {
        // Structured output: the pipeline as one JSON object, written out as YAML (JSON is YAML, so
        // nothing is lost, and the findings then point at the lines the user will read).
        for candidate in [reply.trimmingSpaces] + candidates(reply).map(\.trimmingSpaces) where candidate.hasPrefix("{") {
            if let json = try? JSONParser.parse(escapingControlCharacters(Array(candidate.utf8))), let object = json.objectValue,
                object["steps"] != nil || object["tasks"] != nil
            {
                return .draft(completed(YAMLEmitter.document(json)))
            }
        }
        for candidate in candidates(reply) {
            let normalized = normalize(candidate)
            if isOML(normalized) { return .draft(completed(normalized)) }
        }
        if let question = question(in: reply) { return .question(question) }
        return .nothing
    }

    /// `json` with raw control characters inside strings written as `\u00XX` escapes. The grammars
    /// llama.cpp builds from a JSON schema let a string hold a raw line break, which JSON forbids; a
    /// small model writes one when it runs on in a string.
    static func escapingControlCharacters(_ json: [UInt8]) -> [UInt8] {
        guard json.contains(where: { $0 < 0x20 }) else { return json }
        var result: [UInt8] = []
        result.reserveCapacity(json.count)
        var inString = false, escaped = false
        let hex = Array("0123456789abcdef".utf8)
        for byte in json {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                } else if byte < 0x20 {
                    result += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                    continue
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            }
            result.append(byte)
        }
        return result
    }

    /// Fenced blocks in order, then the bare text from the first line that starts an OML document.
    static func candidates(_ reply: String) -> [String] {
        let lines = reply.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        var result: [String] = []
        var fence: String? = nil
        var current: [String] = []
        for line in lines {
            let trimmed = line.trimmingSpaces
            if let open = fence {
                if trimmed.hasPrefix(open) && trimmed.allSatisfy({ $0 == open.first }) {
                    result.append(current.joined(separator: "\n"))
                    current = []
                    fence = nil
                } else {
                    current.append(line)
                }
            } else if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                fence = String(trimmed.prefix(3))
            }
        }
        if fence != nil, !current.isEmpty { result.append(current.joined(separator: "\n")) }  // an unclosed fence
        // Bare YAML: from the first top-level OML key to the end, then without trailing prose.
        let starts = ["oml_version:", "name:", "steps:", "description:", "---"]
        if let first = lines.firstIndex(where: { line in starts.contains { line.hasPrefix($0) } }) {
            var body = Array(lines[first...]).filter { !$0.hasPrefix("```") && !$0.hasPrefix("~~~") }
            result.append(body.joined(separator: "\n"))
            // Prose after the document: drop trailing lines that are neither indented nor keys.
            while let last = body.last, !last.isEmpty, !last.hasPrefix(" "), !last.hasPrefix("-"), !last.hasPrefix("\t"),
                !last.contains(":") || last.contains(". ") || last.hasSuffix(".")
            {
                body.removeLast()
            }
            result.append(body.joined(separator: "\n"))
        }
        return result
    }

    /// Tabs in indentation become two spaces each (YAML forbids tabs there); a leading `---` and
    /// trailing `...` markers go.
    static func normalize(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var indent = ""
            var rest = Substring(line)
            while let first = rest.first, first == " " || first == "\t" {
                indent += first == "\t" ? "  " : " "
                rest = rest.dropFirst()
            }
            return indent + rest
        }
        while let first = lines.first, first.trimmingSpaces.isEmpty || first.trimmingSpaces == "---" { lines.removeFirst() }
        while let last = lines.last, last.trimmingSpaces.isEmpty || last.trimmingSpaces == "..." { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whether `text` parses as a YAML mapping with `steps` or a legacy `tasks`.
    static func isOML(_ text: String) -> Bool {
        guard let document = try? YAMLParser.parse(text), let root = document.root, root.mapping != nil else { return false }
        return root["steps"] != nil || root["tasks"] != nil
    }

    /// `text` with `oml_version: "0.1.0"` first when it has none.
    static func completed(_ text: String) -> String {
        guard let document = try? YAMLParser.parse(text), let root = document.root, root["oml_version"] == nil,
            root["version"] == nil
        else { return text }
        return "oml_version: \"0.1.0\"\n" + text
    }

    /// A question in the reply: a line starting `QUESTION:`, else a short reply ending in `?`.
    static func question(in reply: String) -> String? {
        let lines = reply.split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        if let line = lines.first(where: { $0.uppercased().hasPrefix("QUESTION:") }) {
            return String(line.dropFirst("QUESTION:".count)).trimmingSpaces
        }
        if let last = lines.last, last.hasSuffix("?"), lines.count <= 4 { return lines.joined(separator: " ") }
        return nil
    }
}
