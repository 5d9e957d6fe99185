import OsirisCore

/// OML015: the pipeline name is not lowercase-hyphenated.
struct PipelineNameConvention: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML015", name: "PipelineNameConvention", defaultSeverity: .warning,
        summary: "name not lowercase-hyphenated",
        documentation: """
            Pipeline names are used in file and directory names, so by convention they are lowercase \
            letters and digits separated by single hyphens, such as `nightly-export`.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        guard let node = context.document.entry("name")?.value, let name = node.string,
              !name.allSatisfy(\.isWhitespace), !isConventional(name)
        else { return }
        findings.append(finding(
            context, at: node.range, "name '\(name)' is not lowercase-hyphenated", help: "use '\(slug(name))'"))
    }

    /// Lowercase letters and digits in groups joined by single hyphens.
    static func isConventional(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last, first != "-", last != "-" else { return false }
        var previousHyphen = false
        for scalar in name.unicodeScalars {
            if scalar == "-" {
                if previousHyphen { return false }
                previousHyphen = true
            } else if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") {
                previousHyphen = false
            } else {
                return false
            }
        }
        return true
    }

    /// The name lowercased with every run of other characters turned into one hyphen.
    static func slug(_ name: String, separator: Character = "-") -> String {
        var result = ""
        for character in name.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                result.append(character)
            } else if let last = result.last, last != separator {
                result.append(separator)
            }
        }
        while result.last == separator { result.removeLast() }
        return result.isEmpty ? "pipeline" : result
    }
}
