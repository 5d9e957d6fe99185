import OsirisCore

/// OML014: the pipeline name is null, not a string, or blank.
struct InvalidPipelineName: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML014", name: "InvalidPipelineName", defaultSeverity: .error,
        summary: "name missing its value, not a string, or blank",
        documentation: """
            `name` names the pipeline in manifests, events and run directories, so it must be a \
            non-blank string. The finding points at the value (at the key when the value is missing).
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        guard let pair = context.document.entry("name") else { return }
        let node = pair.value
        if let scalar = node.scalar, scalar.value == .null {
            findings.append(finding(context, at: pair.key.range, "name has no value", help: "give the pipeline a name such as 'orders-to-csv'"))
        } else if let name = node.string {
            if name.allSatisfy(\.isWhitespace) {
                findings.append(finding(context, at: node.range, "name is blank", help: "give the pipeline a name such as 'orders-to-csv'"))
            }
        } else {
            findings.append(finding(context, at: node.range, "name must be a string, not \(withArticle(node.kindName))"))
        }
    }
}
