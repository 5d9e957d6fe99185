/// Renders one SARIF 2.1.0 log for the whole run, with rule metadata for every rule of the tool,
/// so code-scanning services can show the documentation next to each finding.
public struct SARIFRenderer: DiagnosticRenderer {
    private let toolName: String
    private let toolVersion: String
    private let rules: [RuleDescriptor]
    private let ruleIndex: [String: Int]
    private var results: [JSONValue] = []

    /// A SARIF renderer for a tool and its rules.
    public init(toolName: String, toolVersion: String, rules: [RuleDescriptor]) {
        self.toolName = toolName
        self.toolVersion = toolVersion
        self.rules = rules
        var index: [String: Int] = [:]
        for (position, rule) in rules.enumerated() { index[rule.code] = position }
        ruleIndex = index
    }

    private static func level(_ severity: Severity) -> JSONValue {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }

    private static func region(_ range: SourceRange) -> JSONValue {
        [
            "startLine": .int(range.start.line), "startColumn": .int(range.start.column),
            "endLine": .int(range.end.line), "endColumn": .int(range.end.column),
        ]
    }

    public mutating func render(_ diagnostics: [Diagnostic], source: SourceText?) -> [UInt8] {
        for diagnostic in diagnostics {
            var text = diagnostic.message
            if let help = diagnostic.help { text += " (help: \(help))" }
            var result: [String: JSONValue] = [
                "ruleId": .string(diagnostic.code),
                "level": Self.level(diagnostic.severity),
                "message": ["text": .string(text)],
                "locations": [[
                    "physicalLocation": [
                        "artifactLocation": ["uri": .string(uri(diagnostic.file))],
                        "region": Self.region(diagnostic.range),
                    ],
                ]],
            ]
            if let index = ruleIndex[diagnostic.code] { result["ruleIndex"] = .int(index) }
            let related = diagnostic.notes.enumerated().compactMap { (offset, note) -> JSONValue? in
                guard let range = note.range else { return nil }
                return [
                    "id": .int(offset),
                    "message": ["text": .string(note.message)],
                    "physicalLocation": [
                        "artifactLocation": ["uri": .string(uri(note.file ?? diagnostic.file))],
                        "region": Self.region(range),
                    ],
                ]
            }
            if !related.isEmpty { result["relatedLocations"] = .array(related) }
            results.append(.object(result))
        }
        return []
    }

    private static let hexDigits = Array("0123456789ABCDEF")

    /// SARIF wants URIs: relative paths stay relative (to the working directory), spaces and
    /// other reserved characters are percent-encoded.
    private func uri(_ path: String) -> String {
        var output = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                output.append(Character(UnicodeScalar(byte)))
            default:
                output += "%\(Self.hexDigits[Int(byte >> 4)])\(Self.hexDigits[Int(byte & 0xf)])"
            }
        }
        return output
    }

    public mutating func finish(summary: DiagnosticSummary) -> [UInt8] {
        let ruleObjects: [JSONValue] = rules.map { rule in
            [
                "id": .string(rule.code),
                "name": .string(rule.name),
                "shortDescription": ["text": .string(rule.summary)],
                "fullDescription": ["text": .string(rule.documentation)],
                "help": ["text": .string(rule.documentation)],
                "defaultConfiguration": ["level": Self.level(rule.defaultSeverity)],
            ]
        }
        let log: JSONValue = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": [
                    "name": .string(toolName),
                    "version": .string(toolVersion),
                    "rules": .array(ruleObjects),
                ]],
                "columnKind": "unicodeCodePoints",
                "results": .array(results),
            ]],
        ]
        return JSONWriter.line(log)
    }
}
